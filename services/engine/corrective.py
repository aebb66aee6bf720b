"""Corrective actions of an improvement plan, as pure functions: who may own one, when it is
due, and the task that carries it. A corrective action is a task like any other — assigned,
notified, reminded and escalated by its deadlines, acknowledged and completed with a note — that
belongs to no playbook run: closing the incident or cancelling a run leaves it standing."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from schemas.base import task_id_for
from schemas.commands import ErrorCode
from schemas.enums import TaskStatus, Tier
from schemas.events import IncidentLogged, TaskCreated
from schemas.improvement import IMPROVEMENT_PHASE, AddCorrectiveAction, action_key_for
from schemas.roster import Member, Roster
from schemas.tasks import TaskSnapshot
from services.core.errors import Refused

# The furthest ahead a corrective action may be due: a plan is reviewed within years, not ages.
FURTHEST = timedelta(days=5 * 366)
# How long an owner has to acknowledge a corrective action (scaled like any window of the
# incident); when the due date comes sooner, only the due date counts.
ACKNOWLEDGE_WITHIN = timedelta(days=3)
INSTRUCTIONS = (
    "A corrective action from the after-action review of {incident}. Acknowledge it, do it by "
    "its due date, and complete it with a note saying what was done."
)


def owner_problem(roster: Roster, person: str, involved: tuple[str, ...]) -> str | None:
    """Why `person` may not own a corrective action of the incident, None if they may: any
    active roster member not involved in the incident."""
    member = roster.member(person)
    if member is None:
        return roster.unknown_person(person)
    if not member.active:
        return f"{person} is not active on the roster"
    if person in involved:
        return f"{person} is involved in this incident"
    return None


def owner_of(roster: Roster, command: AddCorrectiveAction, involved: tuple[str, ...]) -> Member:
    problem = owner_problem(roster, command.owner, involved)
    if problem is not None:
        raise Refused(ErrorCode.INVALID_REQUEST, f"--owner: {problem}")
    member = roster.member(command.owner)
    assert member is not None
    return member


def due_time(command: AddCorrectiveAction, zone: str, now: datetime) -> datetime:
    """When the action is due: the time given, or the end of the day given in the owner's time
    zone. Refused when that has passed."""
    if command.due_by is not None:
        due = command.due_by
        shown = f"{due:%Y-%m-%d %H:%M} UTC"
    else:
        assert command.due_on is not None
        try:
            day = date.fromisoformat(command.due_on)
            due = datetime.combine(day + timedelta(days=1), time(), ZoneInfo(zone))
        except (ValueError, OverflowError):
            raise Refused(
                ErrorCode.INVALID_REQUEST, f"--due {command.due_on} is no date (YYYY-MM-DD)"
            ) from None
        shown = f"{day} (the end of that day, {zone})"
    if due <= now:
        raise Refused(
            ErrorCode.INVALID_REQUEST, f"--due {shown} has passed: give a date still to come"
        )
    if due > now + FURTHEST:
        raise Refused(ErrorCode.INVALID_REQUEST, f"--due {shown} is more than five years away")
    return due


def action_task(
    command: AddCorrectiveAction,
    incident: IncidentLogged,
    owner: Member,
    due_by: datetime,
    now: datetime,
) -> TaskCreated:
    """The task created for the action, already with its owner, in the phase
    `improvement-plan`, of the owner's first role, command tier, not required."""
    key = action_key_for(incident.incident_id, command.request_id)
    window = ACKNOWLEDGE_WITHIN * incident.time_scale
    asked = now + window < due_by
    snapshot = TaskSnapshot(
        task_id=task_id_for(incident.incident_id, key),
        incident_id=incident.incident_id,
        key=key,
        title=command.text,
        role=owner.roles[0],
        phase=IMPROVEMENT_PHASE,
        instructions=INSTRUCTIONS.format(incident=incident.incident_id),
        tier=Tier.COMMAND,
        required=False,
        status=TaskStatus.ASSIGNED,
        assignee=owner.id,
        acknowledge_by=now + window if asked else None,
        due_by=due_by,
        corrective_action=True,
        exercise=incident.exercise,
        assignment=1,
        assigned_at=now,
        acknowledge_window=window if asked else None,
        # Whole seconds: a window is shown and exchanged as an ISO 8601 duration.
        due_window=timedelta(seconds=int((due_by - now).total_seconds())),
    )
    return TaskCreated(
        event_id=f"{snapshot.task_id}.created",
        incident_id=incident.incident_id,
        actor=command.actor,
        at=now,
        task=snapshot,
    )
