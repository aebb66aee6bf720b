"""The record key: an Ed25519 pair like the principal key (services.core.assertions), kept apart
from it so that a service holding one cannot forge with the other."""

from __future__ import annotations

from services.core.assertions import (
    Signer,
    Verifier,
    create_key_pair,
    read_signer,
    read_verifier,
)
from services.core.settings import Settings


def record_signer(settings: Settings, *, create: bool) -> Signer | None:
    """The key that seals appends, or None when this service has none. `pathways up`
    (`create`) makes the pair in its data directory the first time."""
    if create and settings.record_key_file is None:
        create_key_pair(settings.record_key_path, settings.record_public_key_path)
    if not settings.record_key_path.exists():
        return None
    return read_signer(settings.record_key_path)


def record_verifier(settings: Settings) -> Verifier:
    """The key that checks seals: the public key, or the private key's public half."""
    if settings.record_public_key_file is None and not settings.record_public_key_path.exists():
        return read_signer(settings.record_key_path).verifier
    return read_verifier(settings.record_public_key_path)
