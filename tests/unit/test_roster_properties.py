"""Properties of roster validation over generated input: nothing but SourceInvalid ever escapes,
and a mistyped id is reported where it is written, naming the member."""

from __future__ import annotations

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.channels import is_email_address
from schemas.roster import CLASSIC_ROLES, parse_roster
from schemas.yaml_source import SourceInvalid

CLASSIC_IDS = [r.id for r in CLASSIC_ROLES]

yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


def one_member(**fields: object) -> bytes:
    member = {"id": "dana", "name": "Dana", "roles": ["community_liaison"], "organisation": "PD"}
    return yaml.safe_dump({"agency": "PD", "members": [{**member, **fields}]}).encode()


def errors_of(raw: bytes) -> list[str] | None:
    """None when it parses; the problems otherwise. Any other exception fails the test."""
    try:
        parse_roster(raw, "fuzz.yaml")
    except SourceInvalid as invalid:
        found = [str(e) for e in invalid.errors]
    else:
        return None
    assert found
    return found


@settings(max_examples=200, deadline=None)
@given(yaml_values)
def test_arbitrary_yaml_parses_or_is_reported(value: object) -> None:
    errors_of(yaml.safe_dump(value).encode())


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(["roles", "organisations", "teams"]), yaml_values))
def test_arbitrary_sections_beside_valid_members_parse_or_are_reported(
    sections: dict[str, object],
) -> None:
    member = {"id": "dana", "name": "Dana", "roles": ["community_liaison"], "organisation": "pd"}
    errors_of(yaml.safe_dump({"agency": "PD", **sections, "members": [member]}).encode())


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[a-z0-9][a-z0-9_-]{0,20}", fullmatch=True))
def test_a_role_id_is_accepted_exactly_when_the_roster_declares_it(role: str) -> None:
    found = errors_of(one_member(roles=[role]))
    if role in CLASSIC_IDS:
        assert found is None
    else:
        assert found is not None and len(found) == 1
        assert found[0].startswith("fuzz.yaml:")
        assert f"members[0].roles[0]: member dana: unknown role {role!r}" in found[0]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(CLASSIC_IDS), st.data())
def test_a_role_id_missing_one_letter_suggests_the_role_meant(
    role: str, data: st.DataObject
) -> None:
    cut = data.draw(st.integers(min_value=0, max_value=len(role) - 1))
    typo = role[:cut] + role[cut + 1 :]
    found = errors_of(one_member(roles=[typo]))
    assert found is not None
    assert found[0].endswith(f"(did you mean {role}?)")


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_an_email_channel_holds_an_address_or_is_reported_at_the_address(text: str) -> None:
    found = errors_of(one_member(channels=[{"kind": "email", "address": text}]))
    if found is None:
        assert is_email_address(text)
    else:
        assert len(found) == 1 and "members[0].channels[0].address: " in found[0]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=40))
def test_a_time_zone_parses_or_is_reported_at_the_time_zone(text: str) -> None:
    found = errors_of(one_member(time_zone=text))
    assert found is None or (len(found) == 1 and "members[0].time_zone: " in found[0])
