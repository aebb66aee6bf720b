"""The stream, audited against what the services acknowledged: nothing lost, nothing twice.

Every subject of the events stream must hold exactly one event in this test (no task is
declined or reassigned, so no verb happens twice to one task); every acknowledged incident
must have its trigger, every playbook task created or skipped, its follow-ups scheduled in the
timers stream; every acknowledged task command must be in the stream under its own request id,
with the task exactly as the reply gave it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import split_task_id
from schemas.commands import TaskVerb
from schemas.events import ANY_EVENT, AnyTaskEvent, PlaybookTriggered
from services.engine import runs
from tests.e2e.cluster_load import RELEASED_BY_COMPLETED, Acted, Ledger, playbook_keys

PAST = {TaskVerb.ACKNOWLEDGE: "acknowledged", TaskVerb.COMPLETE: "completed"}


async def subject_counts(js: JetStreamContext, stream: str, subject_filter: str) -> dict[str, int]:
    info = await js.stream_info(stream, subjects_filter=subject_filter)
    return dict(info.state.subjects or {})


def by_incident(counts: dict[str, int]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = defaultdict(set)
    for subject in counts:
        grouped[subject.split(".")[2]].add(subject)
    return grouped


def incident_problems(incident_id: str, have: set[str], acted_on: bool) -> list[str]:
    problems: list[str] = []
    for needed in (subjects.incident_logged(incident_id), subjects.playbook_triggered(incident_id)):
        if needed not in have:
            problems.append(f"lost: {needed}")
    tasks = [s.split(".") for s in have if s.split(".")[3] == "task"]
    firsts = [parts[4] for parts in tasks if parts[5] in ("created", "skipped")]
    missing = playbook_keys() - set(firsts)
    if missing:
        problems.append(f"lost: {incident_id} has no task {sorted(missing)}")
    if len(firsts) != len(set(firsts)):
        problems.append(f"twice: {incident_id} has a task both created and skipped")
    released = subjects.task_event(incident_id, RELEASED_BY_COMPLETED, "released")
    if acted_on and released not in have:
        problems.append(f"lost: {released} (its prerequisite was completed)")
    return problems


async def action_problems(js: JetStreamContext, acted: Acted) -> list[str]:
    incident_id, key = split_task_id(acted.task_id)
    subject = subjects.task_event(incident_id, key, PAST[acted.verb])
    try:
        msg = await js.get_msg(subjects.EVENTS_STREAM, subject=subject, direct=True)
    except NotFoundError:
        return [f"lost: {subject}, acknowledged to {acted.request_id}"]
    assert msg.data is not None
    event = ANY_EVENT.validate_json(msg.data)
    problems: list[str] = []
    expected_id = f"{acted.task_id}.{acted.verb.value}.{acted.request_id}"
    if event.event_id != expected_id:
        problems.append(f"{subject}: event {event.event_id}, acknowledged as {expected_id}")
    if not isinstance(event, AnyTaskEvent) or event.task != acted.task:
        problems.append(f"{subject}: recorded task differs from the acknowledged reply")
    return problems


async def schedule_problems(
    js: JetStreamContext, incident_id: str, have: set[str], schedules: set[str]
) -> list[str]:
    """The follow-ups of the incident's run, each scheduled once in the timers stream."""
    msg = await js.get_msg(
        subjects.EVENTS_STREAM, subject=subjects.playbook_triggered(incident_id), direct=True
    )
    assert msg.data is not None
    run = ANY_EVENT.validate_json(msg.data)
    assert isinstance(run, PlaybookTriggered)
    skipped = {s.split(".")[4] for s in have if s.endswith(".skipped")}
    expected = {
        subjects.follow_up_schedule(incident_id, runs.follow_up_key(d.parent_key, d.number))
        for d in runs.follow_ups_due(run, skipped)
    }
    # Follow-ups only: a task's reminders and escalation steps follow its state, which the
    # load changes as it goes; the escalation tests check those.
    mine = {s for s in schedules if s.split(".")[2:4] == [incident_id, "followup"]}
    return [f"lost: schedule {s}" for s in sorted(expected - mine)] + [
        f"unexpected: schedule {s}" for s in sorted(mine - expected)
    ]


async def audit(js: JetStreamContext, ledger: Ledger, also_logged: set[str]) -> list[str]:
    """Every problem found; none when nothing was lost or duplicated. `also_logged`: incidents
    logged outside the ledger (through the CLI)."""
    events = await subject_counts(js, subjects.EVENTS_STREAM, subjects.EVENTS_ALL)
    problems = [f"twice: {s} holds {n} events" for s, n in sorted(events.items()) if n != 1]
    timers = await subject_counts(js, subjects.TIMERS_STREAM, subjects.SCHEDULES_ALL)
    problems += [f"twice: {s} holds {n} schedules" for s, n in sorted(timers.items()) if n != 1]
    grouped = by_incident(events)
    unknown = set(grouped) - set(ledger.incidents) - also_logged
    problems += [f"unexpected: incident {i} was never acknowledged" for i in sorted(unknown)]
    for incident_id in sorted(set(ledger.incidents) | also_logged):
        have = grouped.get(incident_id, set())
        found = incident_problems(incident_id, have, incident_id in ledger.incidents)
        problems += found
        if not found:
            problems += await schedule_problems(js, incident_id, have, set(timers))
    for found in await asyncio.gather(*(action_problems(js, a) for a in ledger.actions)):
        problems += found
    return problems
