"""Playbook runs, as pure functions: choosing a playbook, pinning it, creating its tasks,
scheduling follow-ups, and deciding what a completed task unlocks."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime
from typing import Literal

from schemas.base import task_id_for
from schemas.conditions import Value, evaluate, parse
from schemas.enums import TaskStatus
from schemas.events import (
    FollowUpDue,
    IncidentLogged,
    PlaybookTriggered,
    ResponseCompleted,
    TaskCreated,
    TaskSkipped,
)
from schemas.memo import IdentityMemo
from schemas.playbook import AttributeSpec, AttributeType, PinnedPlaybook, parse_boolean
from schemas.roster import Roster
from schemas.tasks import Anchor, TaskSnapshot, TaskTemplate
from services.engine.assignment import eligible, rotate
from services.engine.choosing import Availability, ranked

SATISFIED = (TaskStatus.COMPLETED, TaskStatus.SKIPPED)


def matching_playbooks(
    library: Iterable[PinnedPlaybook], incident: IncidentLogged
) -> list[PinnedPlaybook]:
    found = [p for p in library if p.playbook.matches(incident.incident_type, incident.severity)]
    return sorted(found, key=lambda p: p.playbook.id)


def automatic_playbook(
    library: Iterable[PinnedPlaybook], incident: IncidentLogged
) -> PinnedPlaybook | None:
    if not incident.auto_trigger:
        return None
    found = [p for p in matching_playbooks(library, incident) if p.playbook.triggers.auto]
    return found[0] if found else None


def run_key(key: str, run: int) -> str:
    """A playbook key as a task key in the incident's `run`th run. The first run keeps the
    playbook's keys; a later one (after a cancelled run) gets keys of its own, so none of its
    tasks, events or schedules is ever confused with those of the cancelled run."""
    return key if run == 1 else f"{key}-r{run}"  # fits: playbook keys are short enough


def tasks_for_run(tasks: tuple[TaskTemplate, ...], run: int) -> tuple[TaskTemplate, ...]:
    if run == 1:
        return tasks
    return tuple(
        task.model_copy(
            update={
                "key": run_key(task.key, run),
                "depends_on": tuple(run_key(k, run) for k in task.depends_on),
            }
        )
        for task in tasks
    )


def keys_of(run: PlaybookTriggered) -> set[str]:
    """Every task key the run may create: its tasks and all their follow-ups."""
    found = {task.key for task in run.tasks}
    for task in run.tasks:
        if task.follow_ups is not None:
            found |= {follow_up_key(task.key, n) for n in range(1, len(task.follow_ups.after) + 1)}
    return found


def suffix(run: int) -> str:
    """Appended to the event ids of a later run, which must differ from the first one's."""
    return "" if run == 1 else f".{run}"


def trigger(
    pinned: PinnedPlaybook,
    incident: IncidentLogged,
    *,
    how: Literal["automatic", "manual"],
    actor: str,
    now: datetime,
    run: int = 1,
    roster_version: str = "",
) -> PlaybookTriggered:
    book = pinned.playbook
    return PlaybookTriggered(
        event_id=f"{incident.incident_id}.playbook.triggered{suffix(run)}",
        incident_id=incident.incident_id,
        actor=actor,
        at=now,
        playbook_id=book.id,
        playbook_title=book.title,
        version=pinned.version,
        trigger=how,
        run=run,
        roster_version=roster_version,
        incident_logged_at=incident.at,
        attributes={
            **incident.attributes,
            "severity": incident.severity.value,
            "incident_type": incident.incident_type,
        },
        attribute_specs=book.triggers.attributes,
        involved=incident.involved,
        exercise=incident.exercise,
        time_scale=incident.time_scale,
        phases=book.phases,
        tasks=tasks_for_run(book.tasks, run),
    )


def condition_values(run: PlaybookTriggered) -> dict[str, Value | None]:
    return {
        name: _typed(raw, run.attribute_specs.get(name, AttributeSpec()))
        for name, raw in run.attributes.items()
    }


def _typed(raw: str, spec: AttributeSpec) -> Value | None:
    if spec.type is AttributeType.NUMBER:
        try:
            return float(raw)
        except ValueError:
            return None
    if spec.type is AttributeType.BOOLEAN:
        return parse_boolean(raw)
    return raw


