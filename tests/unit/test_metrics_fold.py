"""The metrics records as their fields are defined, taken from the set of each task's events at
once: the projector's fold, event by event in any order and with redeliveries, and the fold of
an incident's stream in order (with a redelivered event in it) both come to exactly these."""

from __future__ import annotations

import random
from collections import defaultdict

from schemas.enums import TaskStatus
from schemas.events import (
    AnyEvent,
    TaskAcknowledged,
    TaskCancelled,
    TaskCompleted,
    TaskDeclined,
    TaskEscalated,
    TaskEvent,
    TaskReminded,
    TaskSkipped,
)
from schemas.metrics import TaskMetricsRecord
from services.core.metrics_fold import IncidentFacts, fold_task, records_of
from tests.unit.test_metrics import M, event, story

FACTS = IncidentFacts("officer-involved-shooting", story()[0].at)


def stream() -> list[AnyEvent]:
    """The story, with a late acknowledgement of a task acknowledged before (under other
    deadlines), a task cancelled twice, and a redelivered reminder."""
    events = story()
    tasks = {e.task.key: e.task for e in events if isinstance(e, TaskEvent)}
    briefing = tasks["briefing"].model_copy(update={"acknowledge_by": None, "assignment": 3})
    follow_up = tasks["family-contact-follow-up-2"]
    cancelled = follow_up.model_copy(update={"status": TaskStatus.CANCELLED})
    reminder = next(e for e in events if isinstance(e, TaskReminded))
    return [
        *events,
        event(TaskAcknowledged, 300, briefing),
        event(TaskCancelled, 400, cancelled),
        event(TaskCancelled, 350, cancelled, cause="playbook_cancelled"),
        reminder,
    ]


def _first(events: list[TaskEvent], kind: type[TaskEvent]) -> TaskEvent | None:
    return min((e for e in events if isinstance(e, kind)), key=lambda e: e.at, default=None)


def _ids(events: list[TaskEvent], kind: type[TaskEvent]) -> tuple[str, ...]:
    return tuple(sorted({e.event_id for e in events if isinstance(e, kind)}))


def defined(numbered: list[tuple[int, AnyEvent]]) -> dict[str, TaskMetricsRecord]:
    """Each task's record from its events as a set (a redelivery is the same event)."""
    found: dict[str, dict[int, TaskEvent]] = defaultdict(dict)
    for seq, e in numbered:
        if isinstance(e, TaskEvent):
            found[e.task.task_id][seq] = e
    return {task_id: _record(seqs) for task_id, seqs in found.items()}


def _record(seqs: dict[int, TaskEvent]) -> TaskMetricsRecord:
    events = list(seqs.values())
    latest = max(seqs)
    task = seqs[latest].task
    acknowledged, completed = _first(events, TaskAcknowledged), _first(events, TaskCompleted)
    skipped = [e.reason for e in events if isinstance(e, TaskSkipped)]
    return TaskMetricsRecord(
        task_id=task.task_id, incident_id=task.incident_id, incident_type=FACTS.incident_type,
        incident_logged_at=FACTS.logged_at, exercise=task.exercise, key=task.key,
        title=task.title, role=task.role, phase=task.phase, tier=task.tier,
        required=task.required, follow_up_of=task.follow_up_of, seq=latest, status=task.status,
        acknowledge_by=task.acknowledge_by, acknowledge_window=task.acknowledge_window,
        due_by=task.due_by, due_window=task.due_window,
        skipped_reason=skipped[0] if skipped else None,
        created_at=min(e.at for e in events),
        first_assigned_at=min((e.task.assigned_at for e in events if e.task.assigned_at),
                              default=None),
        assignments=max(e.task.assignment for e in events),
        acknowledged_at=acknowledged.at if acknowledged else None,
        acknowledge_by_then=acknowledged.task.acknowledge_by if acknowledged else None,
        acknowledge_window_then=acknowledged.task.acknowledge_window if acknowledged else None,
        completed_at=completed.at if completed else None,
        due_by_then=completed.task.due_by if completed else None,
        due_window_then=completed.task.due_window if completed else None,
        cancelled_at=min((e.at for e in events if isinstance(e, TaskCancelled)), default=None),
        escalations=_ids(events, TaskEscalated), reminders=_ids(events, TaskReminded),
        declines=_ids(events, TaskDeclined),
    )  # fmt: skip


def _same(folded: dict[str, TaskMetricsRecord], wanted: dict[str, TaskMetricsRecord]) -> None:
    assert folded == wanted
    for task_id, record in folded.items():
        assert record.model_dump_json() == wanted[task_id].model_dump_json(), task_id


def test_the_projectors_fold_in_any_order_and_twice_gives_the_defined_records() -> None:
    numbered = list(enumerate(stream(), start=1))
    wanted = defined(numbered)
    assert wanted["INC-AAAAAAAA.briefing"].acknowledge_by_then is not None  # the first one's
    assert wanted["INC-AAAAAAAA.family-contact-follow-up-2"].cancelled_at == FACTS.logged_at + (
        350 * M
    )
    shuffler = random.Random(9)
    for _ in range(30):
        mixed = numbered + shuffler.sample(numbered, k=len(numbered) // 2)
        shuffler.shuffle(mixed)
        records: dict[str, TaskMetricsRecord] = {}
        for seq, e in mixed:
            if isinstance(e, TaskEvent):
                records[e.task.task_id] = fold_task(records.get(e.task.task_id), e, seq, FACTS)
        _same(records, wanted)


def test_the_fold_of_an_incidents_stream_gives_the_defined_records() -> None:
    events = stream()
    # The redelivered reminder has a position of its own: the latest of its task.
    numbered = list(enumerate(events, start=1))
    _same({r.task_id: r for r in records_of(events).tasks}, defined(numbered))
