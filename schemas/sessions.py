"""Console sessions and failed sign-in counters, as the gateway keeps them (`pw_sessions`,
`pw_throttle`).

A session is stored under the sha256 of its id, never the id itself: a reader of the bucket
learns who is signed in, but cannot sign in as them. A counter is stored under a keyed hash of
the username or the client's address, so neither is written down.
"""

from __future__ import annotations

from pydantic import Field

from schemas.accounts import Username
from schemas.base import Contract, PersonId, UtcDateTime
from schemas.principals import AccessRole


class SessionRecord(Contract):
    account: Username
    person: PersonId | None = None
    grants: frozenset[AccessRole] = frozenset()
    created_at: UtcDateTime = Field(description="Signed in at; the session ends 12 h later")
    last_seen_at: UtcDateTime = Field(description="Last used; idle sessions end sooner")


class FailureCount(Contract):
    """Failed sign-ins counted since `since`, the start of the window they are counted in."""

    failures: int = Field(ge=0)
    since: UtcDateTime
