"""Keeps the metrics projection (`pw_metrics`) current: each task event is folded into its task's
record, each run set up, cancelled or incident closed into the incident's follow-up plan.

The folds (services/core/metrics_fold.py) give the same record whatever the order the events
arrive in and however often: counts are sets of event ids, first times are minima, the task's
current state is the one of the highest stream sequence. So a redelivered event, two replicas
folding one task's events at once (each write a compare-and-swap), or a rebuild replaying the
stream over current records, never counts anything twice."""

from __future__ import annotations

from functools import partial

from schemas import subjects
from schemas.events import AnyEvent, IncidentLogged, TaskEvent
from schemas.metrics import FollowUpPlan, TaskMetricsRecord
from services.core.metrics_fold import IncidentFacts, fold_plan, fold_task, plans_follow_ups
from services.core.projections import readable
from services.core.runtime import Runtime
from services.projector.swaps import compare_and_swap


class MetricsFacts:
    """Each incident's type and when it was logged (they never change), read once per process
    from the incident's first event."""

    LIMIT = 50_000

    def __init__(self) -> None:
        self._known: dict[str, IncidentFacts] = {}

    def remember(self, logged: IncidentLogged) -> IncidentFacts:
        if len(self._known) >= self.LIMIT:
            self._known.clear()
        facts = self._known[logged.incident_id] = IncidentFacts.of(logged)
        return facts

    async def of(self, rt: Runtime, incident_id: str) -> IncidentFacts:
        known = self._known.get(incident_id)
        if known is not None:
            return known
        found = await rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
        if found is None:
            raise LookupError(f"{incident_id} has tasks but was never logged")
        return self.remember(found.event)


def _task_change(
    event: TaskEvent, seq: int, facts: IncidentFacts, current: bytes | None
) -> bytes | None:
    # A record that cannot be read is folded afresh: `pathways admin rebuild` restores it whole.
    record = readable(TaskMetricsRecord, current)
    return fold_task(record, event, seq, facts).model_dump_json().encode()


def _plan_change(event: AnyEvent, current: bytes | None) -> bytes | None:
    plan = readable(FollowUpPlan, current)
    return fold_plan(plan, event).model_dump_json().encode()


async def project_metrics(rt: Runtime, facts: MetricsFacts, event: AnyEvent, seq: int) -> None:
    """Fold one event into the metrics projection (nothing for the events it does not count)."""
    if isinstance(event, IncidentLogged):
        facts.remember(event)
    elif isinstance(event, TaskEvent):
        known = await facts.of(rt, event.incident_id)
        await compare_and_swap(
            rt.metrics, event.task.task_id, partial(_task_change, event, seq, known)
        )
    elif plans_follow_ups(event):
        await compare_and_swap(rt.metrics, event.incident_id, partial(_plan_change, event))
