from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from schemas.playbook_validation import parse_playbook
from schemas.roster import Roster
from schemas.yaml_source import SourceInvalid

VALID = b"""\
id: drill
title: Drill
triggers:
  incident_types: [drill]
tasks:
  - key: first
    title: First
    role: peer_support
    acknowledge_within: PT1H
    due_within: PT4H
  - key: second
    title: Second
    role: victim_advocate
    depends_on: [first]
    acknowledge_within: PT2H
    due_within: P1D
"""


# A roster that declares no roles of its own: the five classic ones.
CLASSIC = Roster(agency="Example PD", members=())


def problems(raw: bytes) -> list[str]:
    with pytest.raises(SourceInvalid) as invalid:
        parse_playbook(raw, "broken.yaml", CLASSIC)
    return [str(e) for e in invalid.value.errors]


def test_valid_playbook_parses_and_has_a_content_version() -> None:
    pinned = parse_playbook(VALID, "drill.yaml")
    assert pinned.playbook.id == "drill"
    assert len(pinned.version) == 12
    assert parse_playbook(VALID + b"# edited\n", "drill.yaml").version != pinned.version


def test_a_role_the_roster_does_not_declare_names_file_line_field_and_the_closest() -> None:
    found = problems(VALID.replace(b"role: victim_advocate", b"role: victim_advocat"))
    assert found == [
        "broken.yaml:13:5: tasks[1].role: unknown role 'victim_advocat' "
        "(did you mean victim_advocate?)"
    ]


def test_without_a_roster_any_well_formed_role_id_passes() -> None:
    pinned = parse_playbook(VALID.replace(b"role: victim_advocate", b"role: chaplain"), "x.yaml")
    assert pinned.playbook.tasks[1].role == "chaplain"


def test_a_role_id_that_is_not_an_id_is_refused_without_a_roster() -> None:
    with pytest.raises(SourceInvalid) as invalid:
        parse_playbook(VALID.replace(b"role: victim_advocate", b"role: Victim Advocate"), "x.yaml")
    assert [e.field for e in invalid.value.errors] == ["tasks[1].role"]


def test_every_error_in_a_file_is_reported_at_once() -> None:
    raw = VALID.replace(b"role: peer_support", b"role: Nobody").replace(b"PT2H", b"two hours")
    found = problems(raw)
    assert len(found) == 2
    assert any("tasks[0].role" in p for p in found)
    assert any("tasks[1].acknowledge_within" in p for p in found)


def test_unknown_field_is_named() -> None:
    found = problems(VALID.replace(b"title: First", b"title: First\n    colour: red"))
    assert found == ["broken.yaml:8:5: tasks[0].colour: unknown field"]


def test_missing_field_points_at_its_parent() -> None:
    found = problems(VALID.replace(b"    due_within: PT4H\n", b""))
    assert found == ["broken.yaml:6:5: tasks[0].due_within: field required"]


def test_cross_field_problems() -> None:
    raw = VALID.replace(b"depends_on: [first]", b"depends_on: [first, ghost]").replace(
        b"due_within: PT4H", b"due_within: PT30M"
    )
    found = problems(raw)
    assert any("tasks[1].depends_on[1]: unknown task key 'ghost'" in p for p in found)
    assert any("tasks[0].due_within: due window is shorter" in p for p in found)


def test_dependency_cycle_is_reported() -> None:
    raw = VALID.replace(
        b"    due_within: PT4H\n", b"    due_within: PT4H\n    depends_on: [second]\n"
    )
    assert any(
        "dependency cycle: first -> second -> first" in p
        or "dependency cycle: second -> first -> second" in p
        for p in problems(raw)
    )


def test_duplicate_keys_are_reported() -> None:
    found = problems(VALID.replace(b"key: second", b"key: first"))
    assert any("duplicate task key 'first'" in p for p in found)
    found = problems(VALID.replace(b"title: Drill\n", b"title: Drill\ntitle: Again\n"))
    assert found == ["broken.yaml:3:1: title: duplicate key"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"", "the file is empty"),
        (b"id: [unclosed", "not valid YAML"),
        (b"\xff\xfe\x00\x01", "not UTF-8"),
        (b"- a\n- b\n", "expected a mapping, found list"),
        (b"x" * 1_000_001, "larger than"),
    ],
)
def test_input_that_is_not_a_playbook_gets_one_clear_error(raw: bytes, expected: str) -> None:
    found = problems(raw)
    assert len(found) == 1 and expected in found[0]
    assert found[0].startswith("broken.yaml:")


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(yaml_values)
def test_validator_raises_only_its_own_error_on_arbitrary_yaml(value: object) -> None:
    assert_parses_or_reports(yaml.safe_dump(value).encode())


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_validator_raises_only_its_own_error_on_arbitrary_bytes(raw: bytes) -> None:
    assert_parses_or_reports(raw)


def assert_parses_or_reports(raw: bytes) -> None:
    """Anything but SourceInvalid escaping here fails the test."""
    reported: list[object] = []
    try:
        parse_playbook(raw, "fuzz.yaml")
    except SourceInvalid as invalid:
        reported.extend(invalid.errors)
    else:
        return
    assert reported


def test_committed_json_schema_is_current() -> None:
    from schemas.playbook import playbook_json_schema
    from tests.support import ROOT

    committed = (ROOT / "schemas" / "playbook.schema.json").read_text()
    assert committed == playbook_json_schema(), (
        "regenerate with: pathways playbook schema > schemas/playbook.schema.json"
    )


