"""Cancelling a playbook run triggered by mistake: its open tasks are cancelled and its pending
follow-ups removed, so nothing of it fires later, and the incident is free for another playbook
(whose run gets task keys of its own, services.engine.runs.run_key)."""

from __future__ import annotations

import contextlib

from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.commands import CancelPlaybook, ErrorCode, Reply
from schemas.events import PlaybookCancelled, PlaybookTriggered
from schemas.principals import Principal
from schemas.replies import PlaybookCancelledResult
from services.core.access import Action
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.logging import get_logger
from services.core.rpc import ok
from services.core.runtime import Runtime
from services.engine import runs
from services.engine.closing import cancel_task, require_command_staff
from services.engine.commands import ATTEMPTS
from services.engine.runstate import is_closed, latest
from services.engine.tasks import load_run

log = get_logger(__name__)


def _reply(event: PlaybookCancelled, cancelled: int | None) -> PlaybookCancelledResult:
    return PlaybookCancelledResult(
        incident_id=event.incident_id,
        playbook_id=event.playbook_id,
        run=event.run,
        cancelled_by=event.actor,
        cancelled_tasks=cancelled,
    )


async def cancel_playbook(rt: Runtime, command: CancelPlaybook, principal: Principal) -> Reply:
    incident_id = command.incident_id
    await require_command_staff(rt, principal, incident_id, Action.CANCEL_PLAYBOOK)
    if await is_closed(rt, incident_id):
        raise Refused(
            ErrorCode.INVALID_TRANSITION,
            f"incident {incident_id} is closed: its response has ended, nothing is left to cancel",
        )
    for _ in range(ATTEMPTS):
        last = await latest(rt, incident_id)
        if last is None:
            raise Refused(ErrorCode.NOT_FOUND, f"no playbook has been triggered on {incident_id}")
        if isinstance(last.event, PlaybookCancelled):
            return ok(_reply(last.event, None), changed=False)
        run = await load_run(rt, incident_id)
        assert run is not None  # a run's other events follow its trigger
        event = PlaybookCancelled(
            event_id=f"{incident_id}.playbook.cancelled{runs.suffix(run.run)}",
            incident_id=incident_id,
            actor=command.actor,
            at=utc_now(),
            playbook_id=run.playbook_id,
            run=run.run,
            reason=command.reason.strip(),
        )
        try:
            # Expecting the run's last event: a fan-out cannot mark it in place afterwards.
            await rt.store.append(
                subjects.playbook_cancelled(incident_id),
                event,
                Expect(subjects.playbook_filter(incident_id), last.seq),
            )
        except ConcurrencyConflict:
            continue
        log.info("playbook_cancelled", incident_id=incident_id, playbook_id=run.playbook_id)
        # Done here so the reply can say what came of it; the reaction repeats it (harmlessly)
        # if this process dies first.
        async with rt.run_locks.hold(incident_id):
            cancelled = await wind_down_run(rt, run, command.actor)
        return ok(_reply(event, cancelled))
    raise Refused(ErrorCode.CONFLICT, f"incident {incident_id} is changing too fast; try again")


async def on_playbook_cancelled(rt: Runtime, event: PlaybookCancelled) -> None:
    run = await load_run(rt, event.incident_id, event.run)
    if run is None:
        return
    async with rt.run_locks.hold(event.incident_id):
        await wind_down_run(rt, run, event.actor)


async def wind_down_run(rt: Runtime, run: PlaybookTriggered, actor: str) -> int:
    """Remove the run's pending follow-ups and cancel its open tasks; how many this call
    cancelled. Safe to repeat, from any replica, and leaves other runs' tasks alone."""
    keys = runs.keys_of(run)
    for template in run.tasks:
        if template.follow_ups is None:
            continue
        for number in range(1, len(template.follow_ups.after) + 1):
            with contextlib.suppress(NotFoundError):
                await rt.js.purge_stream(
                    subjects.TIMERS_STREAM,
                    subject=subjects.follow_up_schedule(
                        run.incident_id, runs.follow_up_key(template.key, number)
                    ),
                )
    existing = {
        subject.split(".")[4]
        for subject in await rt.store.subjects(subjects.incident_tasks(run.incident_id))
    }
    for key in sorted(existing & keys):  # their reminders and escalation steps
        with contextlib.suppress(NotFoundError):
            await rt.js.purge_stream(
                subjects.TIMERS_STREAM,
                subject=subjects.task_deadline_schedules(run.incident_id, key),
            )
    cancelled = 0
    for key in sorted(existing & keys):
        task_id = task_id_for(run.incident_id, key)
        cancelled += await cancel_task(rt, task_id, actor, "playbook_cancelled", run.run)
    log.info("run_wound_down", incident_id=run.incident_id, run=run.run, cancelled=cancelled)
    return cancelled