def applies(run: PlaybookTriggered, template: TaskTemplate) -> bool:
    return template.when is None or evaluate(parse(template.when), condition_values(run))


def deadlines(
    run: PlaybookTriggered, template: TaskTemplate, anchor_time: datetime | None = None
) -> tuple[datetime | None, datetime | None]:
    """Acknowledge-by and due-by; (None, None) while the anchor is a completion yet to come."""
    if template.relative_to is Anchor.PREREQUISITES:
        if anchor_time is None:
            return None, None
        start = anchor_time
    elif template.relative_to is Anchor.PHASE:
        start = run.incident_logged_at + run.scaled(run.phase_offset(template.phase))
    else:
        start = run.incident_logged_at
    return start + run.scaled(template.acknowledge_within), start + run.scaled(template.due_within)


def assignees(
    run: PlaybookTriggered, roster: Roster, availability: Availability | None = None
) -> dict[str, str | None]:
    """Who gets each task: a rotation through the eligible holders of its role, seeded by the
    incident, so the same run always yields the same assignments (a replayed fan-out repeats
    itself exactly). With `availability`, the role's policy orders them and nobody away or at
    capacity is chosen (services.engine.choosing)."""
    chosen: dict[str, str | None] = {}
    ordinals: dict[str, int] = {}
    given: dict[str, int] = {}
    for template in run.tasks:
        people = eligible(roster, template.role, template.assignee, run.attributes, run.involved)
        ordinal = ordinals.get(template.role, 0)
        ordinals[template.role] = ordinal + 1
        seed = _seed(run.incident_id, template.role)
        if availability is None:
            chosen[template.key] = rotate(people, seed=seed, ordinal=ordinal)
            continue
        order = ranked(
            roster, template.role, people, availability, seed=seed, ordinal=ordinal, given=given
        )
        chosen[template.key] = order[0] if order else None
        if order and applies(run, template):  # a skipped task is nobody's load
            given[order[0]] = given.get(order[0], 0) + 1
    return chosen


