from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from schemas.enums import Severity, TaskStatus
from schemas.playbook import PinnedPlaybook
from schemas.playbook_validation import parse_playbook
from schemas.roster import Member, Roster
from services.engine import runs
from tests.support import FIXTURES, ROOT
from tests.unit.factories import T0, an_incident

HOLDERS = {
    "peer_support": ("tom", "aisha", "helen"),
    "victim_advocate": ("priya", "sam"),
    "community_liaison": ("dana",),
    "command_staff": ("renee",),
    "public_information": (),
}


def roster_of(holders: dict[str, tuple[str, ...]]) -> Roster:
    members = [
        Member(id=person, name=person.title(), roles=(role,), organisation="Example PD")
        for role, people in holders.items()
        for person in people
    ]
    return Roster(agency="Example PD", members=tuple(members))


ROSTER = roster_of(HOLDERS)


def pinned(path: Path) -> PinnedPlaybook:
    return parse_playbook(path.read_bytes(), str(path))


def chain() -> PinnedPlaybook:
    return pinned(FIXTURES / "playbooks" / "drill-chain.yaml")


def test_trigger_pins_the_version_and_the_whole_plan() -> None:
    book = chain()
    run = runs.trigger(book, an_incident("drill-chain"), how="manual", actor="renee", now=T0)
    assert run.version == book.version
    assert [t.key for t in run.tasks] == [t.key for t in book.playbook.tasks]
    assert run.event_id == "INC-AAAAAAAA.playbook.triggered"


def test_instantiate_creates_every_task_with_deadlines_from_the_incident() -> None:
    run = runs.trigger(chain(), an_incident("drill-chain"), how="manual", actor="r", now=T0)
    created = {e.task.key: e.task for e in runs.instantiate(run, ROSTER, T0)}
    assert set(created) == {
        "defusing",
        "debriefing",
        "family-contact",
        "listening-session",
        "review",
    }
    assert created["defusing"].acknowledge_by == T0 + timedelta(minutes=30)
    assert created["defusing"].due_by == T0 + timedelta(hours=4)
    assert created["defusing"].status is TaskStatus.ASSIGNED
    assert created["review"].status is TaskStatus.WAITING
    assert created["listening-session"].required is False


def test_assignments_rotate_within_a_role_and_repeat_exactly() -> None:
    run = runs.trigger(chain(), an_incident("drill-chain"), how="manual", actor="r", now=T0)
    first = runs.assignees(run, ROSTER)
    assert first == runs.assignees(run, ROSTER)  # a replayed fan-out assigns the same people
    assert first["defusing"] != first["debriefing"]  # two peer-support tasks, two people
    assert first["defusing"] in HOLDERS["peer_support"]


def test_role_nobody_holds_leaves_the_task_unassigned() -> None:
    run = runs.trigger(chain(), an_incident("drill-chain"), how="manual", actor="r", now=T0)
    created = {
        e.task.key: e.task
        for e in runs.instantiate(run, roster_of({**HOLDERS, "victim_advocate": ()}), T0)
    }
    assert created["family-contact"].assignee is None
    assert created["family-contact"].status is TaskStatus.UNASSIGNED


def test_automatic_playbook_respects_type_severity_and_opt_out() -> None:
    library = [chain(), pinned(FIXTURES / "playbooks" / "drill-manual.yaml")]
    incident = an_incident("drill-chain")
    chosen = runs.automatic_playbook(library, incident)
    assert chosen is not None and chosen.playbook.id == "drill-chain"
    assert [p.playbook.id for p in runs.matching_playbooks(library, incident)] == [
        "drill-chain",
        "drill-manual",
    ]
    assert (
        runs.automatic_playbook(library, incident.model_copy(update={"severity": Severity.LOW}))
        is None
    )
    assert (
        runs.automatic_playbook(library, incident.model_copy(update={"auto_trigger": False}))
        is None
    )
    assert runs.automatic_playbook(library, an_incident("drill-manual")) is None


def test_dependents_and_required_keys() -> None:
    run = runs.trigger(chain(), an_incident("drill-chain"), how="manual", actor="r", now=T0)
    assert [t.key for t in runs.dependents(run, "debriefing")] == ["review"]
    assert "listening-session" not in runs.required_keys(run)


def test_officer_involved_shooting_covers_the_three_role_families() -> None:
    book = pinned(ROOT / "playbooks" / "officer-involved-shooting.yaml").playbook
    roles = {task.role for task in book.tasks}
    assert {"community_liaison", "victim_advocate", "peer_support"} <= roles
    assert book.matches("officer-involved-shooting", Severity.HIGH)


def test_a_later_run_has_keys_and_event_ids_of_its_own() -> None:
    rich = pinned(FIXTURES / "playbooks" / "drill-rich.yaml")
    first = runs.trigger(rich, an_incident("drill-rich"), how="manual", actor="r", now=T0)
    second = runs.trigger(rich, an_incident("drill-rich"), how="manual", actor="r", now=T0, run=2)
    assert (first.run, second.run) == (1, 2)
    assert second.event_id == "INC-AAAAAAAA.playbook.triggered.2" != first.event_id
    assert [t.key for t in second.tasks] == [f"{t.key}-r2" for t in first.tasks]
    waiting = next(t for t in second.tasks if t.depends_on)
    assert waiting.depends_on == ("notification-support-r2",)
    assert runs.keys_of(first).isdisjoint(runs.keys_of(second))
    assert "notification-support-r2-follow-up-2" in runs.keys_of(second)

    created = runs.instantiate(second, ROSTER, T0)
    assert {e.task.run for e in created} == {2}
    assert all(e.event_id.split(".")[1].endswith("-r2") for e in created)
    due = runs.follow_ups_due(second, skipped=set())
    assert {d.run for d in due} == {2}
    assert runs.response_completed(second, T0).event_id.endswith(".response.completed.2")


def test_the_longest_key_a_playbook_may_use_fits_every_run_and_follow_up() -> None:
    from schemas.playbook_validation import TASK_KEY_MAX

    key = runs.follow_up_key(runs.run_key("k" * TASK_KEY_MAX, 99), 99)
    assert len(key) <= 63
