"""A contract built from values already valid is the one validation makes of them: the same
values, fields set and field order, and it copies like one. Fields missing, unknown or out of
order, or one meant to be left unset that is set, are refused, as is a model whose instances
validation would make otherwise."""

from __future__ import annotations

import pytest
from pydantic import Field

from schemas.base import Contract
from schemas.enums import Tier
from schemas.views import TimelineEntry
from services.core.trusted import Builder
from tests.unit.factories import T0

GIVEN: dict[str, object] = {
    "seq": 7,
    "at": T0,
    "type": "task.noted",
    "actor": "aisha.grant",
    "text": "aisha.grant added a note to defusing",
    "task_id": "INC-AAAAAAAA.defusing",
    "tier": Tier.RESTRICTED,
    "note": "[restricted: visible to Peer Support Team only]",
    "note_sealed": None,
    "note_by": "aisha.grant",
    "role": "peer_support",
    "phase": None,
    "assignee": "aisha.grant",
    "redacted": True,
}
UNSET = {"recognised": True}


@pytest.mark.parametrize("unset", [UNSET, {}])
def test_it_is_the_validated_contract(unset: dict[str, object]) -> None:
    given = GIVEN | {"recognised": True} if not unset else GIVEN
    build = Builder(TimelineEntry, unset=unset)
    built = build(GIVEN | {"recognised": True})
    validated = TimelineEntry.model_validate(given)
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set == set(given)
    assert list(vars(built)) == list(vars(validated))
    assert repr(built) == repr(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    changed = built.model_copy(update={"note": None})
    assert changed == validated.model_copy(update={"note": None})
    assert built == validated and built.model_fields_set == set(given)  # the copy is its own
    # Each instance has fields set of its own, as each validated one has.
    assert build(GIVEN | {"recognised": True}).model_fields_set is not built.model_fields_set


def test_fields_missing_unknown_out_of_order_or_set_when_unset_are_refused() -> None:
    build = Builder(TimelineEntry, unset=UNSET)
    without_seq = {k: v for k, v in GIVEN.items() if k != "seq"}
    for fields in (
        without_seq | UNSET,
        GIVEN | UNSET | {"colour": "red"},
        without_seq | {"seq": 7} | UNSET,
        {"recognised": True} | GIVEN,
    ):
        with pytest.raises(TypeError, match="fields"):
            build(fields)
    with pytest.raises(TypeError, match="recognised is set"):
        build(GIVEN | {"recognised": False})


class _Listed(Contract):
    names: list[str] = Field(default_factory=list)


class _Mapped(Contract):
    attributes: dict[str, str] = {}


def test_a_model_whose_instances_it_cannot_make_alike_is_refused() -> None:
    with pytest.raises(TypeError, match="default factory"):
        Builder(_Listed)
    with pytest.raises(TypeError, match="mutable default"):
        Builder(_Mapped)
    with pytest.raises(TypeError, match="only optional fields"):
        Builder(TimelineEntry, unset=("seq",))
