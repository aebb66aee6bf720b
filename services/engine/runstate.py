"""Where an incident's playbook runs stand. The last event on its playbook subjects says which
run is current and whether it was cancelled: each run appends `triggered`, then `in_place`, and
perhaps `cancelled`, each expecting the one before, so they never interleave with another run's.
A run that is no longer current creates, schedules and completes nothing more."""

from __future__ import annotations

from typing import cast

from schemas import subjects
from schemas.events import AnyEvent, PlaybookCancelled, PlaybookTriggered, RunInPlace
from services.core.eventstore import Stored
from services.core.runtime import Runtime


async def is_closed(rt: Runtime, incident_id: str) -> bool:
    return await rt.store.last(subjects.incident_closed(incident_id)) is not None


async def latest(rt: Runtime, incident_id: str) -> Stored[AnyEvent] | None:
    """The last event of the incident's playbook runs."""
    return await rt.store.last(subjects.playbook_filter(incident_id))


def run_number(event: AnyEvent) -> int:
    if isinstance(event, PlaybookTriggered | RunInPlace | PlaybookCancelled):
        return event.run
    return 0


def is_live(last: Stored[AnyEvent] | None, run: int) -> bool:
    """Run `run` is the latest and was not cancelled."""
    return (
        last is not None
        and not isinstance(last.event, PlaybookCancelled)
        and run_number(last.event) == run
    )


async def is_current(rt: Runtime, run: PlaybookTriggered) -> bool:
    return is_live(await latest(rt, run.incident_id), run.run)


async def is_over(rt: Runtime, run: PlaybookTriggered) -> bool:
    """Nothing more of the run is to happen: its incident closed, or the run was cancelled."""
    return await is_closed(rt, run.incident_id) or not await is_current(rt, run)


async def is_over_shared(rt: Runtime, run: PlaybookTriggered) -> bool:
    """`is_over`, for the deadline timers of a run, of which many fire together: concurrent
    asks share their reads (services.core.singleflight). A read started a moment earlier is
    good enough there: a step is written only onto the task as it is (expected sequence), a
    closed or cancelled run's tasks are closed or cancelled, and a step that lands just before
    that is wound down with its task."""
    closed = await _shared_last(rt, subjects.incident_closed(run.incident_id))
    if closed is not None:
        return True
    return not is_live(await _shared_last(rt, subjects.playbook_filter(run.incident_id)), run.run)


async def _shared_last(rt: Runtime, subject: str) -> Stored[AnyEvent] | None:
    found = await rt.shared_reads.run(subject, lambda: rt.store.last(subject))
    return cast("Stored[AnyEvent] | None", found)
