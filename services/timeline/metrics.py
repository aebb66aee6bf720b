"""Answers response-metrics queries from the metrics projection (`pw_metrics`): the records of
the incidents asked for, aggregated as of now. Nothing is replayed from the stream."""

from __future__ import annotations

from collections.abc import Iterable

from schemas import subjects
from schemas.base import utc_now
from schemas.commands import Reply
from schemas.metrics import FollowUpPlan, GetMetrics, MetricsReply, TaskMetricsRecord
from schemas.principals import Principal
from services.core import access, listing
from services.core.access import Action
from services.core.logging import get_logger
from services.core.metrics import aggregate, families_in
from services.core.projections import readable
from services.core.rpc import ok
from services.core.runtime import Runtime

log = get_logger(__name__)


async def _records(rt: Runtime) -> tuple[list[TaskMetricsRecord], dict[str, FollowUpPlan]]:
    keys = await listing.keys(rt.nc, subjects.METRICS_BUCKET, ">")
    found = await listing.values(rt.nc, subjects.METRICS_BUCKET, keys)
    tasks: list[TaskMetricsRecord] = []
    plans: dict[str, FollowUpPlan] = {}
    for key, value in found.items():
        if "." in key:  # a task id: INC-….<key>
            record = readable(TaskMetricsRecord, value)
            if record is not None:
                tasks.append(record)
        elif (plan := readable(FollowUpPlan, value)) is not None:
            plans[key] = plan
    return tasks, plans


def _chosen(records: Iterable[TaskMetricsRecord], query: GetMetrics) -> tuple[set[str], bool]:
    """The incidents the query asks for, newest `limit` of them; and whether more matched."""
    logged = {
        r.incident_id: r.incident_logged_at
        for r in records
        if r.incident_logged_at >= query.since
        and (query.incident_type is None or r.incident_type == query.incident_type)
        and (query.exercises or not r.exercise)
    }
    newest = sorted(logged, key=lambda i: logged[i], reverse=True)
    return set(newest[: query.limit]), len(newest) > query.limit


async def get_metrics(rt: Runtime, query: GetMetrics, principal: Principal) -> Reply:
    access.check(principal, rt.roster, Action.READ_METRICS)
    records, plans = await _records(rt)
    incidents, truncated = _chosen(records, query)
    now = utc_now()
    metrics = aggregate(
        (r for r in records if r.incident_id in incidents),
        (plans[i] for i in sorted(incidents) if i in plans),
        now,
        families_in(rt.roster),
    )
    log.info("metrics_answered", incidents=metrics.incidents, tasks=metrics.tasks)
    reply = MetricsReply(
        since=query.since,
        incident_type=query.incident_type,
        exercises=query.exercises,
        as_of=now,
        truncated=truncated,
        metrics=metrics,
    )
    return ok(reply, changed=False)
