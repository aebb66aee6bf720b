"""A contract built from values already valid is the one validation makes of them: the same
values, fields set and field order, and it copies like one; a field it does not have, or a
required one missing, is refused, as is a model it cannot build the same way."""

from __future__ import annotations

import pytest
from pydantic import Field

from schemas.base import Contract
from schemas.enums import Tier
from schemas.views import TimelineEntry
from services.core.trusted import trusted
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
    "note_by": "aisha.grant",
    "redacted": True,
    "role": "peer_support",
}


@pytest.mark.parametrize(
    "given", [GIVEN, {k: GIVEN[k] for k in ("seq", "at", "type", "actor", "text")}]
)
def test_it_is_the_validated_contract(given: dict[str, object]) -> None:
    built, validated = trusted(TimelineEntry, given), TimelineEntry.model_validate(given)
    assert built == validated
    assert built.model_fields_set == validated.model_fields_set == set(given)
    assert list(vars(built)) == list(vars(validated))
    assert repr(built) == repr(validated)
    assert built.model_dump_json() == validated.model_dump_json()
    changed = built.model_copy(update={"note": None})
    assert changed == validated.model_copy(update={"note": None})
    assert built == validated and built.model_fields_set == set(given)  # the copy is its own


def test_unknown_or_missing_fields_are_refused() -> None:
    with pytest.raises(TypeError, match=r"unknown fields \['colour'\]"):
        trusted(TimelineEntry, GIVEN | {"colour": "red"})
    with pytest.raises(TypeError, match=r"missing \['seq'\]"):
        trusted(TimelineEntry, {k: v for k, v in GIVEN.items() if k != "seq"})


class _Listed(Contract):
    names: list[str] = Field(default_factory=list)


class _Mapped(Contract):
    attributes: dict[str, str] = {}


def test_a_model_whose_defaults_cannot_be_shared_is_refused() -> None:
    with pytest.raises(TypeError, match="default factory"):
        trusted(_Listed, {})
    with pytest.raises(TypeError, match="mutable default"):
        trusted(_Mapped, {})
