"""An incident's improvement plan, read from its events: the findings of its after-action review
in the order they were recorded, and each corrective action as it stands now. Pure."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.enums import TaskStatus
from schemas.events import (
    AnyEvent,
    FindingAdded,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskEvent,
)
from schemas.improvement import CorrectiveAction, Finding, ImprovementPlan


def finding_of(event: FindingAdded) -> Finding:
    return Finding(
        finding_id=event.finding_id,
        incident_id=event.incident_id,
        kind=event.kind,
        text=event.text,
        family=event.family,
        phase=event.phase,
        recorded_by=event.actor,
        recorded_at=event.at,
    )


def _given(event: TaskCreated) -> CorrectiveAction:
    task = event.task
    assert task.assignee is not None  # a corrective action is created with its owner
    return CorrectiveAction(
        task_id=task.task_id,
        incident_id=task.incident_id,
        text=task.title,
        owner=task.assignee,
        given_to=task.assignee,
        given_by=event.actor,
        given_at=event.at,
        due_by=task.due_by,
        status=task.status,
    )


def _moved(action: CorrectiveAction, event: TaskEvent) -> CorrectiveAction:
    task = event.task
    update: dict[str, object] = {
        "owner": task.assignee,
        "due_by": task.due_by,
        "status": task.status,
        "note": task.note,
    }
    if isinstance(event, TaskEscalated):
        update["escalations"] = action.escalations + 1
    if isinstance(event, TaskCompleted) and task.status is TaskStatus.COMPLETED:
        update["completed_at"] = event.at
    return action.model_copy(update=update)


def improvement_plan(incident_id: str, events: Iterable[AnyEvent]) -> ImprovementPlan:
    """The plan as the events, in stream order, leave it."""
    findings: list[Finding] = []
    actions: dict[str, CorrectiveAction] = {}
    for event in events:
        # Task events first: they are most of a long incident's, and few of them are actions.
        if isinstance(event, TaskEvent):
            if not event.task.corrective_action:
                continue
            task_id = event.task.task_id
            if isinstance(event, TaskCreated):
                actions.setdefault(task_id, _given(event))
            elif task_id in actions:
                actions[task_id] = _moved(actions[task_id], event)
        elif isinstance(event, FindingAdded):
            findings.append(finding_of(event))
    return ImprovementPlan(
        incident_id=incident_id, findings=tuple(findings), actions=tuple(actions.values())
    )
