"""Signed principals: how a service knows who is asking without trusting what the client says.

The gateway (and the command line, for an operator of an example roster) signs each request's
principal with an Ed25519 key; the services hold only the public key. An assertion is bound to the
subject and to a hash of the body it was made for and lives 30 seconds, so one read off the wire
cannot be replayed for another request, and a replay of the same request changes nothing (commands
carry request ids).

Why not NATS permissions alone: an embedded server has no accounts, and a leaked service password
would let anyone act as anyone. Permissions are the second layer (deploy/nats/accounts.conf).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from pydantic import ValidationError

from schemas.principals import Principal
from services.core.settings import Settings

HEADER = "Pw-Principal"
VERSION = "v1"
LIFETIME_SECONDS = 30
# Clocks of the signer and the service may differ this much.
SKEW_SECONDS = 5


class Untrusted(Exception):
    """The request's principal is missing or cannot be trusted; the reason is safe to show."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Signer:
    key: Ed25519PrivateKey

    def assertion(
        self, principal: Principal, subject: str, body: bytes, now: float | None = None
    ) -> str:
        now = int(time.time() if now is None else now)
        claims = {
            "p": principal.model_dump(mode="json", exclude_none=True),
            "s": subject,
            "b": body_digest(body),
            "iat": now,
            "exp": now + LIFETIME_SECONDS,
        }
        encoded = _b64(json.dumps(claims, separators=(",", ":")).encode())
        signature = _b64(self.key.sign(f"{VERSION}.{encoded}".encode()))
        return f"{VERSION}.{encoded}.{signature}"

    def headers(self, principal: Principal, subject: str, body: bytes) -> dict[str, str]:
        return {HEADER: self.assertion(principal, subject, body)}

    @property
    def verifier(self) -> Verifier:
        return Verifier(self.key.public_key())


@dataclass(frozen=True)
class Verifier:
    key: Ed25519PublicKey
    # Keys also accepted: while the signing key is rotated, the services trust the old and the
    # new one, so that requests signed with either pass (deploy/README.md, "Keys").
    also: tuple[Ed25519PublicKey, ...] = ()

    def verify(self, header: str | None, subject: str, body: bytes) -> Principal:
        if not header:
            raise Untrusted("not signed in: this request names no principal")
        version, _, rest = header.partition(".")
        encoded, _, signature = rest.partition(".")
        if version != VERSION or not encoded or not signature:
            raise Untrusted("the request's principal is malformed")
        try:
            self._check_signature(_unb64(signature), f"{VERSION}.{encoded}".encode())
            claims = json.loads(_unb64(encoded))
        except (InvalidSignature, binascii.Error, ValueError):
            raise Untrusted("the request's principal is not signed by this installation") from None
        return _checked(claims, subject, body)

    def made(self, signature: bytes, signed: bytes) -> bool:
        """Whether one of the keys signed `signed` with `signature`."""
        try:
            self._check_signature(signature, signed)
        except InvalidSignature:
            return False
        return True

    def _check_signature(self, signature: bytes, signed: bytes) -> None:
        """Returns when one of the keys made `signature`; raises InvalidSignature otherwise."""
        *others, last = (self.key, *self.also)
        for key in others:
            with contextlib.suppress(InvalidSignature):
                key.verify(signature, signed)
                return
        last.verify(signature, signed)


def _checked(claims: object, subject: str, body: bytes) -> Principal:
    if not isinstance(claims, dict):
        raise Untrusted("the request's principal is malformed")
    now = time.time()
    if not isinstance(claims.get("exp"), int) or claims["exp"] < now - SKEW_SECONDS:
        raise Untrusted("the request's principal has expired; send the request again")
    if not isinstance(claims.get("iat"), int) or claims["iat"] > now + SKEW_SECONDS:
        raise Untrusted("the request's principal was made in the future; check the clocks")
    if claims.get("s") != subject or claims.get("b") != body_digest(body):
        raise Untrusted("the request's principal was made for another request")
    try:
        return Principal.model_validate(claims.get("p"))
    except ValidationError:
        raise Untrusted("the request's principal is malformed") from None


# ---- key files ----------------------------------------------------------------------------


class KeyFileProblem(Exception):
    """A key file is missing, unreadable or too open; the message says which and what to do."""


def create_key_pair(private_file: Path, public_file: Path) -> None:
    """Write a new key pair unless the private key exists (two processes racing keep one)."""
    private_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(private_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = read_signer(private_file).key
    else:
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    if not public_file.exists():
        public_file.write_bytes(public)


def key_pair_in(directory: Path) -> tuple[Signer, dict[str, str]]:
    """A new key pair in `directory`, and the PATHWAYS_* settings that make a service verify
    with it and the command line sign with it (tests, benchmarks, scripted installs)."""
    private_file, public_file = directory / "principal.key", directory / "principal.pub"
    create_key_pair(private_file, public_file)
    settings = {
        "PATHWAYS_PRINCIPAL_KEY_FILE": str(private_file),
        "PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE": str(public_file),
    }
    return read_signer(private_file), settings


def installation_verifier(settings: Settings, *, create: bool) -> Verifier:
    """The key that checks principals. `pathways up` (`create`) makes the installation's key
    pair in its data directory the first time; a deployed service is given the public key."""
    if create and settings.principal_key_file is None:
        create_key_pair(settings.signing_key_path, settings.verifying_key_path)
    if settings.principal_public_key_file is None and settings.signing_key_path.exists():
        return read_signer(settings.signing_key_path).verifier
    return read_verifier(settings.verifying_key_path)


def read_signer(path: Path) -> Signer:
    data = _read(path, secret=True)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise KeyFileProblem(f"{path} is not a PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileProblem(f"{path} is not an Ed25519 private key")
    return Signer(key)


# One public key after another in a file, as `cat old.pub new.pub` makes it.
_PUBLIC_KEYS = re.compile(rb"-----BEGIN PUBLIC KEY-----.+?-----END PUBLIC KEY-----", re.DOTALL)


def read_verifier(path: Path) -> Verifier:
    """The public key in `path`, or every public key in it (a rotation's old and new keys)."""
    data = _read(path, secret=False)
    several = _PUBLIC_KEYS.findall(data)
    if len(several) > 1:
        try:
            first, *others = (_public_key(path, block) for block in several)
        except ValueError:
            raise KeyFileProblem(f"{path} holds a public key that does not parse") from None
        return Verifier(first, also=tuple(others))
    try:
        return Verifier(_public_key(path, data))
    except ValueError:
        # The private key will do too: its public half is derived from it.
        return read_signer(path).verifier


def _public_key(path: Path, pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileProblem(f"{path} is not an Ed25519 public key")
    return key


def _read(path: Path, *, secret: bool) -> bytes:
    try:
        if secret and path.stat().st_mode & 0o077:
            raise KeyFileProblem(f"{path} is readable by others; chmod 600 {path}")
        return path.read_bytes()
    except FileNotFoundError:
        raise KeyFileProblem(f"no key file at {path}") from None
    except OSError as exc:
        raise KeyFileProblem(f"cannot read {path}: {exc.strerror}") from None
