"""The incident summary is the same whatever order the projector folds a run's events in, and
a later run replaces an earlier, cancelled one."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from schemas.enums import IncidentStatus
from schemas.events import (
    AnyEvent,
    IncidentClosed,
    PlaybookCancelled,
    PlaybookTriggered,
    ResponseCompleted,
)
from schemas.views import IncidentSummary
from tests.unit.factories import T0, an_incident

INCIDENT = "INC-AAAAAAAA"


def triggered(run: int, playbook: str) -> PlaybookTriggered:
    return PlaybookTriggered(
        event_id=f"{INCIDENT}.playbook.triggered.{run}",
        incident_id=INCIDENT,
        actor="renee.alvarez",
        at=T0 + timedelta(minutes=10 * run),
        playbook_id=playbook,
        playbook_title=playbook,
        version="v1",
        trigger="manual",
        run=run,
        incident_logged_at=T0,
        tasks=(),
    )


def cancelled(run: int, playbook: str) -> PlaybookCancelled:
    return PlaybookCancelled(
        event_id=f"{INCIDENT}.playbook.cancelled.{run}",
        incident_id=INCIDENT,
        actor="renee.alvarez",
        at=T0 + timedelta(minutes=10 * run + 1),
        playbook_id=playbook,
        run=run,
        reason="Wrong playbook",
    )


def completed(run: int, playbook: str) -> ResponseCompleted:
    return ResponseCompleted(
        event_id=f"{INCIDENT}.response.completed.{run}",
        incident_id=INCIDENT,
        actor="engine",
        at=T0 + timedelta(minutes=10 * run + 5),
        playbook_id=playbook,
        run=run,
        completed_tasks=3,
    )


HISTORY: list[AnyEvent] = [
    triggered(1, "officer-involved-shooting"),
    completed(1, "officer-involved-shooting"),
    cancelled(1, "officer-involved-shooting"),
    triggered(2, "use-of-force-unrest"),
    completed(2, "use-of-force-unrest"),
]


def folded(events: list[AnyEvent]) -> IncidentSummary:
    summary = IncidentSummary.from_logged(an_incident())
    for event in events:
        summary = summary.after(event)
    return summary


@given(st.permutations(HISTORY))
def test_any_order_of_the_events_gives_the_same_summary(order: list[AnyEvent]) -> None:
    assert folded(order) == folded(HISTORY)


def test_the_latest_run_is_shown_and_an_earlier_ones_events_are_ignored() -> None:
    summary = folded(HISTORY)
    assert (summary.playbook_id, summary.playbook_run) == ("use-of-force-unrest", 2)
    assert summary.status is IncidentStatus.RESPONSE_COMPLETE
    assert summary.playbook_cancelled_at is None


def test_a_cancelled_run_leaves_the_incident_active_even_if_it_had_completed() -> None:
    summary = folded(HISTORY[:3])
    assert summary.status is IncidentStatus.ACTIVE
    assert (summary.playbook_id, summary.playbook_cancelled_by) == (
        "officer-involved-shooting",
        "renee.alvarez",
    )


def test_closing_wins_over_everything() -> None:
    closed = IncidentClosed(
        event_id=f"{INCIDENT}.closed",
        incident_id=INCIDENT,
        actor="renee.alvarez",
        at=T0 + timedelta(hours=2),
        reason="Over",
    )
    assert folded([closed, *HISTORY]).status is IncidentStatus.CLOSED
    assert folded([*HISTORY, closed]).status is IncidentStatus.CLOSED


def test_a_summary_stored_before_runs_were_numbered_keeps_its_playbook() -> None:
    older = folded([]).model_copy(update={"playbook_id": "officer-involved-shooting"})
    assert older.playbook_run == 0
    after = older.after(completed(1, "officer-involved-shooting"))
    assert (after.playbook_id, after.status) == (
        "officer-involved-shooting",
        IncidentStatus.RESPONSE_COMPLETE,
    )
