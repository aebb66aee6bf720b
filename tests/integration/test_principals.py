"""Who is asking is what the signed principal says, never what the request says: requests without
one, or with one that was forged, expired or made for another request, are refused; and the
access policy answers for every request."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nats.aio.client import Client
from pydantic import BaseModel

from schemas import subjects
from schemas.base import incident_id_for
from schemas.commands import ErrorCode, GetIncident, ListInbox, LogIncident, Reply
from schemas.principals import AccessRole, Principal, Via
from schemas.roster_commands import GetRoster
from services.core.assertions import HEADER, key_pair_in
from services.core.runtime import Runtime
from tests.integration.conftest import Caller
from tests.integration.helpers import log_incident
from tests.support import AUDITOR, request_id, signing

COMMAND = Principal(account="renee.alvarez", person="renee.alvarez", via=Via.TOKEN)
RESPONDER = Principal(account="aisha.grant", person="aisha.grant", via=Via.TOKEN)


def an_incident(actor: str = "renee.alvarez") -> LogIncident:
    return LogIncident(
        request_id=request_id(), actor=actor, incident_type="drill-manual", title="Drill"
    )


async def send(
    nc: Client, subject: str, request: BaseModel, headers: dict[str, str] | None
) -> Reply:
    msg = await nc.request(subject, request.model_dump_json().encode(), 10, headers=headers)
    return Reply.model_validate_json(msg.data)


def signed(
    principal: Principal, subject: str, request: BaseModel, now: float | None = None
) -> dict[str, str]:
    body = request.model_dump_json().encode()
    return {HEADER: signing()[0].assertion(principal, subject, body, now)}


async def refused(reply: Reply, code: ErrorCode, *fragments: str) -> None:
    assert not reply.ok and reply.error is not None, reply
    assert reply.error.code is code, reply.error
    for fragment in fragments:
        assert fragment in reply.error.message, reply.error.message


async def test_a_request_without_a_trusted_principal_is_refused(
    nc: Client, runtime: Runtime, tmp_path: Path
) -> None:
    subject, command = subjects.CMD_INCIDENT_LOG, an_incident()
    forger, _ = key_pair_in(tmp_path)
    forged = {HEADER: forger.assertion(COMMAND, subject, command.model_dump_json().encode())}
    other = an_incident()
    cases = {
        "none": None,
        "garbage": {HEADER: "v1.bm90.aGVsbG8"},
        "forged": forged,
        "expired": signed(COMMAND, subject, command, now=time.time() - 60),
        "another subject": signed(COMMAND, subjects.CMD_TASK_ACT, command),
        "another body": signed(COMMAND, subject, other),
    }
    for case, headers in cases.items():
        reply = await send(nc, subject, command, headers)
        assert reply.error is not None and reply.error.code is ErrorCode.UNAUTHENTICATED, case
    never = incident_id_for(command.request_id)
    assert not await runtime.store.subjects(subjects.incident_filter(never))


async def test_the_actor_is_the_principal_whatever_the_request_says(
    nc: Client, runtime: Runtime
) -> None:
    subject = subjects.CMD_INCIDENT_LOG
    claimed = an_incident(actor="james.thornton")
    reply = await send(nc, subject, claimed, signed(COMMAND, subject, claimed))
    assert reply.ok and isinstance(reply.data, dict), reply.error
    assert reply.data["incident"]["logged_by"] == "renee.alvarez"


async def test_a_responder_may_not_log_an_incident_nor_read_the_board(
    nc: Client, caller: Caller
) -> None:
    command = an_incident(actor="aisha.grant")
    reply = await caller(subjects.CMD_INCIDENT_LOG, command)
    await refused(reply, ErrorCode.FORBIDDEN, "only command staff log an incident")
    incident_id = await log_incident(caller, "drill-manual")
    reply = await caller(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id),
                         reader="aisha.grant")  # fmt: skip
    await refused(reply, ErrorCode.FORBIDDEN, "holds no task")
    reply = await caller(subjects.QRY_INCIDENT_GET, GetIncident(incident_id=incident_id))
    assert reply.ok


async def test_an_inbox_is_read_by_its_owner_only(nc: Client, caller: Caller) -> None:
    theirs = ListInbox(person="tom.kowalski")
    reply = await caller(subjects.QRY_INBOX, theirs, reader="aisha.grant")
    await refused(reply, ErrorCode.FORBIDDEN, "only by its owner")
    reply = await caller(subjects.QRY_INBOX, ListInbox(), reader="tom.kowalski")
    assert reply.ok, reply.error


@pytest.mark.parametrize(
    ("principal", "sees_channels"),
    [
        (RESPONDER, False),
        (COMMAND, False),
        (Principal(account="olga", via=Via.TOKEN, grants=frozenset({AccessRole.REVIEWER})), False),
        (AUDITOR, True),  # granted admin
    ],
)
async def test_members_addresses_are_for_administrators(
    nc: Client, runtime: Runtime, principal: Principal, sees_channels: bool
) -> None:
    subject = subjects.QRY_ROSTER_GET
    reply = await send(nc, subject, GetRoster(), signed(principal, subject, GetRoster()))
    assert reply.ok and isinstance(reply.data, dict), reply.error
    text = str(reply.data["roster"])
    assert ("@example.org" in text) is sees_channels
    assert ("ntfy://" in text) is sees_channels
