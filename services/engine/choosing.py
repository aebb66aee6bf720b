"""In which order the people who may take a task are offered it, by the role's assignment
policy, as a pure function.

Who *may* take it (services.engine.assignment.eligible) comes from the roster version the run
pinned. Who is *available* is read when the decision is made: someone away is never offered a
task, whatever the policy; someone at the capacity of open tasks is not offered more; the
on-call schedule is evaluated at that moment, in the roster in force.

With nobody away, no schedule and no capacity, the order starts where the rotation would
(`rotate`), so assignments are what they were before availability existed; and the same inputs
always give the same order, so a replayed fan-out repeats its choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas.availability import AwayPeriod, away_at, on_call, policy_of
from schemas.oncall import AssignmentPolicy
from schemas.roster import Roster


@dataclass(frozen=True)
class Availability:
    """What is true at the moment of a decision."""

    now: datetime
    away: tuple[AwayPeriod, ...] = ()
    schedule: Roster | None = None  # the roster in force, whose on-call schedules apply now
    loads: Mapping[str, int] = field(default_factory=dict)  # open tasks per person, when read


def capacity_of(roster: Roster, role_id: str) -> int | None:
    role = roster.role(role_id)
    return role.capacity if role is not None and role.capacity else roster.capacity


def needs_loads(roster: Roster, role_id: str, schedule: Roster | None = None) -> bool:
    """Whether choosing for this role needs each person's count of open tasks."""
    role = roster.role(role_id)
    scheduled = schedule.role(role_id) if schedule is not None else None
    least = policy_of(role, scheduled) == AssignmentPolicy.LEAST_LOADED
    return least or capacity_of(roster, role_id) is not None


def ranked(
    roster: Roster,
    role_id: str,
    people: Sequence[str],
    availability: Availability,
    *,
    seed: int = 0,
    ordinal: int = 0,
    given: Mapping[str, int] | None = None,
) -> list[str]:
    """`people`, eligible and in rotation order, in the order they are offered the task; those
    away or at capacity left out. `seed` and `ordinal` say where the rotation starts (the
    incident and how many tasks of the role came before); `given` counts tasks handed out in
    this same decision, not yet among the loads."""
    if not people:
        return []
    given = given or {}

    def load(person: str) -> int:
        return availability.loads.get(person, 0) + given.get(person, 0)

    start = (seed + ordinal) % len(people)
    in_turn = [*people[start:], *people[:start]]
    cap = capacity_of(roster, role_id)
    free = [
        p
        for p in in_turn
        if away_at(availability.away, p, availability.now) is None
        and (cap is None or load(p) < cap)
    ]
    scheduled = availability.schedule.role(role_id) if availability.schedule else None
    policy = policy_of(roster.role(role_id), scheduled)
    if policy == AssignmentPolicy.LEAST_LOADED:
        return sorted(free, key=load)  # a stable sort: equal loads keep their turn
    if policy == AssignmentPolicy.ROTATION or availability.schedule is None:
        return free
    duty = [e.person for e in on_call(availability.schedule, role_id, availability.now)]
    first = [p for p in duty if p in free]
    if len(first) > 1:  # several on call: they share the tasks, in turn
        turn = ordinal % len(first)
        first = [*first[turn:], *first[:turn]]
    return [*first, *(p for p in free if p not in first)]


def for_reassignment(
    roster: Roster,
    role_id: str,
    people: Sequence[str],
    availability: Availability,
    declined_by: Sequence[str],
) -> list[str]:
    """The holders a declined (or never assigned) task is offered to, for
    services.engine.lifecycle.reassign, which takes the next one after the last to decline:
    under the rotation policy the rotation order, the decliner kept in place; otherwise the
    policy's order with everyone who declined left out, so the first is offered it."""
    order = ranked(roster, role_id, people, availability)
    scheduled = availability.schedule.role(role_id) if availability.schedule else None
    if policy_of(roster.role(role_id), scheduled) == AssignmentPolicy.ROTATION:
        kept = set(order) | set(declined_by[-1:])
        return [p for p in people if p in kept]
    return [p for p in order if p not in declined_by]
