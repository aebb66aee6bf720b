"""The improvement plan's commands: a finding of the after-action review is appended once per
request (its id comes from the request id), and a corrective action becomes a task of its
incident, created once per request (its key comes from the request id too). Both are for
command staff and reviewers, on an open or a closed incident."""

from __future__ import annotations

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import ErrorCode, Reply
from schemas.events import FindingAdded, IncidentLogged
from schemas.improvement import (
    IMPROVEMENT_PHASE,
    AddCorrectiveAction,
    AddFinding,
    finding_id_for,
)
from schemas.principals import Principal
from services.core import access
from services.core.access import Action
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.improvement import finding_of
from services.core.logging import get_logger
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import corrective
from services.engine.closing import require_command_staff
from services.engine.tasks import append_task_event, load_run, require_task

log = get_logger(__name__)


async def add_finding(rt: Runtime, command: AddFinding, principal: Principal) -> Reply:
    incident = await require_command_staff(rt, principal, command.incident_id, Action.RECORD_REVIEW)
    if command.phase is not None:
        await _require_phase(rt, incident, command.phase)
    finding_id = finding_id_for(incident.incident_id, command.request_id)
    event = FindingAdded(
        event_id=f"{incident.incident_id}.finding.{finding_id}",
        incident_id=incident.incident_id,
        actor=command.actor,
        at=utc_now(),
        finding_id=finding_id,
        kind=command.kind,
        text=command.text,
        family=command.family,
        phase=command.phase,
    )
    subject = subjects.finding_added(incident.incident_id, finding_id)
    try:
        await rt.store.append(subject, event, Expect(subject, 0))
    except ConcurrencyConflict:
        found = await rt.store.last_of(subject, FindingAdded)
        assert found is not None
        return ok(finding_of(found.event), changed=False)
    log.info("finding_added", incident_id=incident.incident_id, finding_id=finding_id)
    return ok(finding_of(event))


async def _require_phase(rt: Runtime, incident: IncidentLogged, phase: str) -> None:
    """A finding's phase is one of the incident's playbook (or the improvement plan's)."""
    run = await load_run(rt, incident.incident_id)
    known = {IMPROVEMENT_PHASE}
    if run is not None:
        known |= {p.id for p in run.phases} | {t.phase for t in run.tasks if t.phase}
    if phase not in known:
        playbook = f"playbook {run.playbook_id}" if run is not None else "no playbook"
        raise Refused(
            ErrorCode.INVALID_REQUEST,
            f"--phase {phase}: {incident.incident_id} ran {playbook}, whose phases are "
            f"{', '.join(sorted(known))}",
        )


async def add_corrective_action(
    rt: Runtime, command: AddCorrectiveAction, principal: Principal
) -> Reply:
    incident = await require_command_staff(rt, principal, command.incident_id, Action.RECORD_REVIEW)
    reader = access.reader_of(principal, rt.roster)
    owner = corrective.owner_of(rt.roster, command, incident.involved)
    now = utc_now()
    due_by = corrective.due_time(command, rt.roster.time_zone_of(owner), now)
    created = corrective.action_task(command, incident, owner, due_by, now)
    try:
        await append_task_event(rt.store, created, 0)
    except ConcurrencyConflict:
        existing = await require_task(rt.store, created.task.task_id)
        return ok(access.task_view(reader, rt.roster, existing.task), changed=False)
    log.info("corrective_action_added", task_id=created.task.task_id)
    return ok(access.task_view(reader, rt.roster, created.task))
