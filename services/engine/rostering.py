"""The roster a run's decisions use, and what is true when they are made: the version the run
pinned says who may take its tasks; who is away, on call or at capacity is read at the moment
of the decision (services.engine.choosing orders them)."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.base import utc_now
from schemas.events import PlaybookTriggered
from schemas.roster import Roster
from schemas.tasks import TaskSnapshot, TaskTemplate
from services.core.live_roster import roster_for
from services.core.roster_store import read_away
from services.core.runtime import Runtime
from services.engine.assignment import eligible
from services.engine.choosing import Availability, for_reassignment, needs_loads
from services.engine.workload import open_task_counts


async def pinned_roster(rt: Runtime, run: PlaybookTriggered) -> Roster:
    return await roster_for(rt, run.roster_version)


async def availability_now(rt: Runtime, roster: Roster, roles: Iterable[str]) -> Availability:
    """Away periods, the roster in force (for on-call schedules) and, only when a role's policy
    or capacity needs them, the open-task counts of its holders."""
    away = (await read_away(rt.rosters)).periods
    counted = {
        person
        for role in set(roles)
        if needs_loads(roster, role, rt.roster)
        for person in roster.holders(role)
    }
    loads = await open_task_counts(rt, counted) if counted else {}
    return Availability(now=utc_now(), away=away, schedule=rt.roster, loads=loads)


async def run_availability(rt: Runtime, roster: Roster, run: PlaybookTriggered) -> Availability:
    return await availability_now(rt, roster, (t.role for t in run.tasks))


async def follow_up_context(
    rt: Runtime, run: PlaybookTriggered, parent_key: str
) -> tuple[Roster, Availability]:
    """The run's pinned roster, and what is true now for the role of the follow-up's task."""
    roster = await pinned_roster(rt, run)
    roles = [t.role for t in run.tasks if t.key == parent_key]
    return roster, await availability_now(rt, roster, roles)


async def offer_order(
    rt: Runtime,
    run: PlaybookTriggered,
    task: TaskSnapshot,
    template: TaskTemplate,
    roster: Roster | None = None,
) -> list[str]:
    """Who a task nobody holds is offered to, in order (for services.engine.lifecycle.reassign):
    eligible by `roster` (default: the run's pinned version), available now."""
    roster = roster or await pinned_roster(rt, run)
    people = eligible(roster, task.role, template.assignee, run.attributes, run.involved)
    availability = await availability_now(rt, roster, [task.role])
    return for_reassignment(roster, task.role, people, availability, task.declined_by)
