from __future__ import annotations

from schemas.roster import Roster
from services.core.library import load_library, load_roster, roles_without_holders
from tests.support import ROOT


def test_roles_no_active_member_holds_are_named_with_the_playbooks_that_need_them() -> None:
    library = load_library(ROOT / "playbooks")
    roster = load_roster(ROOT / "rosters" / "example.yaml")
    assert roles_without_holders(library.values(), roster) == {}
    thinned = Roster(
        agency=roster.agency,
        members=tuple(m for m in roster.members if "public_information" not in m.roles),
    )
    missing = roles_without_holders(library.values(), thinned)
    assert list(missing) == ["public_information"]
    assert "officer-involved-shooting" in missing["public_information"]
