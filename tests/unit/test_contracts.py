from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.base import UtcDateTime, incident_id_for, split_task_id, task_id_for
from schemas.commands import ErrorCode, ErrorInfo, LogIncident
from schemas.events import ANY_EVENT
from schemas.principals import Principal
from services.core.embedded import server_config
from services.core.rpc import answer, ok
from tests.support import AUDITOR
from tests.unit.factories import an_incident


def test_incident_id_is_derived_from_the_request() -> None:
    assert incident_id_for("request-1") == incident_id_for("request-1")
    assert incident_id_for("request-1") != incident_id_for("request-2")
    assert incident_id_for("request-1").startswith("INC-")


def test_task_id_round_trips() -> None:
    assert split_task_id(task_id_for("INC-AAAAAAAA", "family-contact")) == (
        "INC-AAAAAAAA",
        "family-contact",
    )


def test_events_are_frozen_and_round_trip_through_json() -> None:
    event = an_incident()
    with pytest.raises(ValidationError):
        event.title = "changed"  # type: ignore[misc]
    assert ANY_EVENT.validate_json(event.model_dump_json()) == event


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        LogIncident.model_validate(
            {
                "request_id": "abcdefgh",
                "actor": "a",
                "incident_type": "x",
                "title": "t",
                "victim_name": "never",
            }
        )


async def test_answer_turns_malformed_input_into_an_error_reply() -> None:
    async def handler(command: LogIncident, principal: Principal) -> object:
        raise AssertionError("must not be called")

    reply = await answer(b"{not json", LogIncident, handler, AUDITOR)  # type: ignore[arg-type]
    assert not reply.ok and reply.error is not None
    assert reply.error.code is ErrorCode.INVALID_REQUEST


async def test_answer_hides_internal_failures_behind_a_clear_reply() -> None:
    async def handler(command: LogIncident, principal: Principal) -> object:
        raise RuntimeError("boom")

    raw = LogIncident(
        request_id="abcdefgh", actor="a", incident_type="x", title="t"
    ).model_dump_json()
    reply = await answer(raw.encode(), LogIncident, handler, AUDITOR)  # type: ignore[arg-type]
    assert reply.error is not None and reply.error.code is ErrorCode.INTERNAL
    assert "boom" not in reply.error.message
    assert ok(ErrorInfo(code=ErrorCode.CONFLICT, message="x")).ok


def test_embedded_server_syncs_every_write(tmp_path: object) -> None:
    from pathlib import Path

    config = server_config(Path("/data"), 4333)
    assert "sync_interval: always" in config
    assert "listen: 127.0.0.1:4333" in config


def test_times_are_kept_in_utc_and_must_carry_a_timezone() -> None:
    times = TypeAdapter(UtcDateTime)
    utc = datetime(2026, 11, 22, 9, 30, tzinfo=UTC)
    assert times.validate_json('"2026-11-22T09:30:00Z"') == utc
    assert times.validate_python(utc) is utc
    for elsewhere in ('"2026-11-22T10:30:00+01:00"', '"2026-11-22T04:30:00-05:00"'):
        moved = times.validate_json(elsewhere)
        assert moved == utc and moved.utcoffset() == timedelta(0) and moved.tzinfo is UTC
    chicago = datetime(2026, 11, 22, 3, 30, tzinfo=timezone(timedelta(hours=-6)))
    assert times.validate_python(chicago).tzinfo is UTC
    for wrong in ('"2026-11-22T09:30:00"', '"yesterday"', "null"):
        with pytest.raises(ValidationError, match="a date and time with its timezone"):
            times.validate_json(wrong)
    assert times.json_schema() == {"type": "string", "format": "date-time"}
    assert (
        times.dump_json(times.validate_json('"2026-11-22T09:30:00Z"')) == b'"2026-11-22T09:30:00Z"'
    )
