"""`Idempotency-Key` on the API's POSTs: the same key sent again by the same account is the same
request, applied once.

The key becomes the internal request id, mixed with the account so that two accounts' keys never
meet, and the services already apply a request id at most once. What the request asked is hashed
and kept for a day (the idempotency bucket): the same key with something else is refused, rather
than answered with what the first request did."""

from __future__ import annotations

import base64
import hashlib
import re
import uuid

from nats.js.kv import KeyValue
from pydantic import BaseModel

from schemas.api import IdempotencyRecord
from schemas.base import utc_now
from schemas.commands import ErrorCode
from services.core.records import Records
from services.gateway.problems import ProblemException, problem

HEADER = "Idempotency-Key"
KEY_MAX = 255
# Printable ASCII, with no space at either end (a header's value would lose it).
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
# Request ids are 8–64 of [A-Za-z0-9_-] (schemas.base.RequestId): "ik" and 40 of base32.
_ID_LENGTH = 40
# What never counts as part of what was asked: who asks (the token says) and the request id.
_NOT_ASKED = frozenset({"actor", "request_id"})


def request_id_for(account: str, key: str) -> str:
    """The request id for `key` sent by `account`: the same for a retry, another for anyone
    else's identical key."""
    digest = hashlib.sha256(f"{account}\x00{key}".encode()).digest()
    return "ik" + base64.b32encode(digest).decode().rstrip("=")[:_ID_LENGTH]


def fresh_request_id() -> str:
    return uuid.uuid4().hex


def check_key(key: str) -> None:
    """RFC 9110 field values; a key is an opaque string the client chose (a UUID, usually)."""
    if len(key) > KEY_MAX or re.match(KEY_PATTERN, key) is None:
        raise ProblemException(
            problem(
                422,
                f"{HEADER} must be 1 to {KEY_MAX} printable ASCII characters (a UUID will do)",
                ErrorCode.INVALID_REQUEST,
            )
        )


def fingerprint(subject: str, request: BaseModel) -> str:
    """What was asked, without who asked or the request id."""
    asked = request.model_dump_json(exclude=set(_NOT_ASKED & set(type(request).model_fields)))
    return hashlib.sha256(f"{subject}\n{asked}".encode()).hexdigest()


async def claim(kv: KeyValue, request_id: str, asked: str) -> None:
    """Record that `request_id` asks `asked`; a ProblemException (422) if it asked something
    else before."""
    records = Records(kv)
    record = IdempotencyRecord(request_sha256=asked, at=utc_now())
    for _ in range(3):
        if await records.create(request_id, record):
            return
        found = await records.read(request_id)
        if found is None:
            continue  # expired between the two reads
        if IdempotencyRecord.model_validate_json(found[0]).request_sha256 == asked:
            return
        raise ProblemException(
            problem(
                422,
                f"this {HEADER} was used for another request in the last 24 hours; "
                "use a new key for a new request",
                ErrorCode.INVALID_REQUEST,
            )
        )
