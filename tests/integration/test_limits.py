"""Every limit in schemas.limits is refused by the service with one line naming the field and
the limit, before anything is stored; and a record that is somehow large still lists."""

from __future__ import annotations

import json
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import incident_id_for
from schemas.commands import ErrorCode, ListIncidents, ListTasks, LogIncident, Reply
from schemas.enums import Severity
from schemas.events import IncidentLogged
from schemas.limits import (
    ATTRIBUTE_KEY_MAX,
    ATTRIBUTE_VALUE_MAX,
    ATTRIBUTES_MAX,
    INVOLVED_MAX,
    LIST_LIMIT_MAX,
    NOTE_MAX,
    REASON_MAX,
    TITLE_MAX,
)
from schemas.replies import RawPage as Page
from services.core.rpc import RequestTooLarge, call
from services.core.runtime import Runtime
from tests import support
from tests.integration.conftest import Caller
from tests.integration.helpers import log_incident, wait_for_tasks
from tests.integration.listing_support import BASE, append
from tests.support import eventually, request_id

pytestmark = pytest.mark.integration


def incident_request(**changes: Any) -> dict[str, Any]:
    return {
        "request_id": request_id(),
        "actor": "renee.alvarez",
        "incident_type": "drill-manual",
        "title": "Limits",
        **changes,
    }


INCIDENT_CASES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "title": ({"title": "t" * (TITLE_MAX + 1)}, ["title", str(TITLE_MAX)]),
    "attribute count": (
        {"attributes": {f"k{i}": "v" for i in range(ATTRIBUTES_MAX + 1)}},
        ["attributes", str(ATTRIBUTES_MAX)],
    ),
    "attribute value": (
        {"attributes": {"family_language": "v" * (ATTRIBUTE_VALUE_MAX + 1)}},
        ["attributes.family_language", str(ATTRIBUTE_VALUE_MAX)],
    ),
    "attribute key": (
        {"attributes": {"k" * (ATTRIBUTE_KEY_MAX + 1): "v"}},
        ["attributes", str(ATTRIBUTE_KEY_MAX)],
    ),
    "involved": (
        {"involved": [f"person-{i}" for i in range(INVOLVED_MAX + 1)]},
        ["involved", str(INVOLVED_MAX)],
    ),
}


async def refused(nc: Client, subject: str, body: dict[str, Any], *fragments: str) -> None:
    msg = await support.raw_request(nc, subject, json.dumps(body).encode(), timeout=5)
    reply = Reply.model_validate_json(msg.data)
    assert not reply.ok and reply.error is not None
    assert reply.error.code is ErrorCode.INVALID_REQUEST
    assert "\n" not in reply.error.message and len(reply.error.message) < 400
    for fragment in fragments:
        assert fragment in reply.error.message, reply.error.message


@pytest.mark.parametrize("case", sorted(INCIDENT_CASES))
async def test_an_incident_past_a_limit_is_refused_and_not_stored(
    nc: Client, runtime: Runtime, case: str
) -> None:
    changes, fragments = INCIDENT_CASES[case]
    body = incident_request(**changes)
    await refused(nc, subjects.CMD_INCIDENT_LOG, body, *fragments)
    incident_id = incident_id_for(body["request_id"])
    with pytest.raises(NotFoundError):
        await runtime.js.get_msg(
            subjects.EVENTS_STREAM, subject=subjects.incident_logged(incident_id), direct=True
        )


@pytest.mark.parametrize(
    ("verb", "field", "limit"), [("complete", "note", NOTE_MAX), ("decline", "reason", REASON_MAX)]
)
async def test_a_note_or_reason_past_its_limit_is_refused_and_not_stored(
    nc: Client, caller: Caller, runtime: Runtime, verb: str, field: str, limit: int
) -> None:
    incident_id = await log_incident(caller, "drill-chain")
    task = next(iter((await wait_for_tasks(caller, incident_id, 5)).values()))
    body = {
        "request_id": request_id(),
        "actor": task.assignee,
        "verb": verb,
        "task_id": task.task_id,
        field: "x" * (limit + 1),
    }
    await refused(nc, subjects.CMD_TASK_ACT, body, field, str(limit))
    found = await runtime.store.subjects(subjects.task_filter(incident_id, task.key))
    assert all(s.endswith(".created") for s in found), found


async def test_a_page_larger_than_the_most_is_refused(nc: Client, runtime: Runtime) -> None:
    body = {"limit": LIST_LIMIT_MAX + 1}
    await refused(nc, subjects.QRY_TASK_LIST, body, "limit", str(LIST_LIMIT_MAX))
    await refused(nc, subjects.QRY_INCIDENT_LIST, body, "limit", str(LIST_LIMIT_MAX))


async def test_a_request_past_the_max_payload_is_one_error_and_never_sent(nc: Client) -> None:
    huge = LogIncident.model_construct(**incident_request(title="x" * 2_000_000))
    with pytest.raises(RequestTooLarge) as raised:
        await call(nc, subjects.CMD_INCIDENT_LOG, huge, support.caller(huge))
    assert "bytes" in str(raised.value) and "\n" not in str(raised.value)


async def _plant_incident(runtime: Runtime, title: str, value: str) -> str:
    """An incident logged as no command would allow now (as if from before the limits): the
    event goes straight to the stream, and the projector summarises and indexes it."""
    incident_id = incident_id_for(request_id())
    event = IncidentLogged(
        event_id=f"{incident_id}.logged",
        incident_id=incident_id,
        actor="renee.alvarez",
        at=BASE,
        incident_type="drill-manual",
        title=title,
        severity=Severity.LOW,
        attributes={"statement": value},
        auto_trigger=False,
    )
    await append(runtime.js, subjects.incident_logged(incident_id), event)
    return incident_id


async def _walk_incidents(caller: Caller, limit: int) -> list[Page]:
    query = ListIncidents(limit=limit)
    pages: list[Page] = []
    while True:
        msg = await support.raw_request(
            caller.nc, subjects.QRY_INCIDENT_LIST, query.model_dump_json().encode()
        )
        assert len(msg.data) <= caller.nc.max_payload
        reply = Reply.model_validate_json(msg.data)
        assert reply.ok, reply.error
        pages.append(Page.model_validate(reply.data))
        if pages[-1].next_cursor is None:
            return pages
        query = query.model_copy(update={"cursor": pages[-1].next_cursor})


async def test_a_huge_record_is_listed_trimmed_and_big_ones_split_pages(
    caller: Caller, runtime: Runtime
) -> None:
    huge = await _plant_incident(runtime, "Huge", "v" * 900_000)
    big = [await _plant_incident(runtime, "b" * 60_000, "v") for _ in range(20)]

    async def all_listed() -> dict[str, dict[str, Any]] | None:
        pages = await _walk_incidents(caller, LIST_LIMIT_MAX)
        listed = {i["incident_id"]: i for p in pages for i in p.items}
        return listed if set(big) | {huge} <= set(listed) else None

    listed = await eventually(all_listed)
    pages = await _walk_incidents(caller, LIST_LIMIT_MAX)
    assert len(listed[huge]["attributes"]["statement"]) <= ATTRIBUTE_VALUE_MAX
    assert len(listed[big[0]]["title"]) == 60_000
    assert len(pages) >= 2, "twenty 60 KB records cannot share one 1 MB reply"
    tasks = await caller.ok(subjects.QRY_TASK_LIST, ListTasks(limit=LIST_LIMIT_MAX))
    assert tasks.ok
