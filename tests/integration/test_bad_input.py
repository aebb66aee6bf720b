"""Malformed requests get an error reply, and the services keep serving."""

from __future__ import annotations

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.commands import ErrorCode, GetTimeline, ListIncidents, ListTasks, Reply
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import log_incident
from tests.support import raw_request

pytestmark = pytest.mark.integration

MALFORMED = [
    b"",
    b"not json",
    b"\xff\xfe\x00binary",
    b"[]",
    b'{"request_id": "short", "actor": "x"}',
    b'{"request_id": "abcdefgh1234", "actor": "Has Spaces", "incident_type": "x", "title": "t"}',
    b'{"unexpected": true}',
]


@pytest.mark.parametrize("payload", MALFORMED)
@pytest.mark.parametrize(
    "subject",
    [
        subjects.CMD_INCIDENT_LOG,
        subjects.CMD_TASK_ACT,
        subjects.CMD_PLAYBOOK_TRIGGER,
        subjects.QRY_TIMELINE,
        subjects.QRY_TASK_LIST,
    ],
)
async def test_malformed_payload_gets_an_invalid_request_reply(
    nc: Client, caller: Caller, subject: str, payload: bytes
) -> None:
    msg = await raw_request(nc, subject, payload, timeout=5)
    reply = Reply.model_validate_json(msg.data)
    assert not reply.ok and reply.error is not None
    assert reply.error.code is ErrorCode.INVALID_REQUEST
    assert reply.error.message


async def test_services_keep_serving_after_bad_input(nc: Client, caller: Caller) -> None:
    for payload in MALFORMED:
        await raw_request(nc, subjects.CMD_INCIDENT_LOG, payload, timeout=5)
    incident_id = await log_incident(caller, "drill-manual")
    assert incident_id.startswith("INC-")


async def test_queries_leave_no_consumers_behind(caller: Caller, runtime: Runtime) -> None:
    """Every list and timeline reads through a consumer of its own; none may outlive it."""
    incident_id = await log_incident(caller, "drill-manual")

    async def consumers() -> int:
        counts = [
            (await runtime.js.stream_info(name)).state.consumer_count
            for name in ("KV_pw_tasks", "KV_pw_incidents", "PATHWAYS_EVENTS")
        ]
        return sum(counts)

    before = await consumers()
    for _ in range(20):
        await caller.ok(subjects.QRY_TASK_LIST, ListTasks(incident_id=incident_id))
        await caller.ok(subjects.QRY_INCIDENT_LIST, ListIncidents())
        await caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
    assert await consumers() == before
