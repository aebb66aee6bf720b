from __future__ import annotations

from pathlib import Path

import pytest

from schemas.yaml_source import SourceInvalid
from services.core.library import load_library, load_roster, load_sources, roles_without_holders
from tests.support import FIXTURES, ROOT

EXAMPLE = ROOT / "rosters" / "example.yaml"

OLD_ROSTER = """\
agency: Old PD
members:
  - id: dana
    name: Dana
    roles: [community_liaison, command_staff]
    organisation: Old PD
    email: dana@example.org
"""


def test_roles_no_active_member_holds_are_named_with_the_playbooks_that_need_them() -> None:
    library = load_library(ROOT / "playbooks")
    roster = load_roster(EXAMPLE)
    assert roles_without_holders(library.values(), roster) == {}
    thinned = roster.model_copy(
        update={"members": tuple(m for m in roster.members if "public_information" not in m.roles)}
    )
    missing = roles_without_holders(library.values(), thinned)
    assert list(missing) == ["public_information"]
    assert "officer-involved-shooting" in missing["public_information"]


def test_the_shipped_playbooks_load_with_the_example_roster() -> None:
    library, roster = load_sources(ROOT / "playbooks", EXAMPLE)
    assert len(library) == 6
    named = {t.role for book in library.values() for t in book.playbook.tasks}
    assert named <= {r.id for r in roster.roles}
    assert {"partner_clinician", "interpreter"} <= named


def test_a_playbook_naming_a_role_the_roster_does_not_declare_is_refused_with_its_line(
    tmp_path: Path,
) -> None:
    books = tmp_path / "playbooks"
    books.mkdir()
    source = (FIXTURES / "playbooks" / "drill-chain.yaml").read_text()
    (books / "drill.yaml").write_text(source.replace("role: peer_support", "role: chaplain", 1))
    with pytest.raises(SourceInvalid) as invalid:
        load_sources(books, EXAMPLE)
    [problem] = invalid.value.errors
    assert problem.file == str(books / "drill.yaml")
    assert problem.field.endswith(".role")
    assert problem.line == source.splitlines().index("    role: peer_support") + 1
    assert problem.message.startswith("unknown role 'chaplain'")


def test_an_old_roster_runs_playbooks_of_the_classic_roles(tmp_path: Path) -> None:
    roster_file = tmp_path / "old.yaml"
    roster_file.write_text(OLD_ROSTER)
    library, roster = load_sources(FIXTURES / "playbooks", roster_file)
    assert roster.classic_roles
    assert library


def test_an_old_roster_refuses_playbooks_that_need_roles_it_lacks(tmp_path: Path) -> None:
    roster_file = tmp_path / "old.yaml"
    roster_file.write_text(OLD_ROSTER)
    with pytest.raises(SourceInvalid) as invalid:
        load_sources(ROOT / "playbooks", roster_file)
    messages = {e.message for e in invalid.value.errors}
    assert any(m.startswith("unknown role 'partner_clinician'") for m in messages), messages
    assert any(m.startswith("unknown role 'interpreter'") for m in messages), messages


def test_problems_of_the_roster_and_of_the_playbooks_come_together(tmp_path: Path) -> None:
    roster_file = tmp_path / "broken.yaml"
    roster_file.write_text(OLD_ROSTER.replace("email: dana@example.org", "email: dana"))
    books = tmp_path / "playbooks"
    books.mkdir()
    (books / "empty.yaml").write_text("")
    with pytest.raises(SourceInvalid) as invalid:
        load_sources(books, roster_file)
    assert [e.file for e in invalid.value.errors] == [str(roster_file), str(books / "empty.yaml")]
