"""Accounts, API tokens and the sign-in audit record.

An account is how someone signs in; the person it is, is a roster member (none for an account
that only administers). Its id is the username. Secrets are never stored: a password only as an
argon2id hash (services/core/passwords.py), a token only as the sha256 of its secret.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Annotated

from pydantic import (
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from schemas.base import Contract, PersonId, UtcDateTime
from schemas.principals import GRANTABLE, AccessRole, Via

# A username is spelled like a roster member id, so a member's account can be their id.
Username = PersonId
TokenId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16}$")]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
# What a token is for, shown in lists: one line of at most 64 characters.
TokenName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")
]

MIN_PASSWORD_LENGTH = 12
# Long enough for any passphrase; longer is someone testing how long hashing takes.
MAX_PASSWORD_LENGTH = 1024


def password_problem(password: str) -> str | None:
    """Why a new password is refused, None when it is acceptable."""
    if not password:
        return "the password is empty"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password is {len(password)} characters; use at least {MIN_PASSWORD_LENGTH}"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password is longer than {MAX_PASSWORD_LENGTH} characters"
    return None


class OidcSubject(Contract):
    """An identity at an OpenID Connect provider that signs in as this account."""

    issuer: str = Field(min_length=1, max_length=512)
    subject: str = Field(min_length=1, max_length=255)


class Account(Contract):
    id: Username = Field(description="The username")
    person: PersonId | None = Field(
        default=None, description="The roster member this account is; none for a pure admin"
    )
    grants: frozenset[AccessRole] = Field(
        default=frozenset(),
        description="Access roles granted beyond the roster's (reviewer, admin)",
    )
    password_hash: str | None = Field(
        default=None, max_length=512, description="argon2id; none: no password sign-in"
    )
    oidc_subjects: tuple[OidcSubject, ...] = Field(default=(), max_length=16)
    disabled: bool = False
    created_at: UtcDateTime

    @field_validator("grants")
    @classmethod
    def _only_grantable(cls, grants: frozenset[AccessRole]) -> frozenset[AccessRole]:
        extra = grants - GRANTABLE
        if extra:
            names = ", ".join(sorted(extra))
            raise ValueError(f"{names} comes from the roster and cannot be granted")
        return grants


class ApiToken(Contract):
    id: TokenId
    account: Username
    name: TokenName
    secret_sha256: Sha256Hex = Field(description="sha256 of the secret; the secret is not kept")
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class SignInOutcome(StrEnum):
    OK = "ok"
    BAD_PASSWORD = "bad_password"
    UNKNOWN = "unknown"  # no such account
    DISABLED = "disabled"  # the right password for a disabled account
    THROTTLED = "throttled"  # refused unchecked: too many failures lately


def username_digest(username: str) -> str:
    """How an attempt at an unknown username is recorded: people type passwords into the
    username field, so what they typed is never stored."""
    return hashlib.sha256(username.encode()).hexdigest()


class SignInRecorded(Contract):
    """One sign-in attempt. No address, no password, no username that matched nobody."""

    account: Username | None = Field(default=None, description="The account signed in to")
    username_sha256: Sha256Hex | None = Field(
        default=None, description="For an unknown username: the sha256 of what was typed"
    )
    outcome: SignInOutcome
    via: Via
    at: UtcDateTime

    @model_validator(mode="after")
    def _one_subject(self) -> SignInRecorded:
        if (self.account is None) == (self.username_sha256 is None):
            raise ValueError("give the account or the username's sha256, not both")
        if self.outcome is SignInOutcome.UNKNOWN and self.account is not None:
            raise ValueError("an unknown username has no account")
        return self


_USERNAME: TypeAdapter[str] = TypeAdapter(Username)
_TOKEN_NAME: TypeAdapter[str] = TypeAdapter(TokenName)


def _valid(adapter: TypeAdapter[str], text: str) -> bool:
    try:
        adapter.validate_python(text)
    except ValidationError:
        return False
    return True


def is_username(text: str) -> bool:
    return _valid(_USERNAME, text)


def is_token_name(text: str) -> bool:
    return _valid(_TOKEN_NAME, text)
