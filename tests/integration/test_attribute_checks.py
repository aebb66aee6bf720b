"""An attribute that would silently make a condition false is refused before anything is
stored: unknown keys, wrong types, values outside a closed set."""

from __future__ import annotations

import pytest

from schemas import subjects
from schemas.base import incident_id_for
from schemas.commands import ErrorCode, LogIncident
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.support import request_id

pytestmark = pytest.mark.integration


def logging(incident_type: str, attributes: dict[str, str]) -> LogIncident:
    return LogIncident(
        request_id=request_id(),
        actor="renee.alvarez",
        incident_type=incident_type,
        title="Drill",
        attributes=attributes,
    )


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        (
            {"person_deceased": "Y"},
            "attribute person_deceased='Y' must be a boolean: true, yes, false, no",
        ),
        (
            {"person_deceased": "maybe"},
            "attribute person_deceased='maybe' must be a boolean: true, yes, false, no",
        ),
        (
            {"person_deceasd": "true"},
            "unknown attribute person_deceasd (did you mean person_deceased?); "
            "drill-rich takes: kind, people_hurt, person_deceased",
        ),
        ({"people_hurt": "three"}, "attribute people_hurt='three' must be a number"),
        ({"people_hurt": "nan"}, "attribute people_hurt='nan' must be a number"),
    ],
)
async def test_a_bad_attribute_is_refused_naming_it_and_nothing_is_stored(
    caller: Caller, runtime: Runtime, attributes: dict[str, str], message: str
) -> None:
    command = logging("drill-rich", attributes)
    reply = await caller(subjects.CMD_INCIDENT_LOG, command)
    assert not reply.ok and reply.error is not None
    assert (reply.error.code, reply.error.message) == (ErrorCode.INVALID_REQUEST, message)
    incident_id = incident_id_for(command.request_id)
    assert await runtime.store.read(subjects.incident_events(incident_id)) == []


async def test_a_value_outside_a_closed_set_is_refused_with_the_closest(caller: Caller) -> None:
    reply = await caller(subjects.CMD_INCIDENT_LOG, logging("drill-rich", {"kind": "bais"}))
    assert reply.error is not None
    assert reply.error.message == (
        "attribute kind='bais' is not allowed (did you mean bias?); expected one of: bias, other"
    )


@pytest.mark.parametrize(("spelling", "stored"), [("YES", "true"), ("no", "false")])
async def test_boolean_spellings_are_stored_as_true_or_false(
    caller: Caller, spelling: str, stored: str
) -> None:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG, logging("drill-rich", {"person_deceased": spelling})
    )
    assert isinstance(reply.data, dict)
    assert reply.data["incident"]["attributes"] == {"person_deceased": stored}
