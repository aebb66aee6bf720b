"""The improvement plan, pure: a corrective action's task (owner, role, windows, phase), its due
date, the plan read from events, the timeline's entries for it, and the command line's one-line
refusals before anything is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from schemas.enums import FindingKind, RoleFamily, TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    FindingAdded,
    TaskCompleted,
    TaskCreated,
    TaskEscalated,
    TaskNoted,
)
from schemas.improvement import IMPROVEMENT_PHASE, AddCorrectiveAction, AddFinding
from schemas.limits import FINDING_MAX
from services.cli.main import app
from services.core.errors import Refused
from services.core.improvement import improvement_plan
from services.engine import corrective
from services.timeline.render import entry
from tests.support import example_roster, free_port
from tests.unit.factories import T0, a_task, an_incident

INCIDENT = "INC-AAAAAAAA"


def an_action(**fields: object) -> AddCorrectiveAction:
    values: dict[str, object] = {
        "request_id": "request-0001", "actor": "renee.alvarez", "incident_id": INCIDENT,
        "text": "Add a Vietnamese speaker to the on-call roster", "owner": "aisha.grant",
        "due_by": T0 + timedelta(days=30),
    }  # fmt: skip
    return AddCorrectiveAction.model_validate(values | fields)


def created(command: AddCorrectiveAction, scale: float = 1.0) -> TaskCreated:
    roster = example_roster()
    owner = corrective.owner_of(roster, command, ())
    due = corrective.due_time(command, roster.time_zone_of(owner), T0)
    return corrective.action_task(command, an_incident(time_scale=scale), owner, due, T0)


def test_a_corrective_action_is_a_task_for_its_owner_due_by_the_date() -> None:
    task = created(an_action()).task
    assert (task.assignee, task.status, task.assignment, task.assigned_at) == (
        "aisha.grant", TaskStatus.ASSIGNED, 1, T0,
    )  # fmt: skip
    assert (task.role, task.phase, task.tier, task.required) == (
        "peer_support", IMPROVEMENT_PHASE, Tier.COMMAND, False,
    )  # fmt: skip
    assert task.corrective_action and task.key.startswith("action-")
    assert task.due_by == T0 + timedelta(days=30) and task.due_window == timedelta(days=30)
    assert task.acknowledge_by == T0 + timedelta(days=3)
    # The same request gives the same task; another request another one.
    assert created(an_action()).task.task_id == task.task_id
    assert created(an_action(request_id="request-0002")).task.task_id != task.task_id


def test_acknowledging_is_asked_only_when_it_comes_before_the_due_date() -> None:
    soon = created(an_action(due_by=T0 + timedelta(days=2))).task
    assert soon.acknowledge_by is None and soon.acknowledge_window is None
    scaled = created(an_action(), scale=0.01).task
    assert scaled.acknowledge_window == timedelta(days=3) * 0.01


def test_a_date_is_due_by_the_end_of_that_day_in_the_owner_s_time_zone() -> None:
    roster = example_roster()
    owner = roster.member("aisha.grant")
    assert owner is not None
    zone = roster.time_zone_of(owner)
    due = corrective.due_time(an_action(due_by=None, due_on="2026-12-01"), zone, T0)
    assert due.date().isoformat() == "2026-12-02" and due.astimezone(due.tzinfo).hour == 0
    assert str(due.tzinfo) == zone


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"due_by": T0 - timedelta(minutes=1)}, "has passed"),
        ({"due_by": None, "due_on": "2026-11-20"}, "has passed"),
        ({"due_by": None, "due_on": "2026-02-30"}, "is no date"),
        ({"due_by": T0 + timedelta(days=6 * 366)}, "more than five years"),
        ({"owner": "aisha.grnt"}, "did you mean aisha.grant"),
    ],
)
def test_a_bad_owner_or_due_date_is_one_line(fields: dict[str, object], says: str) -> None:
    with pytest.raises(Refused) as refused:
        created(an_action(**fields))
    assert says in refused.value.message and "\n" not in refused.value.message


def test_someone_involved_in_the_incident_owns_no_action() -> None:
    problem = corrective.owner_problem(example_roster(), "aisha.grant", ("aisha.grant",))
    assert problem == "aisha.grant is involved in this incident"


@pytest.mark.parametrize(
    "text", ["", "   ", "x" * (FINDING_MAX + 1), "Late\x1b[2J", "two\nlines", "rtl\u202etxt"]
)
def test_a_finding_s_text_is_one_printable_line_within_the_limit(text: str) -> None:
    with pytest.raises(ValidationError):
        AddFinding(request_id="request-0001", actor="renee.alvarez", incident_id=INCIDENT,
                   kind=FindingKind.STRENGTH, text=text)  # fmt: skip


def test_a_finding_is_about_a_family_or_a_phase_not_both() -> None:
    with pytest.raises(ValidationError, match="not both"):
        AddFinding(request_id="request-0001", actor="renee.alvarez", incident_id=INCIDENT,
                   kind=FindingKind.STRENGTH, text="Fine", family=RoleFamily.COMMAND,
                   phase="immediate")  # fmt: skip


def a_finding(number: int, kind: FindingKind, **fields: object) -> FindingAdded:
    return FindingAdded(
        event_id=f"{INCIDENT}.finding.f-{number}", incident_id=INCIDENT, actor="rev.iewer",
        at=T0 + timedelta(minutes=number), finding_id=f"f-{number}", kind=kind,
        text=f"Finding {number}", **fields,
    )  # fmt: skip


def test_the_plan_has_its_findings_in_order_and_each_action_as_it_stands() -> None:
    given = created(an_action())
    task = given.task
    escalated = TaskEscalated(
        event_id="e1", incident_id=INCIDENT, actor="engine", at=T0 + timedelta(days=31),
        task=task, deadline="due", step=1, action="remind", notify=("aisha.grant",),
    )  # fmt: skip
    done = task.model_copy(update={"status": TaskStatus.COMPLETED, "note": "Done"})
    completed = TaskCompleted(
        event_id="e2", incident_id=INCIDENT, actor="aisha.grant", at=T0 + timedelta(days=32),
        task=done,
    )  # fmt: skip
    playbook_task = TaskNoted(event_id="e3", incident_id=INCIDENT, actor="sam", at=T0,
                              task=a_task())  # fmt: skip
    events: list[AnyEvent] = [
        a_finding(2, FindingKind.IMPROVEMENT, phase="immediate"),
        given,
        playbook_task,
        a_finding(1, FindingKind.STRENGTH, family=RoleFamily.PEER_SUPPORT),
        escalated,
        completed,
    ]
    plan = improvement_plan(INCIDENT, events)
    assert [f.finding_id for f in plan.findings] == ["f-2", "f-1"]
    assert plan.findings[1].family is RoleFamily.PEER_SUPPORT
    [action] = plan.actions
    assert (action.status, action.note, action.escalations) == (TaskStatus.COMPLETED, "Done", 1)
    assert (action.given_by, action.given_to, action.owner) == (
        "renee.alvarez", "aisha.grant", "aisha.grant",
    )  # fmt: skip
    assert action.completed_at == T0 + timedelta(days=32)
    assert improvement_plan(INCIDENT, []).actions == ()


def test_the_timeline_tells_of_findings_and_actions_and_keeps_findings_for_command() -> None:
    found = entry(a_finding(1, FindingKind.IMPROVEMENT, family=RoleFamily.VICTIM_ADVOCATE), 7)
    assert found.text == "rev.iewer recorded an area for improvement (family victim_advocate)"
    assert (found.note, found.tier, found.note_by) == ("Finding 1", Tier.COMMAND, "rev.iewer")
    strength = entry(a_finding(2, FindingKind.STRENGTH, phase="immediate"), 8)
    assert strength.text == "rev.iewer recorded a strength (phase immediate)"
    assert strength.phase == "immediate"
    given = entry(created(an_action()), 9)
    assert given.text.startswith("renee.alvarez gave corrective action action-")
    assert given.text.endswith(f"to aisha.grant, due {T0 + timedelta(days=30):%Y-%m-%d %H:%M} UTC")


def _cli(*args: str) -> list[str]:
    url = f"nats://127.0.0.1:{free_port()}"  # no server: a request would fail otherwise
    result = CliRunner().invoke(app, ["review", *args, "--as", "renee.alvarez", "--nats-url", url])
    assert result.exit_code == 1, result.output
    return [line for line in result.output.splitlines() if line.strip()]


def test_the_command_line_refuses_bad_input_in_one_line_before_sending() -> None:
    finding = ["finding", "add", INCIDENT, "--kind", "strength"]
    action = ["action", "add", INCIDENT, "--text", "Fix it", "--owner", "aisha.grant"]
    assert _cli(*finding, "--text", "x" * 1001) == [
        "error: --text is too long: 1,001 characters, the limit is 1,000"
    ]
    [empty] = _cli(*finding, "--text", "  ")
    assert empty.startswith("error: invalid text") and "must not be empty" in empty
    [control] = _cli(*finding, "--text", "Late\x1b]0;x\x07")
    assert "control character (\\x1b)" in control
    [both] = _cli(*finding, "--text", "Fine", "--family", "command", "--phase", "immediate")
    assert both == "error: give --family or --phase, not both: a finding is about one of them"
    past = f"{datetime.now(UTC) - timedelta(hours=1):%Y-%m-%dT%H:%M}Z"
    assert _cli(*action, "--due", past) == [
        f"error: --due {past} has passed: give a date still to come"
    ]
    [naive] = _cli(*action, "--due", "2099-01-01T17:00")
    assert "has no time zone" in naive
    [garbled] = _cli(*action, "--due", "next week")
    assert "neither a date" in garbled
