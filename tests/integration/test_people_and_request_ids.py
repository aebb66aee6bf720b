"""People are real, and a request id means one request."""

from __future__ import annotations

import pytest

from schemas import subjects
from schemas.base import incident_id_for
from schemas.commands import ErrorCode, GetIncident, GetTimeline, LogIncident
from schemas.views import Timeline
from services.cli.output import timeline_text
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.support import request_id

pytestmark = pytest.mark.integration


def logging(rid: str, **fields: object) -> LogIncident:
    values: dict[str, object] = {
        "request_id": rid,
        "actor": "renee.alvarez",
        "incident_type": "officer-involved-shooting",
        "title": "Shooting at 5th and Main",
        **fields,
    }
    return LogIncident.model_validate(values)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"involved": ("tom.kowalsky",)}, "--involved: no roster member tom.kowalsky"),
        ({"actor": "nobody.here"}, "no roster member nobody.here"),
    ],
)
async def test_unknown_people_are_refused_naming_the_closest_and_nothing_is_stored(
    caller: Caller, runtime: Runtime, fields: dict[str, object], message: str
) -> None:
    command = logging(request_id(), **fields)
    reply = await caller(subjects.CMD_INCIDENT_LOG, command)
    assert reply.error is not None and reply.error.code is ErrorCode.INVALID_REQUEST
    assert reply.error.message.startswith(message), reply.error.message
    stored = await runtime.store.read(subjects.incident_events(incident_id_for(command.request_id)))
    assert stored == []


async def test_a_typo_in_an_involved_id_names_the_member_meant(
    caller: Caller, runtime: Runtime
) -> None:
    involved = runtime.roster.members[0].id
    typo = involved[:-1] + ("x" if involved[-1] != "x" else "y")
    reply = await caller(subjects.CMD_INCIDENT_LOG, logging(request_id(), involved=(typo,)))
    assert reply.error is not None
    assert reply.error.message == f"--involved: no roster member {typo} (did you mean {involved}?)"


async def test_a_request_id_reused_with_other_content_is_refused_naming_the_original(
    caller: Caller,
) -> None:
    rid = request_id()
    first = await caller.ok(subjects.CMD_INCIDENT_LOG, logging(rid))
    again = await caller.ok(subjects.CMD_INCIDENT_LOG, logging(rid))
    assert (first.changed, again.changed) == (True, False)
    other = await caller(subjects.CMD_INCIDENT_LOG, logging(rid, title="Another incident"))
    assert other.error is not None and other.error.code is ErrorCode.CONFLICT
    assert other.error.message.startswith(
        f"request id {rid} was already used to log {incident_id_for(rid)} "
        "(officer-involved-shooting, "
    )


async def test_the_involved_people_are_shown_with_the_incident_and_its_timeline(
    caller: Caller,
) -> None:
    reply = await caller.ok(
        subjects.CMD_INCIDENT_LOG, logging(request_id(), involved=("aisha.grant",))
    )
    assert isinstance(reply.data, dict)
    incident_id = reply.data["incident"]["incident_id"]
    shown = await caller.ok(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
    assert isinstance(shown.data, dict) and shown.data["involved"] == ["aisha.grant"]
    found = await caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
    timeline = Timeline.model_validate(found.data)
    assert "involved (never assigned): aisha.grant" in timeline_text(timeline)
