from __future__ import annotations

import pytest

from schemas.roster import Member, Roster
from schemas.tasks import AssigneeRule
from services.engine.assignment import eligible, ineligibility, rotate

ROSTER = Roster(
    agency="Example PD",
    members=(
        Member(
            id="priya",
            name="Priya",
            roles=("victim_advocate",),
            organisation="PD",
            languages=("en", "hi"),
        ),
        Member(
            id="lena",
            name="Lena",
            roles=("victim_advocate",),
            organisation="Harbor",
            partner=True,
            languages=("en", "es"),
        ),
        Member(
            id="sam",
            name="Sam",
            roles=("victim_advocate",),
            organisation="PD",
            languages=("en",),
            active=False,
        ),
        Member(id="tom", name="Tom", roles=("peer_support",), organisation="PD"),
    ),
)


def who(
    rule: AssigneeRule, attributes: dict[str, str] | None = None, involved: tuple[str, ...] = ()
) -> tuple[str, ...]:
    return eligible(ROSTER, "victim_advocate", rule, attributes or {}, involved)


def test_active_holders_of_the_role_in_roster_order() -> None:
    assert who(AssigneeRule()) == ("priya", "lena")


def test_language_literal_or_from_an_incident_attribute() -> None:
    assert who(AssigneeRule(language="es")) == ("lena",)
    assert who(AssigneeRule(language_from="family_language"), {"family_language": "hi"}) == (
        "priya",
    )
    # The attribute was not given: no language requirement applies.
    assert who(AssigneeRule(language_from="family_language")) == ("priya", "lena")


def test_people_involved_in_the_incident_are_never_eligible() -> None:
    assert who(AssigneeRule(), involved=("priya",)) == ("lena",)
    assert who(AssigneeRule(not_involved=False), involved=("priya",)) == ("priya", "lena")


def test_organisation_and_partner_rules() -> None:
    assert who(AssigneeRule(organisation="Harbor")) == ("lena",)
    assert who(AssigneeRule(partner=False)) == ("priya",)
    assert who(AssigneeRule(partner=True)) == ("lena",)


def test_rotation_cycles_and_handles_nobody() -> None:
    assert [rotate(("a", "b", "c"), seed=1, ordinal=n) for n in range(4)] == ["b", "c", "a", "b"]
    assert rotate((), seed=1, ordinal=0) is None


@pytest.mark.parametrize(
    ("person", "rule", "attributes", "involved", "why"),
    [
        ("priya", AssigneeRule(), {}, (), None),
        ("nobody", AssigneeRule(), {}, (), "no roster member nobody"),
        ("gone", AssigneeRule(), {}, (), "gone is not active on the roster"),
        ("dana", AssigneeRule(), {}, (), "dana does not hold the role victim_advocate (holds: "
         "community_liaison)"),
        ("priya", AssigneeRule(), {}, ("priya",), "priya is involved in this incident"),
        ("priya", AssigneeRule(not_involved=False), {}, ("priya",), None),
        ("priya", AssigneeRule(language="es"), {}, (), "priya does not speak es"),
        ("lena", AssigneeRule(language_from="lang"), {"lang": "es"}, (), None),
        ("priya", AssigneeRule(language_from="lang"), {"lang": "es"}, (),
         "priya does not speak es"),
        ("priya", AssigneeRule(organisation="Harbor"), {}, (), "priya is not with Harbor"),
        ("priya", AssigneeRule(partner=True), {}, (), "this task is for partners only"),
        ("lena", AssigneeRule(partner=False), {}, (), "this task is for staff only"),
        ("lena", AssigneeRule(partner=True, organisation="Harbor"), {}, (), None),
    ],
)  # fmt: skip
def test_ineligibility_names_the_first_reason_someone_may_not_take_a_task(
    person: str,
    rule: AssigneeRule,
    attributes: dict[str, str],
    involved: tuple[str, ...],
    why: str | None,
) -> None:
    roster = Roster(
        agency=ROSTER.agency,
        members=(
            *ROSTER.members,
            Member(id="gone", name="Gone", roles=("victim_advocate",), organisation="PD",
                   active=False),
            Member(id="dana", name="Dana", roles=("community_liaison",), organisation="PD"),
        ),
    )  # fmt: skip
    found = ineligibility(roster, person, "victim_advocate", rule, attributes, involved)
    assert found == why


def test_partner_rules_follow_the_members_organisation_when_the_roster_declares_them() -> None:
    members = [("priya", "pd"), ("lena", "harbor")]
    roster = Roster.model_validate(
        {
            "agency": "PD",
            "organisations": [
                {"id": "pd", "name": "PD"},
                {"id": "harbor", "name": "Harbor", "partner": True},
            ],
            "members": [
                {"id": who, "name": who, "roles": ["victim_advocate"], "organisation": where}
                for who, where in members
            ],
        }
    )
    role = "victim_advocate"
    assert eligible(roster, role, AssigneeRule(partner=True), {}, ()) == ("lena",)
    assert eligible(roster, role, AssigneeRule(organisation="pd"), {}, ()) == ("priya",)
    why = ineligibility(roster, "priya", role, AssigneeRule(partner=True), {}, ())
    assert why == "this task is for partners only"
