"""The roster as data: roles with families, organisations, teams and members, their cross
references, the older format, time zones and channels. Every problem is a SourceInvalid with
file, line, column and field."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.channels import ChannelKind
from schemas.enums import RoleFamily
from schemas.roster import CLASSIC_ROLES, Roster, RosterInconsistent, parse_roster
from schemas.yaml_source import SourceInvalid
from tests.support import ROOT

ROSTER = """\
agency: Test PD
time_zone: America/Chicago
roles:
  - id: liaison
    title: Liaison
    family: community_liaison
  - id: clinician
    title: Clinician
    family: [peer_support]
  - id: chief
    title: Chief
    family: command
organisations:
  - id: pd
    name: Test PD
  - id: wellness
    name: Wellness partner
    partner: true
teams:
  - id: outreach
    name: Outreach
    organisation: pd
members:
  - id: dana
    name: Dana
    roles: [liaison]
    organisation: pd
    team: outreach
    languages: [en, es]
    preferred_language: es
    channels:
      - kind: inbox
      - kind: email
        address: dana@example.org
        after: PT10M
  - id: helen
    name: Helen
    roles: [clinician]
    organisation: wellness
    time_zone: America/Denver
    channels:
      - kind: webhook
        address: https://wellness.example.org/hooks
        secret_env: WELLNESS_WEBHOOK_SECRET
  - id: renee
    name: Renee
    roles: [chief, liaison]
    organisation: pd
"""

OLD = """\
agency: Old PD
members:
  - id: dana
    name: Dana
    roles: [community_liaison]
    organisation: Old PD — Community Engagement
    email: dana@example.org
  - id: lena
    name: Lena
    roles: [victim_advocate]
    organisation: Harbor Survivors (partner)
    partner: true
  - id: renee
    name: Renee
    roles: [command_staff]
    organisation: Old PD — Office of the Chief