def _with_condition(condition: str) -> bytes:
    return (
        "id: fuzz\ntitle: Fuzz\ntriggers: {incident_types: [drill]}\ntasks:\n"
        "  - key: a\n    title: A\n    role: peer_support\n"
        "    acknowledge_within: PT1H\n    due_within: PT2H\n"
        f"    when: {json.dumps(condition)}\n"
    ).encode()


@settings(max_examples=100, deadline=2000)
@given(st.lists(st.sampled_from(["(", "not ", "[", ")", "]"]), max_size=400))
@example(["("] * 300)
@example(["not "] * 400)
@example(["(", "not "] * 200)
def test_validator_raises_only_its_own_error_on_arbitrarily_nested_conditions(
    parts: list[str],
) -> None:
    assert_parses_or_reports(_with_condition("".join(parts) + "severity == 'high'"))


@settings(max_examples=50, deadline=2000)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=12))
def test_validator_refuses_nested_aliases_at_once_without_expanding_them(
    depth: int, fan_out: int
) -> None:
    lines = ["a0: &a0 [lol, lol]"]
    for level in range(1, depth + 1):
        refs = ", ".join([f"*a{level - 1}"] * fan_out)
        lines.append(f"a{level}: &a{level} [{refs}]")
    with pytest.raises(SourceInvalid) as invalid:
        parse_playbook("\n".join(lines).encode(), "laughs.yaml")
    assert [str(e) for e in invalid.value.errors] == [
        "laughs.yaml:2:10: YAML aliases (*a0) are not allowed; write the value out"
    ]


@pytest.mark.parametrize(
    "condition",
    [
        "(" * 200 + "severity == 'high'" + ")" * 200,
        "not " * 120 + "severity == 'high'",
        "[" * 600,
    ],
    ids=["200 parentheses", "120 nots", "600 brackets"],
)
def test_deeply_nested_condition_is_one_clear_error(condition: str) -> None:
    with pytest.raises(SourceInvalid) as invalid:
        parse_playbook(_with_condition(condition), "deep.yaml")
    assert len(invalid.value.errors) == 1
    assert "invalid condition:" in str(invalid.value.errors[0])


MANY_PROBLEMS = b"""\
id: drill
title: Drill
triggers:
  incident_types: [drill]
  attributes:
    people_hurt: {type: number}
phases:
  - id: immediate
    title: Immediate
  - id: immediate
    title: Again
tasks:
  - key: first
    title: First
    role: peer_support
    depends_on: [first]
    when: people_hurt > 1 and armed
    assignee: {language_from: family_language}
    acknowledge_within: PT1H
    due_within: PT4H
    follow_ups:
      title: Check-in
      after: [P1D, PT0S]
      acknowledge_within: PT2H
      due_within: PT1H
  - key: second
    title: Second
    role: victim_advocate
    phase: later
    depends_on: [ghost]
    acknowledge_within: PT2H
    due_within: P1D
"""


def test_every_cross_field_problem_is_reported_with_its_place() -> None:
    assert problems(MANY_PROBLEMS) == [
        "broken.yaml:10:5: phases[1].id: duplicate phase id 'immediate'",
        "broken.yaml:16:5: tasks[0].depends_on: dependency cycle: first -> first",
        "broken.yaml:16:18: tasks[0].depends_on[0]: a task cannot depend on itself",
        "broken.yaml:17:5: tasks[0].when: condition reads armed, which the triggers cannot "
        "supply; declare it under triggers.attributes (known: incident_type, people_hurt, "
        "severity)",
        "broken.yaml:18:16: tasks[0].assignee.language_from: attribute 'family_language' is not "
        "declared in triggers.attributes",
        "broken.yaml:23:20: tasks[0].follow_ups.after[1]: expected a positive duration",
        "broken.yaml:25:7: tasks[0].follow_ups.due_within: due window is shorter than the "
        "acknowledge window",
        "broken.yaml:29:5: tasks[1].phase: unknown phase 'later'; expected: immediate, immediate",
        "broken.yaml:30:18: tasks[1].depends_on[0]: unknown task key 'ghost'; expected one of: "
        "first, second",
    ]


def test_a_declared_attribute_may_choose_the_language() -> None:
    raw = VALID.replace(
        b"  incident_types: [drill]\n",
        b"  incident_types: [drill]\n  attributes:\n    family_language: {type: text}\n",
    ).replace(
        b"    role: peer_support\n",
        b"    role: peer_support\n    assignee: {language_from: family_language}\n",
    )
    pinned = parse_playbook(raw, "drill.yaml")
    assert pinned.playbook.tasks[0].assignee.language_from == "family_language"
    assert pinned.source == raw.decode()


def test_an_acknowledge_window_of_zero_is_refused_and_equal_windows_are_fine() -> None:
    found = problems(VALID.replace(b"acknowledge_within: PT1H", b"acknowledge_within: PT0S"))
    assert found == ["broken.yaml:9:5: tasks[0].acknowledge_within: expected a positive duration"]
    same = parse_playbook(VALID.replace(b"due_within: PT4H", b"due_within: PT1H"), "drill.yaml")
    assert same.playbook.tasks[0].due_within == same.playbook.tasks[0].acknowledge_within


def test_a_condition_reading_several_undeclared_attributes_names_them_all() -> None:
    raw = VALID.replace(
        b"    role: peer_support\n", b"    role: peer_support\n    when: armed or fled\n"
    )
    assert problems(raw) == [
        "broken.yaml:9:5: tasks[0].when: condition reads armed, fled, which the triggers cannot "
        "supply; declare it under triggers.attributes (known: incident_type, severity)"
    ]
