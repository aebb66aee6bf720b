"""How a person is reached: an ordered list of channels, each tried after its delay."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from schemas.base import Contract

MAX_ADDRESS_LENGTH = 2048


class ChannelKind(StrEnum):
    INBOX = "inbox"  # the in-app inbox; it needs no address
    EMAIL = "email"
    WEBHOOK = "webhook"  # a signed POST (Standard Webhooks) to a partner organisation's system
    APPRISE = "apprise"  # anything Apprise reaches: Teams, Slack, SMS gateways, Signal, ...


_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_APPRISE = re.compile(r"^[a-z][a-z0-9+.-]*://\S+$")
_ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]{0,127}$")


def invalid(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose message is exactly `message` (no "Value error," prefix; braces
    in it are not read as placeholders)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def is_email_address(text: str) -> bool:
    return bool(_EMAIL.match(text))


def address_problem(kind: ChannelKind, address: str | None) -> str | None:
    """Why an address does not suit its kind of channel, None when it does."""
    if kind is ChannelKind.INBOX:
        return None if address is None else "an inbox channel has no address"
    if address is None:
        return f"an {kind.value} channel needs an address"
    if kind is ChannelKind.EMAIL and not is_email_address(address):
        return "expected an email address such as name@example.org"
    if kind is ChannelKind.WEBHOOK:
        parts = urlsplit(address)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            return "expected an http(s) URL such as https://partner.example.org/pathways"
    if kind is ChannelKind.APPRISE and not _APPRISE.match(address):
        return "expected an Apprise URL such as mailto://user@example.org or tgram://TOKEN/CHAT"
    return None


class Channel(Contract):
    kind: ChannelKind
    address: str | None = Field(
        default=None,
        max_length=MAX_ADDRESS_LENGTH,
        validate_default=True,  # so a missing address is reported for the kinds that need one
        description="Email address, webhook URL or Apprise URL; none for the inbox",
    )
    after: timedelta | None = Field(
        default=None,
        description="ISO 8601 duration, e.g. PT10M: used only if the person has not "
        "acknowledged this long after the first channel; none: at once",
    )
    secret_env: str | None = Field(
        default=None,
        description="Webhooks: the environment variable holding the signing secret (its name, "
        "never the secret)",
    )

    @field_validator("address")
    @classmethod
    def _address_suits_kind(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        problem = address_problem(kind, value) if kind is not None else None
        if problem is not None:
            raise invalid("channel_address", problem)
        return value

    @field_validator("after")
    @classmethod
    def _not_negative(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value < timedelta(0):
            raise invalid("channel_after", "expected a duration of zero or more")
        return value

    @field_validator("secret_env")
    @classmethod
    def _names_a_variable(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        if info.data.get("kind") is not ChannelKind.WEBHOOK:
            raise invalid("channel_secret", "only a webhook channel has a signing secret")
        if not _ENV_NAME.match(value):
            raise invalid(
                "channel_secret",
                "expected the name of an environment variable, such as HARBOR_WEBHOOK_SECRET "
                "(never the secret itself)",
            )
        return value