def _seed(incident_id: str, role: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{incident_id}/{role}".encode()).digest()[:4], "big")


def instantiate(
    run: PlaybookTriggered, roster: Roster, now: datetime, availability: Availability | None = None
) -> list[TaskCreated | TaskSkipped]:
    chosen = assignees(run, roster, availability)
    events: list[TaskCreated | TaskSkipped] = []
    for template in run.tasks:
        if applies(run, template):
            events.append(_created(run, template, chosen[template.key], now))
        else:
            events.append(_skipped(run, template, now))
    return events


def _snapshot(
    run: PlaybookTriggered,
    template: TaskTemplate,
    status: TaskStatus,
    assignee: str | None,
    now: datetime,
) -> TaskSnapshot:
    acknowledge_by, due_by = deadlines(run, template)
    return TaskSnapshot(
        task_id=task_id_for(run.incident_id, template.key),
        incident_id=run.incident_id,
        key=template.key,
        run=run.run,
        title=template.title,
        role=template.role,
        phase=template.phase,
        instructions=template.instructions,
        tier=template.tier,
        required=template.required,
        depends_on=template.depends_on,
        status=status,
        assignee=assignee,
        acknowledge_by=acknowledge_by,
        due_by=due_by,
        exercise=run.exercise,
        assignment=1 if assignee else 0,
        assigned_at=now if assignee and status is TaskStatus.ASSIGNED else None,
        acknowledge_window=run.scaled(template.acknowledge_within),
        due_window=run.scaled(template.due_within),
    )


def _created(
    run: PlaybookTriggered, template: TaskTemplate, assignee: str | None, now: datetime
) -> TaskCreated:
    if template.depends_on:
        status = TaskStatus.WAITING
    else:
        status = TaskStatus.ASSIGNED if assignee else TaskStatus.UNASSIGNED
    snapshot = _snapshot(run, template, status, assignee, now)
    return TaskCreated(
        event_id=f"{snapshot.task_id}.created",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        task=snapshot,
    )


def _skipped(run: PlaybookTriggered, template: TaskTemplate, now: datetime) -> TaskSkipped:
    snapshot = _snapshot(run, template, TaskStatus.SKIPPED, None, now)
    return TaskSkipped(
        event_id=f"{snapshot.task_id}.skipped",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        task=snapshot,
        reason=f"condition not met: {template.when}",
    )


def template_of(run: PlaybookTriggered, key: str) -> TaskTemplate | None:
    return _templates(run).get(key)


def _by_key(run: PlaybookTriggered) -> dict[str, TaskTemplate]:
    return {t.key: t for t in reversed(run.tasks)}  # the first, were a key repeated


_templates: IdentityMemo[PlaybookTriggered, dict[str, TaskTemplate]] = IdentityMemo(_by_key)


def follow_ups_due(run: PlaybookTriggered, skipped: set[str]) -> list[FollowUpDue]:
    """Every follow-up of the run's tasks that apply, with the time it comes due."""
    due: list[FollowUpDue] = []
    for template in run.tasks:
        if template.follow_ups is None or template.key in skipped:
            continue
        for number, offset in enumerate(template.follow_ups.after, start=1):
            at = run.incident_logged_at + run.scaled(offset)
            due.append(
                FollowUpDue(
                    event_id=f"{run.incident_id}.{template.key}.follow-up-{number}.due",
                    incident_id=run.incident_id,
                    actor="engine",
                    at=at,
                    parent_key=template.key,
                    number=number,
                    due_at=at,
                    run=run.run,
                )
            )
    return due


def follow_up_key(parent_key: str, number: int) -> str:
    return f"{parent_key}-follow-up-{number}"


def follow_up_task(
    run: PlaybookTriggered,
    due: FollowUpDue,
    parent: TaskSnapshot | None,
    roster: Roster,
    now: datetime,
    availability: Availability | None = None,
) -> TaskCreated | None:
    """The task for a follow-up that came due. The person who did the original task keeps the
    relationship when they still can (and, with `availability`, are available); otherwise the
    role's rotation (or policy) picks someone."""
    template = template_of(run, due.parent_key)
    if template is None or template.follow_ups is None:
        return None
    follow = template.follow_ups
    people = eligible(roster, template.role, template.assignee, run.attributes, run.involved)
    seed = _seed(run.incident_id, template.role)
    if availability is None:
        assignee = (
            parent.assignee
            if parent and parent.assignee in people
            else rotate(people, seed=seed, ordinal=due.number)
        )
    else:
        order = ranked(roster, template.role, people, availability, seed=seed, ordinal=due.number)
        keeps = parent is not None and parent.assignee in order
        assignee = parent.assignee if parent and keeps else (order[0] if order else None)
    key = follow_up_key(template.key, due.number)
    snapshot = TaskSnapshot(
        task_id=task_id_for(run.incident_id, key),
        incident_id=run.incident_id,
        key=key,
        run=run.run,
        title=f"{follow.title} (follow-up {due.number} of {len(follow.after)})",
        role=template.role,
        phase=template.phase,
        instructions=follow.instructions or template.instructions,
        tier=template.tier,
        required=False,
        status=TaskStatus.ASSIGNED if assignee else TaskStatus.UNASSIGNED,
        assignee=assignee,
        acknowledge_by=due.due_at + run.scaled(follow.acknowledge_within),
        due_by=due.due_at + run.scaled(follow.due_within),
        follow_up_of=template.key,
        exercise=run.exercise,
        assignment=1 if assignee else 0,
        assigned_at=now if assignee else None,
        acknowledge_window=run.scaled(follow.acknowledge_within),
        due_window=run.scaled(follow.due_within),
    )
    return TaskCreated(
        event_id=f"{snapshot.task_id}.created",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        task=snapshot,
    )


def dependents(run: PlaybookTriggered, completed_key: str) -> list[TaskTemplate]:
    return [task for task in run.tasks if completed_key in task.depends_on]


def required_keys(run: PlaybookTriggered) -> list[str]:
    return [task.key for task in run.tasks if task.required]


def response_completed(run: PlaybookTriggered, now: datetime) -> ResponseCompleted:
    return ResponseCompleted(
        event_id=f"{run.incident_id}.response.completed{suffix(run.run)}",
        incident_id=run.incident_id,
        actor="engine",
        at=now,
        playbook_id=run.playbook_id,
        run=run.run,
        completed_tasks=len(required_keys(run)),
    )
