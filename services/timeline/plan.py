"""Answers the improvement plan's queries by replaying an incident's events, as the timeline
does: its findings, and its corrective actions as they stand."""

from __future__ import annotations

from schemas import subjects
from schemas.commands import ErrorCode, Reply
from schemas.events import IncidentLogged
from schemas.improvement import GetCorrectiveActions, GetFindings, ImprovementPlan
from schemas.principals import Principal
from services.core import access
from services.core.access import Action, Target
from services.core.errors import Refused
from services.core.eventstore import Stored
from services.core.improvement import improvement_plan
from services.core.rpc import ok
from services.core.runtime import Runtime


async def plan_of(rt: Runtime, incident_id: str, principal: Principal) -> ImprovementPlan:
    """The plan, if the principal may read the incident's review (Refused if not, or if there
    is no such incident)."""
    reader = access.reader_of(principal, rt.roster)
    stored = await rt.store.history(subjects.incident_events(incident_id))
    events = [s.event for s in stored if isinstance(s, Stored)]
    logged = next((e for e in events if isinstance(e, IncidentLogged)), None)
    exercise = logged is not None and logged.exercise
    access.require(access.decide(reader, Action.READ_REVIEW, Target(exercise=exercise)))
    if logged is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {incident_id}")
    return improvement_plan(incident_id, events)


async def get_findings(rt: Runtime, query: GetFindings, principal: Principal) -> Reply:
    plan = await plan_of(rt, query.incident_id, principal)
    return ok(plan.findings, changed=False)


async def get_actions(rt: Runtime, query: GetCorrectiveActions, principal: Principal) -> Reply:
    plan = await plan_of(rt, query.incident_id, principal)
    return ok(plan.actions, changed=False)
