"""Closing an incident: the response ends, for a real incident or an exercise. Open tasks are
cancelled and pending follow-ups removed, so nothing fires later; a timer that fires anyway
finds the incident closed and records nothing. Corrective actions of its improvement plan come
after the response and stay: their deadlines are set again after the timers are cleared."""

from __future__ import annotations

import contextlib

from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.commands import CloseIncident, ErrorCode, Reply
from schemas.events import CancelCause, IncidentClosed, IncidentLogged
from schemas.principals import Principal
from schemas.replies import IncidentClosedResult
from services.core import access
from services.core.access import Action, Target
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.logging import get_logger
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import lifecycle
from services.engine.commands import ATTEMPTS
from services.engine.escalating import keep_timers
from services.engine.tasks import append_task_event, load_task

log = get_logger(__name__)


async def require_command_staff(
    rt: Runtime, principal: Principal, incident_id: str, action: Action
) -> IncidentLogged:
    """The incident, if the principal may act on it as command staff (Refused if not, or if
    there is no such incident)."""
    logged = await rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    exercise = logged is not None and logged.event.exercise
    access.check(principal, rt.roster, action, Target(exercise=exercise))
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {incident_id}")
    return logged.event


async def close_incident(rt: Runtime, command: CloseIncident, principal: Principal) -> Reply:
    await require_command_staff(rt, principal, command.incident_id, Action.CLOSE_INCIDENT)
    event = IncidentClosed(
        event_id=f"{command.incident_id}.closed",
        incident_id=command.incident_id,
        actor=command.actor,
        at=utc_now(),
        reason=command.reason.strip(),
    )
    subject = subjects.incident_closed(command.incident_id)
    try:
        await rt.store.append(subject, event, Expect(subject, 0))
    except ConcurrencyConflict:
        found = await rt.store.last_of(subject, IncidentClosed)
        assert found is not None
        closed = IncidentClosedResult(incident_id=command.incident_id, closed_by=found.event.actor)
        return ok(closed, changed=False)
    log.info("incident_closed", incident_id=command.incident_id)
    return ok(IncidentClosedResult(incident_id=command.incident_id, closed_by=command.actor))


async def on_incident_closed(rt: Runtime, event: IncidentClosed) -> None:
    async with rt.run_locks.hold(event.incident_id):
        await wind_down(rt, event.incident_id, event.actor)


async def wind_down(rt: Runtime, incident_id: str, actor: str) -> None:
    """Cancel what is open and remove what is pending. Safe to repeat, from any replica; the
    fan-out calls it too when it finds the incident closed after creating its tasks."""
    with contextlib.suppress(NotFoundError):
        await rt.js.purge_stream(
            subjects.TIMERS_STREAM, subject=subjects.incident_schedules(incident_id)
        )
    keys = {
        subject.split(".")[4]
        for subject in await rt.store.subjects(subjects.incident_tasks(incident_id))
    }
    for key in sorted(keys):
        loaded = await load_task(rt.store, task_id_for(incident_id, key))
        if loaded is not None and loaded.task.corrective_action:
            await keep_timers(rt, incident_id, key)
        else:
            await cancel_task(rt, task_id_for(incident_id, key), actor)
    log.info("incident_wound_down", incident_id=incident_id, tasks=len(keys))


async def cancel_task(
    rt: Runtime,
    task_id: str,
    actor: str,
    cause: CancelCause = "incident_closed",
    run: int | None = None,
) -> bool:
    """Cancel the task unless it is done (or belongs to a run other than `run`); whether this
    call cancelled it."""
    for _ in range(ATTEMPTS):
        loaded = await load_task(rt.store, task_id)
        if loaded is None or (run is not None and loaded.task.run != run):
            return False
        if loaded.task.corrective_action:
            return False  # of no run, and after the response: it stays
        cancelled = lifecycle.cancel(loaded.task, utc_now(), actor, cause)
        if cancelled is None:
            return False
        try:
            await append_task_event(rt.store, cancelled, loaded.seq)
            return True
        except ConcurrencyConflict:
            continue
    raise RuntimeError(f"could not cancel {task_id}")  # redelivered by the consumer
