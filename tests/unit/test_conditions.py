from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.conditions import ConditionError, evaluate, names, parse


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("person_deceased", {"person_deceased": True}, True),
        ("person_deceased", {}, False),
        ("not person_deceased", {}, True),
        ("language != 'en'", {"language": "es"}, True),
        ("language != 'en'", {"language": "en"}, False),
        ("severity in ['high', 'critical']", {"severity": "critical"}, True),
        ("severity in ['high', 'critical']", {"severity": "low"}, False),
        ("people_hurt >= 2 and not person_deceased", {"people_hurt": 3.0}, True),
        ("people_hurt >= 2", {}, False),  # a missing number satisfies no comparison
        ("a or b and c", {"a": False, "b": True, "c": False}, False),  # and binds tighter
        ("(a or b) and c", {"a": True, "c": True}, True),
        ('kind == "bias"', {"kind": "bias"}, True),
    ],
)
def test_conditions_evaluate(source: str, values: dict[str, object], expected: bool) -> None:
    assert evaluate(parse(source), values) is expected  # type: ignore[arg-type]


def test_names_lists_every_attribute_read() -> None:
    assert names(parse("a and (b != 'x' or not c) and d in [1, 2]")) == {"a", "b", "c", "d"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        (
            "a ==",
            "expected a name or a number or a 'string' or true or false or '(' or '[', "
            "found the end at character 5",
        ),
        ("a in b", "'in' needs a list such as ['a', 'b'] at character 3"),
        ("(a", "expected ')', found the end at character 3"),
        ("a ; b", "unexpected ';' at character 3"),
        ("__import__('os')", "expected the end, found '(' at character 11"),
        ("a" * 600, "longer than 500 characters"),
    ],
)
def test_malformed_conditions_say_what_and_where(source: str, message: str) -> None:
    with pytest.raises(ConditionError) as error:
        parse(source)
    assert message in str(error.value)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_parser_raises_only_its_own_error(source: str) -> None:
    try:
        parse(source)
    except ConditionError:
        return


@pytest.mark.parametrize(
    ("op", "below", "equal", "above"),
    [("<", True, False, False), ("<=", True, True, False),
     (">", False, False, True), (">=", False, True, True)],
)  # fmt: skip
def test_each_ordering_holds_exactly_where_it_should(
    op: str, below: bool, equal: bool, above: bool
) -> None:
    condition = parse(f"people_hurt {op} 2")
    assert [evaluate(condition, {"people_hurt": n}) for n in (1.0, 2.0, 3.0)] == [
        below,
        equal,
        above,
    ]


@pytest.mark.parametrize(
    ("source", "values", "expected"),
    [
        ("people_hurt == 2", {"people_hurt": 2.0}, True),  # a number literal is a number
        ("people_hurt == 2.5", {"people_hurt": 2.5}, True),
        ("people_hurt == 2", {"people_hurt": "2"}, False),
        ("armed == true", {"armed": True}, True),
        ("armed == true", {"armed": False}, False),
        ("armed == false", {"armed": False}, True),
        ("hurt < killed", {"hurt": 1.0, "killed": 2.0}, True),  # two attributes compared
        ("hurt < killed", {"hurt": 3.0, "killed": 2.0}, False),
    ],
)
def test_literals_and_attributes_on_either_side(
    source: str, values: dict[str, object], expected: bool
) -> None:
    assert evaluate(parse(source), values) is expected  # type: ignore[arg-type]


def test_a_comparison_reads_the_names_on_both_sides() -> None:
    assert names(parse("hurt < killed")) == {"hurt", "killed"}


def test_an_error_knows_where_it_is() -> None:
    with pytest.raises(ConditionError) as error:
        parse("a ; b")
    assert error.value.position == 2


def test_a_list_holds_literals_only() -> None:
    with pytest.raises(ConditionError) as error:
        parse("kind in ['bias', other]")
    assert str(error.value) == "a list holds literals only at character 9"
    assert error.value.position == 8


def test_a_condition_of_the_longest_length_allowed_parses() -> None:
    longest = "a" * 500
    assert names(parse(longest)) == {longest}
