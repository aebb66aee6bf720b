"""The record verifies: an incident run by the services is intact, and an event published
straight onto its subjects with a plain NATS client is named by `pathways timeline verify`."""

from __future__ import annotations

import asyncio
import json

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.commands import GetTimeline, TaskVerb
from schemas.views import Timeline
from services.core.record_reader import stored_record, verify_incident
from services.core.record_seal import HEADER, Fault
from tests import support
from tests.integration.conftest import Caller
from tests.integration.helpers import act, log_incident, wait_for_tasks
from tests.support import eventually

pytestmark = pytest.mark.integration

PATHWAYS = support.ROOT / ".venv" / "bin" / "pathways"


async def verify_cli(url: str, incident_id: str) -> tuple[int, str]:
    key = support.record_signing()[1]
    process = await asyncio.create_subprocess_exec(
        str(PATHWAYS),
        *("timeline", "verify", incident_id, "--nats-url", url, "--key", str(key)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_forged_event_on_the_incident_subject_is_named(
    caller: Caller, nc: Client, nats_url: str
) -> None:
    verifier = support.record_signing()[0].verifier
    incident_id = await log_incident(caller, "drill-chain")
    task = (await wait_for_tasks(caller, incident_id, 5))["family-contact"]
    await act(caller, task, TaskVerb.ACKNOWLEDGE)
    await act(caller, task, TaskVerb.COMPLETE, note="Family reached")

    record = await stored_record(nc.jetstream(), incident_id)
    assert record and all(HEADER in m.headers for m in record)  # every append is sealed
    verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
    assert verdict.intact, verdict.problem
    code, output = await verify_cli(nats_url, incident_id)
    assert code == 0, output
    assert f"{incident_id}: intact: " in output and "digest " in output

    async def timeline_names_the_digest_verify_prints() -> bool:
        reply = await caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
        shown = Timeline.model_validate(reply.data).record_digest
        verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
        return shown == verdict.digest

    await eventually(timeline_names_the_digest_verify_prints)

    # A forger with a service's NATS password publishes a task event of their own.
    genuine = next(m for m in reversed(record) if ".task." in m.subject)
    body = json.loads(genuine.body)
    body["event_id"] = f"{body['event_id']}.forged"
    answer = await nc.request(genuine.subject, json.dumps(body).encode(), timeout=5)
    forged_seq = json.loads(answer.data)["seq"]

    verdict = await verify_incident(nc.jetstream(), incident_id, verifier)
    assert verdict.problem is not None
    assert (verdict.problem.seq, verdict.problem.fault) == (forged_seq, Fault.INSERTED)
    code, output = await verify_cli(nats_url, incident_id)
    assert code == 1, output
    assert output.strip() == f"{incident_id}: {verdict.problem.line()}"
    assert f"inserted: event seq {forged_seq} ({genuine.subject})" in output
