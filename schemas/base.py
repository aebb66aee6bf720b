from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    StringConstraints,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import core_schema


class Contract(BaseModel):
    """Base of every contract: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


def _require_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("time must carry a timezone")
    return value.astimezone(UTC)


class _InUtc:
    """A time with its timezone, kept in UTC. A time already in UTC — every time the services
    write — is taken as it is without leaving pydantic's core; any other offset is converted.
    Replaying a long incident reads some 40,000 times, and calling Python for each was a sixth
    of reading its events."""

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        converted = core_schema.no_info_after_validator_function(_require_utc, handler(source))
        return core_schema.union_schema(
            [core_schema.datetime_schema(tz_constraint=0), converted],
            mode="left_to_right",
            custom_error_type="datetime_utc",
            custom_error_message="Input should be a date and time with its timezone, e.g. "
            "2026-11-22T09:30:00Z",
        )

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return handler(core_schema.datetime_schema())


UtcDateTime = Annotated[datetime, _InUtc]

# Ids end up as NATS subject tokens and key-value keys, so they are limited to characters that
# are safe in both (no dots, spaces or wildcards).
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
INCIDENT_ID_PATTERN = r"^INC-[0-9A-Z]{8}$"
TASK_ID_PATTERN = r"^INC-[0-9A-Z]{8}\.[a-z0-9][a-z0-9-]{0,62}$"
IncidentId = Annotated[str, StringConstraints(pattern=INCIDENT_ID_PATTERN)]
TaskId = Annotated[str, StringConstraints(pattern=TASK_ID_PATTERN)]
PersonId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,62}$")]
# Role ids are the roster's own (`victim_advocate`, `partner_clinician`); never subject tokens.
RoleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]
RequestId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{8,64}$")]

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def utc_now() -> datetime:
    return datetime.now(UTC)


def incident_id_for(request_id: str) -> str:
    """Derive the incident id from the request that logs it, so a retried request lands on the
    same incident instead of creating a second one."""
    digest = int.from_bytes(hashlib.sha256(request_id.encode()).digest()[:5], "big")
    chars = [_CROCKFORD[(digest >> shift) & 31] for shift in range(35, -1, -5)]
    return "INC-" + "".join(chars)


def task_id_for(incident_id: str, key: str) -> str:
    return f"{incident_id}.{key}"


def split_task_id(task_id: str) -> tuple[str, str]:
    incident_id, _, key = task_id.partition(".")
    return incident_id, key
