"""One long incident for the review benchmark, written through `EventStore.append` as the
services write it: each event made by the engine's own pure functions where there is one
(`runs.trigger`, `runs.instantiate`, `runs.follow_up_task`, `lifecycle.decide`, `lifecycle.release`,
`lifecycle.reassign`, `handoffs.note`), sealed with the record key, appended with the
expectation the services send (the last sequence on the aggregate's filter).

The response: a mass-casualty incident, its library playbook triggered, its tasks created (one
skipped by its condition), follow-ups coming due as tasks of their own; then, round by round so
the tasks interleave as they would, each task is reminded, every third escalated to its
coordinators, every fourth declined and reassigned, then acknowledged, started, noted (public,
command and restricted notes in turn; restricted text sealed for its author's team as the gateway
seals it) and completed; each assignment, reminder and escalation is followed by what the notifier
records (`notice.sent`, inbox and email). A run's tasks take about 2,000 events; when they are all
done and the incident needs more, command staff cancel the run and trigger the playbook again
(run 2, 3 …), as they may. Writing stops at exactly the requested count.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Literal

from benchmarks.review_tasks import (
    COMMAND,
    DONE,
    PLAYBOOK,
    Clock,
    Item,
    Response,
    Script,
    advance,
    task_item,
)
from schemas import subjects
from schemas.base import incident_id_for, utc_now
from schemas.enums import Severity, TaskStatus
from schemas.events import (
    FollowUpDue,
    IncidentLogged,
    PlaybookCancelled,
    PlaybookTriggered,
)
from schemas.playbook import PinnedPlaybook
from schemas.roster import Roster
from schemas.tasks import TaskSnapshot
from services.core.eventstore import EventStore, Expect
from services.core.sealing import Keyring
from services.engine import runs


def logged() -> IncidentLogged:
    span = timedelta(days=120)
    return IncidentLogged(
        event_id="bench-review.logged",
        incident_id=incident_id_for("bench-review"),
        actor=COMMAND,
        at=utc_now() - span,
        incident_type="mass-casualty",
        title="Shooting at the riverside festival",
        severity=Severity.CRITICAL,
        attributes={"fatalities": "3", "injured": "12", "children_affected": "false"},
    )


def follow_ups(
    r: Response,
    run: PlaybookTriggered,
    pending: list[FollowUpDue],
    scripts: list[Script],
    parents: dict[str, TaskSnapshot],
) -> list[Item]:
    items: list[Item] = []
    incident = run.incident_id
    for due in [d for d in pending if d.due_at <= r.clock.at]:
        pending.remove(due)
        key = runs.follow_up_key(due.parent_key, due.number)
        items.append(
            (subjects.follow_up_due(incident, key), due, subjects.follow_up_filter(incident, key))
        )
        created = runs.follow_up_task(
            run, due, parents.get(due.parent_key), r.roster, r.clock.tick()
        )
        if created is not None:
            items.append(task_item(created))
            scripts.append(Script(created.task, len(scripts), stage=1))
    return items


def run_events(r: Response, number: int) -> Iterator[Item]:
    """One run of the playbook, from its trigger to its last task done (and the response
    completed), then its cancellation, which the next run needs."""
    incident = r.incident.incident_id
    how: Literal["automatic", "manual"] = "automatic" if number == 1 else "manual"
    run = runs.trigger(
        r.pinned,
        r.incident,
        how=how,
        actor=COMMAND if number > 1 else "engine",
        now=r.clock.tick(),
        run=number,
    )
    yield subjects.playbook_triggered(incident), run, subjects.playbook_filter(incident)
    scripts: list[Script] = []
    done: set[str] = set()
    for event in runs.instantiate(run, r.roster, r.clock.tick()):
        yield task_item(event)
        if event.task.status is TaskStatus.SKIPPED:
            done.add(event.task.key)
        else:
            scripts.append(Script(event.task, len(scripts)))
    pending = runs.follow_ups_due(run, done)
    while any(s.stage < DONE for s in scripts):
        stages = [(s.stage, s.notes) for s in scripts]
        for s in list(scripts):
            if s.stage < DONE:
                yield from advance(r, s, done)
        yield from follow_ups(r, run, pending, scripts, {s.task.key: s.task for s in scripts})
        if stages == [(s.stage, s.notes) for s in scripts]:
            break  # only tasks waiting on one nobody can do: the run stays open
    if set(runs.required_keys(run)) <= done:
        yield (
            subjects.response_completed(incident),
            runs.response_completed(run, r.clock.tick()),
            subjects.response_filter(incident),
        )
    cancelled = PlaybookCancelled(
        event_id=f"{incident}.playbook.cancelled.{number}",
        incident_id=incident,
        actor=COMMAND,
        at=r.clock.tick(),
        playbook_id=run.playbook_id,
        run=number,
        reason="Re-planned for the next phase of the response",
    )
    yield subjects.playbook_cancelled(incident), cancelled, subjects.playbook_filter(incident)


def incident_events(r: Response) -> Iterator[Item]:
    incident = r.incident.incident_id
    yield subjects.incident_logged(incident), r.incident, subjects.incident_filter(incident)
    for number in itertools.count(1):
        yield from run_events(r, number)


async def write_incident(
    store: EventStore, library: dict[str, PinnedPlaybook], roster: Roster, keys: Path, count: int
) -> str:
    """Append `count` events of one incident; returns its id."""
    incident = logged()
    span = utc_now() - incident.at
    r = Response(
        incident,
        library[PLAYBOOK],
        roster,
        Keyring(keys, create_missing=True),
        Clock(incident.at, span / (count + 1)),
    )
    last: dict[str, int] = {}
    for subject, event, filter_ in itertools.islice(incident_events(r), count):
        last[filter_] = await store.append(subject, event, Expect(filter_, last.get(filter_, 0)))
    return incident.incident_id
