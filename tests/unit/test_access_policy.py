"""The access policy against the example roster. Expectations are written out by hand, row by
row, so a change to the policy shows up here as a change someone has to make on purpose."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.enums import TaskStatus, Tier
from schemas.principals import AccessRole, Principal, Via
from schemas.roster import Roster, parse_roster
from schemas.tasks import TaskNote
from services.core import access
from services.core.access import Action, Reader, Target
from tests.support import ROOT
from tests.unit.factories import T0, a_task


@functools.cache
def roster() -> Roster:
    path = ROOT / "rosters" / "example.yaml"
    return parse_roster(path.read_bytes(), str(path))


def real_roster() -> Roster:
    return roster().model_copy(update={"example": False})


def person(who: str, via: Via = Via.SESSION) -> Principal:
    return Principal(account=who, person=who, via=via)


REVIEWER = Principal(account="olga", via=Via.TOKEN, grants=frozenset({AccessRole.REVIEWER}))
ADMIN = Principal(account="root", via=Via.TOKEN, grants=frozenset({AccessRole.ADMIN}))
READERS = {
    "command": person("renee.alvarez"),  # office-of-the-chief
    "responder": person("aisha.grant"),  # peer support, team peer-support
    "teammate": person("tom.kowalski"),  # the same team
    "other-team": person("dana.reyes"),  # community-engagement
    "partner": person("helen.park"),  # northstar-wellness, no team
    "reviewer": REVIEWER,
    "admin": ADMIN,
}


def reader(name: str, on: Roster | None = None) -> Reader:
    return access.reader_of(READERS[name], on or roster())


def allowed(name: str, action: Action, target: Target | None = None) -> bool:
    return access.decide(reader(name), action, target).allowed


# Actions whose answer does not depend on the record: who may, by hand.
MATRIX: dict[Action, set[str]] = {
    Action.LOG_INCIDENT: {"command"},
    Action.TRIGGER_PLAYBOOK: {"command"},
    Action.CANCEL_PLAYBOOK: {"command"},
    Action.CLOSE_INCIDENT: {"command"},
    Action.ASSIGN_TASK: {"command"},
    Action.LOAD_ROSTER: {"command", "admin"},
    Action.LIST_INCIDENTS: {"command", "reviewer"},
    Action.READ_TIMELINE: {"command", "reviewer"},
    Action.RECORD_REVIEW: {"command", "reviewer"},
    Action.READ_REVIEW: {"command", "reviewer"},
    Action.LIST_TASKS: {"command", "responder", "teammate", "other-team", "partner", "reviewer"},
    Action.READ_ROSTER: set(READERS),
    Action.READ_PLAYBOOKS: set(READERS),
    Action.READ_CHANNELS: {"admin"},
    Action.MANAGE_ACCOUNTS: {"admin"},
    Action.READ_METRICS: {"command", "reviewer", "admin"},
}


@pytest.mark.parametrize("action", sorted(MATRIX))
def test_who_may_do_what(action: Action) -> None:
    assert {name for name in READERS if allowed(name, action)} == MATRIX[action]


def test_access_roles_come_from_the_roster_and_the_account() -> None:
    assert reader("command").roles == {AccessRole.COMMAND}
    assert reader("responder").roles == {AccessRole.RESPONDER}
    assert reader("partner").roles == {AccessRole.RESPONDER}
    assert reader("reviewer").roles == {AccessRole.REVIEWER}
    assert reader("admin").roles == {AccessRole.ADMIN}
    stranger = Principal(account="x", person="no.body", via=Via.SESSION)
    assert access.reader_of(stranger, roster()).roles == frozenset()


def test_scopes_are_teams_and_for_partners_without_one_their_organisation() -> None:
    assert reader("responder").scope == reader("teammate").scope == "team.peer-support"
    assert reader("partner").scope == "org.northstar-wellness"
    assert reader("reviewer").scope is None


def test_only_the_assignee_and_holders_of_its_role_see_a_task_besides_command_and_review() -> None:
    mine = a_task(role="peer_support", assignee="aisha.grant", tier=Tier.PUBLIC)
    pool = a_task(role="peer_support", assignee=None, status=TaskStatus.UNASSIGNED)
    declined = mine.model_copy(update={"assignee": "tom.kowalski", "declined_by": ("aisha.grant",)})
    seen = {
        name: [access.may_see_task(reader(name), t) for t in (mine, pool, declined)]
        for name in READERS
    }
    assert seen == {
        "command": [True, True, True],
        "responder": [True, True, True],
        "teammate": [False, True, True],
        "other-team": [False, False, False],
        "partner": [False, True, False],  # helen.park holds peer_support too
        "reviewer": [True, True, True],
        "admin": [False, False, False],
    }


def test_incidents_are_read_by_responders_only_where_they_hold_a_task() -> None:
    assert not allowed("responder", Action.READ_INCIDENT)
    assert allowed("responder", Action.READ_INCIDENT, Target(holds_task=True))
    assert allowed("reviewer", Action.READ_INCIDENT)
    assert not allowed("admin", Action.READ_INCIDENT)


def test_claims_are_for_holders_of_the_role_and_notes_for_those_involved() -> None:
    pool = Target(task=a_task(role="peer_support", assignee=None, status=TaskStatus.UNASSIGNED))
    assert [n for n in READERS if allowed(n, Action.CLAIM_TASK, pool)] == [
        "responder",
        "teammate",
        "partner",
    ]
    task = a_task(role="victim_advocate", assignee="priya.nair")
    note = Target(task=task, tier=Tier.PUBLIC)
    assert [n for n in READERS if allowed(n, Action.NOTE_TASK, note)] == ["command"]
    assert access.decide(
        access.reader_of(person("sam.whitfield"), roster()), Action.NOTE_TASK, note
    ).allowed


def test_availability_is_ones_own_unless_command_or_admin() -> None:
    own = Target(person="aisha.grant")
    assert [n for n in READERS if allowed(n, Action.RECORD_AVAILABILITY, own)] == [
        "command",
        "responder",
        "admin",
    ]
    assert [n for n in READERS if allowed(n, Action.READ_INBOX, own)] == ["responder"]


def test_an_action_link_opens_its_own_task_and_nothing_else() -> None:
    task = a_task(role="peer_support", assignee="helen.park")
    link = Principal(account="helen.park", person="helen.park", via=Via.LINK, task=task.task_id)
    by_link = access.reader_of(link, roster())
    other = task.model_copy(update={"task_id": "INC-AAAAAAAA.other"})
    assert access.decide(by_link, Action.ACT_ON_TASK, Target(task=task)).allowed
    assert access.decide(by_link, Action.READ_TASK, Target(task=task)).allowed
    assert not access.decide(by_link, Action.ACT_ON_TASK, Target(task=other)).allowed
    assert not access.decide(by_link, Action.READ_TIMELINE).allowed
    assert not access.decide(by_link, Action.CLAIM_TASK, Target(task=task)).allowed


def test_an_operator_speaks_for_someone_only_on_the_example_roster_or_in_an_exercise() -> None:
    operator = person("renee.alvarez", via=Via.OPERATOR)
    on_example = access.reader_of(operator, roster())
    on_real = access.reader_of(operator, real_roster())
    assert access.decide(on_example, Action.LOG_INCIDENT).allowed
    refused = access.decide(on_real, Action.LOG_INCIDENT)
    assert not refused.allowed and "example roster" in refused.reason
    assert access.decide(on_real, Action.LOG_INCIDENT, Target(exercise=True)).allowed
    signed_in = access.reader_of(person("renee.alvarez"), real_roster())
    assert access.decide(signed_in, Action.LOG_INCIDENT).allowed


# ---- confidential text --------------------------------------------------------------------

SECRET = "Officer asked that his family not be told"


def restricted_note_by(author: str) -> TaskNote:
    return TaskNote(author=author, at=T0, tier=Tier.RESTRICTED, text=SECRET)


def test_a_restricted_note_reaches_the_authors_team_and_nobody_else() -> None:
    task = a_task(
        role="peer_support", assignee="aisha.grant", notes=(restricted_note_by("aisha.grant"),)
    )
    shown = {name: access.task_view(reader(name), roster(), task).notes[0].text for name in READERS}
    hidden = "[restricted: visible to Peer Support Team only]"
    assert shown == {
        "command": hidden,
        "responder": SECRET,
        "teammate": SECRET,
        "other-team": hidden,
        "partner": hidden,
        "reviewer": hidden,
        "admin": hidden,
    }


def test_someone_typing_as_the_author_does_not_read_the_note() -> None:
    task = a_task(notes=(restricted_note_by("aisha.grant"),))
    operator = access.reader_of(person("aisha.grant", via=Via.OPERATOR), roster())
    assert access.task_view(operator, roster(), task).notes[0].text != SECRET


def test_a_completion_note_follows_the_tier_of_its_task() -> None:
    done = a_task(
        role="peer_support",
        assignee="aisha.grant",
        status=TaskStatus.COMPLETED,
        note=SECRET,
        tier=Tier.COMMAND,
    )
    seen = {name: access.task_view(reader(name), roster(), done).note for name in READERS}
    assert seen == {
        "command": SECRET,
        "responder": SECRET,  # its author
        "teammate": None,
        "other-team": None,
        "partner": None,
        "reviewer": SECRET,
        "admin": None,
    }


def test_responders_do_not_see_who_was_involved() -> None:
    from schemas.views import IncidentSummary
    from tests.unit.factories import an_incident

    summary = IncidentSummary.from_logged(
        an_incident(involved=("tom.kowalski",), attributes={"weapon": "firearm"})
    )
    assert access.incident_view(reader("responder"), summary).involved == ()
    assert access.incident_view(reader("responder"), summary).attributes == {}
    assert access.incident_view(reader("command"), summary) == summary


members = st.sampled_from([m.id for m in roster().members])
vias = st.sampled_from(list(Via))
grants = st.frozensets(st.sampled_from(list(AccessRole)))


@given(author=members, who=members, via=vias, granted=grants)
def test_restricted_text_never_leaves_the_authors_scope(
    author: str, who: str, via: Via, granted: frozenset[AccessRole]
) -> None:
    principal = Principal(account=who, person=who, via=via, grants=granted)
    seen = access.reader_of(principal, roster())
    task = a_task(notes=(restricted_note_by(author),))
    text = access.task_view(seen, roster(), task).notes[0].text
    if text == SECRET:
        assert via is not Via.OPERATOR
        assert access.scope_of(roster(), who) == access.scope_of(roster(), author)
