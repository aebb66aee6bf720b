"""Console sessions, kept on the server in `pw_sessions`.

The browser holds only a random session id (32 bytes) in the cookie `__Host-pw_session`: Secure,
HttpOnly, SameSite=Lax, Path=/ and no Domain, so no script reads it, no other site's form sends
it on a POST, and no other host can set it. The bucket holds the record under the sha256 of that
id. Every sign-in gets a new id (a cookie set beforehand is never kept: no fixation); signing out
deletes the record, so the cookie is dead even if it was copied.

A session ends after `idle` unused and 12 hours after sign-in (the bucket's time to live, which
each write restarts, so the age is checked here too). Using a session writes `last_seen_at` at
most every `touch` interval, not on every request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from nats.js.kv import KeyValue
from starlette.responses import Response

from schemas.accounts import Account
from schemas.base import utc_now
from schemas.principals import Principal, Via
from schemas.sessions import SessionRecord
from services.core.records import ATTEMPTS, ChangedTooFast, Records

COOKIE = "__Host-pw_session"
SID_BYTES = 32
LONGEST = timedelta(hours=12)
_SID = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32)


def session_key(sid: str) -> str:
    return "s." + hashlib.sha256(sid.encode()).hexdigest()


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    """What a `__Host-` cookie must be (Secure, Path=/, no Domain), HttpOnly and SameSite=Lax;
    without `max_age`, the browser forgets it when it closes."""
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="lax"
    )


def delete_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="lax")


@dataclass(frozen=True)
class Session:
    sid: str
    record: SessionRecord

    def principal(self, account: Account) -> Principal:
        return Principal(
            account=account.id, person=account.person, grants=account.grants, via=Via.SESSION
        )


class SessionStore:
    def __init__(self, kv: KeyValue, idle: timedelta, longest: timedelta = LONGEST) -> None:
        self._records = Records(kv)
        self.idle = idle
        self.longest = min(longest, LONGEST)
        self.touch = min(timedelta(minutes=1), idle / 10)

    async def start(self, account: Account, now: datetime | None = None) -> Session:
        """A new session with a new id; ids are never reused or chosen by the client."""
        now = now or utc_now()
        record = SessionRecord(
            account=account.id,
            person=account.person,
            grants=account.grants,
            created_at=now,
            last_seen_at=now,
        )
        for _ in range(ATTEMPTS):  # 256 random bits: a taken id would be a broken generator
            sid = secrets.token_urlsafe(SID_BYTES)
            if await self._records.create(session_key(sid), record):
                return Session(sid, record)
        raise ChangedTooFast("no free session id found; try again")

    async def find(self, sid: str | None, now: datetime | None = None) -> Session | None:
        """The live session with this id; None for a malformed, unknown, ended or expired one
        (an expired one is deleted)."""
        if sid is None or not _SID.match(sid):
            return None
        key = session_key(sid)
        found = await self._records.read(key)
        if found is None:
            return None
        record = SessionRecord.model_validate_json(found[0])
        now = now or utc_now()
        if now - record.created_at >= self.longest or now - record.last_seen_at >= self.idle:
            await self._records.kv.delete(key)
            return None
        if now - record.last_seen_at >= self.touch:
            record = await self._seen(key, record, now)
        return Session(sid, record)

    async def _seen(self, key: str, record: SessionRecord, now: datetime) -> SessionRecord:
        def seen(current: SessionRecord) -> SessionRecord | None:
            if current.last_seen_at >= now:
                return None
            return current.model_copy(update={"last_seen_at": now})

        try:
            changed = await self._records.change(key, SessionRecord, seen)
        except ChangedTooFast:  # other requests of the same session are touching it
            return record
        return record if changed is None else changed[0]

    async def end(self, sid: str | None) -> None:
        if sid is not None and _SID.match(sid):
            await self._records.kv.delete(session_key(sid))
