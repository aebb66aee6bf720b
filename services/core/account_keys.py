"""How accounts and tokens are keyed in the accounts bucket, and what a token looks like. Pure.

A username may hold dots, which NATS reads as token separators, so in a key it is spelled with
`=` instead (no username holds one): every account is then one token of the key, and
`owner.<user>.*` lists one account's tokens and no one else's.

An API token is `pwt_<id>_<secret>`: the id says which record to check (and is shown in lists,
so it is no secret), the secret is 32 random bytes that only the sha256 of is stored.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

ACCOUNT_PREFIX = "acct."
TOKEN_PREFIX = "token."
OWNER_PREFIX = "owner."
OIDC_PREFIX = "oidc."
ACCOUNTS_FILTER = ACCOUNT_PREFIX + "*"

TOKEN_SCHEME = "pwt"
SECRET_BYTES = 32
_TOKEN_ID = re.compile(r"^[0-9a-f]{16}$")
# token_urlsafe(32) gives 43 characters; allow some slack but nothing unbounded.
_SECRET = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


def key_token(username: str) -> str:
    return username.replace(".", "=")


def username_of(token: str) -> str:
    return token.replace("=", ".")


def account_key(username: str) -> str:
    return ACCOUNT_PREFIX + key_token(username)


def token_key(token_id: str) -> str:
    return TOKEN_PREFIX + token_id


def owner_key(username: str, token_id: str) -> str:
    return f"{OWNER_PREFIX}{key_token(username)}.{token_id}"


def owner_filter(username: str) -> str:
    return f"{OWNER_PREFIX}{key_token(username)}.*"


def oidc_key(issuer: str, subject: str) -> str:
    """Which account an OpenID Connect identity signs in as (its value is the username)."""
    return OIDC_PREFIX + hashlib.sha256(f"{issuer}|{subject}".encode()).hexdigest()


def is_token_id(text: str) -> bool:
    return _TOKEN_ID.match(text) is not None


def new_token_id() -> str:
    return secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(SECRET_BYTES)


def token_string(token_id: str, secret: str) -> str:
    return f"{TOKEN_SCHEME}_{token_id}_{secret}"


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class PresentedToken:
    token_id: str
    secret: str


def parse_token(presented: str) -> PresentedToken | None:
    """The id and secret of something offered as a token; None when it cannot be one."""
    scheme, _, rest = presented.partition("_")
    token_id, _, secret = rest.partition("_")
    if scheme != TOKEN_SCHEME or not _TOKEN_ID.match(token_id) or not _SECRET.match(secret):
        return None
    return PresentedToken(token_id, secret)


def secret_matches(secret: str, stored_digest: str) -> bool:
    """Compared in constant time, so how long it takes says nothing about the stored digest."""
    return hmac.compare_digest(secret_digest(secret).encode(), stored_digest.encode())