"""


def parsed(text: str = ROSTER) -> Roster:
    return parse_roster(text.encode(), "roster.yaml")


def problems(text: str) -> list[str]:
    with pytest.raises(SourceInvalid) as invalid:
        parsed(text)
    return [str(e) for e in invalid.value.errors]


def test_a_roster_declares_roles_with_families_and_who_holds_them() -> None:
    roster = parsed()
    assert not roster.classic_roles
    assert [r.id for r in roster.roles] == ["liaison", "clinician", "chief"]
    assert roster.holders("liaison") == ("dana", "renee")
    assert roster.families_of("renee") == {RoleFamily.COMMAND, RoleFamily.COMMUNITY_LIAISON}
    assert roster.in_family("renee", RoleFamily.COMMAND)
    assert not roster.in_family("dana", RoleFamily.COMMAND)
    assert not roster.in_family("nobody", RoleFamily.COMMAND)


def test_partners_are_told_by_their_organisation() -> None:
    roster = parsed()
    helen, dana = roster.member("helen"), roster.member("dana")
    assert helen is not None and dana is not None
    assert roster.is_partner(helen) and not roster.is_partner(dana)


def test_members_have_their_own_time_zone_or_the_rosters() -> None:
    roster = parsed()
    zones = {m.id: roster.time_zone_of(m) for m in roster.members}
    assert zones == {
        "dana": "America/Chicago",
        "helen": "America/Denver",
        "renee": "America/Chicago",
    }


def test_channels_keep_their_order_delays_and_the_name_of_the_secret() -> None:
    roster = parsed()
    dana, helen, renee = roster.members
    assert [c.kind for c in dana.channels] == [ChannelKind.INBOX, ChannelKind.EMAIL]
    assert dana.channels[1].after == timedelta(minutes=10)
    assert helen.channels[0].secret_env == "WELLNESS_WEBHOOK_SECRET"
    assert [c.kind for c in renee.channels] == [ChannelKind.INBOX]  # nobody is unreachable
    assert dana.preferred_language == "es" and renee.preferred_language == "en"


def test_an_old_roster_has_the_classic_roles_free_text_organisations_and_email() -> None:
    roster = parsed(OLD)
    assert roster.classic_roles
    assert roster.roles == CLASSIC_ROLES
    assert roster.in_family("renee", RoleFamily.COMMAND)
    dana, lena, _ = roster.members
    assert [(c.kind, c.address) for c in dana.channels] == [
        (ChannelKind.INBOX, None),
        (ChannelKind.EMAIL, "dana@example.org"),
    ]
    assert roster.is_partner(lena) and not roster.is_partner(dana)
    assert roster.time_zone_of(dana) == "UTC"


def test_the_example_roster_declares_the_partner_clinician_and_the_interpreter() -> None:
    roster = parse_roster((ROOT / "rosters" / "example.yaml").read_bytes(), "example.yaml")
    roles = {r.id: r for r in roster.roles}
    assert roles["partner_clinician"].families == (RoleFamily.PEER_SUPPORT,)
    assert RoleFamily.VICTIM_ADVOCATE in roles["interpreter"].families
    assert roster.holders("partner_clinician") and roster.holders("interpreter")
    assert all(any(c.kind is ChannelKind.INBOX for c in m.channels) for m in roster.members)
    webhooks = [c for m in roster.members for c in m.channels if c.kind is ChannelKind.WEBHOOK]
    assert webhooks and all(c.secret_env for c in webhooks)
    assert any(m.preferred_language == "es" for m in roster.members)
    partners = [o for o in roster.organisations if o.partner]
    assert len(partners) >= 2 and any(not o.partner for o in roster.organisations)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "roles: [liaison]",
            "roles: [liason]",
            "roster.yaml:26:13: members[0].roles[0]: member dana: unknown role 'liason' "
            "(did you mean liaison?)",
        ),
        (
            "organisation: wellness",
            "organisation: welness",
            "roster.yaml:39:5: members[1].organisation: member helen: unknown organisation "
            "'welness' (did you mean wellness?)",
        ),
        (
            "team: outreach",
            "team: outreech",
            "roster.yaml:28:5: members[0].team: member dana: unknown team 'outreech' "
            "(did you mean outreach?)",
        ),
        (
            "    organisation: pd\nmembers:",
            "    organisation: pdd\nmembers:",
            "roster.yaml:22:5: teams[0].organisation: team outreach: unknown organisation 'pdd' "
            "(did you mean pd?)",
        ),
        (
            "organisations:",
            "  - id: chief\n    title: Again\n    family: command\norganisations:",
            "roster.yaml:13:5: roles[3].id: duplicate role id 'chief'",
        ),
        (
            "teams:",
            "  - id: pd\n    name: Again\nteams:",
            "roster.yaml:19:5: organisations[2].id: duplicate organisation id 'pd'",
        ),
        (
            "    roles: [chief, liaison]\n    organisation: pd\n",
            "    roles: [chief, liaison]\n    organisation: pd\n"
            "  - id: dana\n    name: Again\n    roles: [liaison]\n    organisation: pd\n",
            "roster.yaml:49:5: members[3].id: duplicate member id 'dana'",
        ),
        (
            "    family: command\n",
            "",
            "roster.yaml:10:5: roles[2].family: role chief needs at least one family: one of "
            "community_liaison, victim_advocate, peer_support, command, public_information",
        ),
        (
            "family: [peer_support]",
            "family: [peer_support, peer_support]",
            "roster.yaml:9:5: roles[1].family: role clinician names a family twice",
        ),
        (
            "family: command",
            "family: commnd",
            "roster.yaml:12:5: roles[2].family[0]: Input should be 'community_liaison', "
            "'victim_advocate', 'peer_support', 'command' or 'public_information'",
        ),
    ],
)
def test_a_reference_to_nothing_declared_names_the_member_and_the_closest_id(
    old: str, new: str, expected: str
) -> None:
    assert old in ROSTER
    assert problems(ROSTER.replace(old, new, 1)) == [expected]


def test_every_unknown_reference_is_reported_at_once() -> None:
    text = ROSTER.replace("roles: [clinician]", "roles: [clinicain]").replace(
        "team: outreach", "team: nowhere"
    )
    found = problems(text)
    assert len(found) == 2
    assert "member dana: unknown team 'nowhere'; the roster declares: outreach" in found[0]
    assert "member helen: unknown role 'clinicain' (did you mean clinician?)" in found[1]


def test_a_member_may_not_contradict_their_organisation_about_being_a_partner() -> None:
    found = problems(
        ROSTER.replace("organisation: wellness\n", "organisation: wellness\n    partner: false\n")
    )
    assert found == [
        "roster.yaml:40:5: members[1].partner: member helen: wellness is a partner "
        "organisation; partner is set on the organisation"
    ]


def test_an_email_beside_channels_must_be_one_of_them() -> None:
    same = ROSTER.replace(
        "    team: outreach\n", "    team: outreach\n    email: dana@example.org\n"
    )
    assert parsed(same).members[0].email == "dana@example.org"
    other = ROSTER.replace("    team: outreach\n", "    team: outreach\n    email: d@example.org\n")
    assert problems(other) == [
        "roster.yaml:29:5: members[0].email: member dana: email is not among the channels; "
        "list it there (kind: email)"
    ]


def test_a_preferred_language_they_do_not_speak_is_refused() -> None:
    found = problems(ROSTER.replace("preferred_language: es", "preferred_language: fr"))
    assert found == [
        "roster.yaml:30:5: members[0].preferred_language: member dana: fr is not among the "
        "languages they speak (en, es)"
    ]


@pytest.mark.parametrize(
    ("zone", "message"),
    [
        ("America/Chicgo", "unknown time zone (did you mean America/Chicago?)"),
        ("Mars/Olympus_Mons", "unknown time zone"),
        ("../../etc/passwd", "unknown time zone"),
        ("localtime", "unknown time zone"),
        ("x" * 65, "at most 64 characters"),
    ],
)
def test_time_zones_are_iana_names(zone: str, message: str) -> None:
    found = problems(ROSTER.replace("time_zone: America/Denver", f"time_zone: '{zone}'"))
    assert len(found) == 1
    assert found[0].startswith("roster.yaml:40:5: members[1].time_zone: ")
    assert message in found[0]


@pytest.mark.parametrize(
    ("channel", "field", "message"),
    [
        ("{kind: email, address: dana}", "address", "expected an email address"),
        ("{kind: email}", "address", "an email channel needs an address"),
        ("{kind: inbox, address: dana@example.org}", "address", "an inbox channel has no address"),
        ("{kind: webhook, address: 'ftp://x.org'}", "address", "expected an http(s) URL"),
        ("{kind: apprise, address: 'not a url'}", "address", "expected an Apprise URL"),
        ("{kind: pager, address: '555'}", "kind", "Input should be 'inbox'"),
        ("{kind: inbox, after: -PT5M}", "after", "expected a duration of zero or more"),
        ("{kind: inbox, after: 10 minutes}", "after", "expected an ISO 8601 duration"),
        (
            "{kind: email, address: d@example.org, secret_env: X}",
            "secret_env",
            "only a webhook channel has a signing secret",
        ),
    ],
)
def test_a_channel_must_suit_its_kind(channel: str, field: str, message: str) -> None:
    text = ROSTER + f"    channels: [{channel}]\n"
    found = problems(text)
    assert len(found) == 1, found
    assert f"members[2].channels[0].{field}: {message}" in found[0]


def test_a_webhook_secret_written_into_the_roster_is_refused_without_repeating_it() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    found = problems(ROSTER.replace("WELLNESS_WEBHOOK_SECRET", secret))
    assert len(found) == 1
    assert "members[1].channels[0].secret_env: expected the name of an environment" in found[0]
    assert secret not in found[0]


def test_a_roster_built_in_code_is_checked_too() -> None:
    with pytest.raises(RosterInconsistent) as inconsistent:
        Roster.model_validate(
            {
                "agency": "PD",
                "members": [{"id": "a", "name": "A", "roles": ["chaplain"], "organisation": "PD"}],
            }
        )
    assert "member a: unknown role 'chaplain'" in str(inconsistent.value)


def test_unknown_roles_suggest_the_closest_or_list_what_is_declared() -> None:
    roster = parsed()
    assert roster.unknown_role("liaison") is None
    assert roster.unknown_role("liason") == "unknown role 'liason' (did you mean liaison?)"
    assert roster.unknown_role("zzz") == (
        "unknown role 'zzz'; the roster declares: liaison, clinician, chief"
    )
    assert "has only these" in (parsed(OLD).unknown_role("chaplain") or "")


def test_the_annotated_roster_in_the_docs_validates() -> None:
    text = (ROOT / "docs" / "roster.md").read_text()
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    roster = parse_roster(example.encode(), "docs/roster.md")
    assert roster.in_family("priya.nair", RoleFamily.VICTIM_ADVOCATE)


def test_a_role_may_name_its_coordinators_and_its_own_escalation_chain() -> None:
    text = ROSTER.replace(
        "  - id: clinician\n    title: Clinician\n",
        "  - id: clinician\n    title: Clinician\n    coordinators: [renee]\n"
        "    escalation:\n      steps:\n        - action: remind\n"
        "        - action: webhook\n          wait: PT5M\n"
        "          url: https://oncall.example.org/hook\n      repeat: 2\n",
    )
    roster = parsed(text)
    chain = roster.escalation_for("clinician")
    assert [s.action for s in chain.steps] == ["remind", "webhook"] and chain.repeat == 2
    assert chain.steps[1].wait == timedelta(minutes=5)
    assert roster.coordinators_of("clinician") == ("renee",)
    # Without coordinators or a chain: command staff, and the roster's default chain.
    assert roster.coordinators_of("liaison") == ("renee",)
    assert roster.escalation_for("liaison") == roster.escalation


def test_coordinators_and_webhook_steps_are_checked() -> None:
    unknown_coordinator = ROSTER.replace(
        "  - id: chief\n    title: Chief\n",
        "  - id: chief\n    title: Chief\n    coordinators: [rene]\n",
    )
    assert problems(unknown_coordinator) == [
        "roster.yaml:12:20: roles[2].coordinators[0]: unknown member 'rene' (did you mean renee?)"
    ]
    no_url = ROSTER.replace(
        "  - id: chief\n    title: Chief\n",
        "  - id: chief\n    title: Chief\n"
        "    escalation:\n      steps:\n        - action: webhook\n",
    )
    assert any("a webhook step needs a url" in p for p in problems(no_url))
