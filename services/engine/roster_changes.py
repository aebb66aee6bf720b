"""Tasks nobody could take are offered again when that may have changed:

- a roster version is put in force (under it: a role may have a holder now);
- someone is recorded away or back (under each run's pinned roster: who is available changed);
- every reconciler sweep (services.engine.reconcile), for what changes without an event: an
  away period or an on-call shift ending, a task completed below someone's capacity.

One engine replica reacts to each change (durable consumers on the roster bucket's keys);
offering is the same step as after a decline (services.engine.lifecycle.reassign), appended
with the task's expected sequence, so a redelivery or a race with a claim changes nothing
twice."""

from __future__ import annotations

from pydantic import ValidationError

from schemas.base import split_task_id, utc_now
from schemas.enums import TaskStatus
from schemas.roster import Roster
from schemas.roster_versions import RosterVersion
from schemas.subjects import INDEX_BUCKET
from services.core import indexes, listing
from services.core.errors import Unprocessable
from services.core.eventstore import ConcurrencyConflict
from services.core.live_roster import roster_for
from services.core.logging import get_logger
from services.core.roster_store import read_current
from services.core.runtime import Runtime
from services.engine import lifecycle, runs
from services.engine.commands import ATTEMPTS
from services.engine.rostering import offer_order
from services.engine.runstate import is_over
from services.engine.tasks import append_task_event, load_run, load_task

log = get_logger(__name__)


async def on_roster_loaded(rt: Runtime, body: bytes, seq: int) -> None:
    try:
        loaded = RosterVersion.model_validate_json(body, extra="ignore")
    except ValidationError:
        raise Unprocessable(f"seq {seq}: not a roster version record") from None
    current = await read_current(rt.rosters)
    if current is None or current.version != loaded.version:
        return  # another version followed it: that one's turn will come
    roster = await roster_for(rt, loaded.version)
    await offer_all_again(rt, roster, f"roster {loaded.version} loaded")


async def on_away_changed(rt: Runtime, body: bytes, seq: int) -> None:
    await offer_all_again(rt, None, "away periods changed")


async def offer_all_again(rt: Runtime, roster: Roster | None, why: str) -> int:
    """Offer every unassigned task again: under `roster`, or (None) its run's pinned roster.
    How many were given to someone."""
    offered = 0
    for task_id in await unassigned_tasks(rt):
        offered += await offer_again(rt, task_id, roster, why)
    if offered:
        log.info("unassigned_offered", why=why, assigned=offered)
    return offered


async def unassigned_tasks(rt: Runtime) -> list[str]:
    """Tasks in the pool with nobody to take them, as the assignee index lists them."""
    found = await listing.keys(rt.nc, INDEX_BUCKET, indexes.assignee_prefix(indexes.NOBODY) + ">")
    return [indexes.task_of_assignee_key(key)[1] for key in found]


async def offer_again(rt: Runtime, task_id: str, roster: Roster | None, why: str) -> int:
    """Give an unassigned task to whoever `roster` (None: its run's) allows now, if anyone;
    1 if it was given."""
    for _ in range(ATTEMPTS):
        loaded = await load_task(rt.store, task_id)
        if loaded is None or loaded.task.status is not TaskStatus.UNASSIGNED:
            return 0
        task = loaded.task
        run = await load_run(rt, split_task_id(task_id)[0], task.run)
        template = runs.template_of(run, task.follow_up_of or task.key) if run else None
        if run is None or template is None or await is_over(rt, run):
            return 0
        people = await offer_order(rt, run, task, template, roster)
        assigned = lifecycle.reassign(task, people, utc_now())
        if assigned is None:
            return 0
        try:
            await append_task_event(rt.store, assigned, loaded.seq)
        except ConcurrencyConflict:
            continue
        log.info("task_reassigned", task_id=task_id, cause=why)
        return 1
    raise RuntimeError(f"could not offer {task_id} again")
