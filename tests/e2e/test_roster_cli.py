"""`pathways roster validate | show`, and playbooks checked against the roster, as a user runs
them: no server needed, one line per problem, stable JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.harness import ROSTER, Cli
from tests.support import free_port

pytestmark = pytest.mark.e2e

OLD_ROSTER = """\
agency: Old PD
members:
  - id: dana
    name: Dana
    roles: [community_liaison, command_staff]
    organisation: Old PD
    email: dana@example.org
"""


@pytest.fixture(scope="module")
def cli() -> Cli:
    # Nothing listens there: commands that would ask a server show the roster file instead.
    return Cli(f"nats://127.0.0.1:{free_port()}")


def test_a_roster_with_one_mistake_is_one_line_naming_where_and_a_non_zero_exit(
    cli: Cli, tmp_path: Path
) -> None:
    broken = tmp_path / "roster.yaml"
    text = ROSTER.read_text()
    broken.write_text(text.replace("roles: [victim_advocate]", "roles: [victim_advocat]", 1))
    result = cli("roster", "validate", str(broken))
    assert result.returncode != 0, str(result)
    assert result.stdout == "", str(result)
    assert "Traceback" not in result.stderr
    [line] = result.error_lines
    where = text.splitlines().index("    roles: [victim_advocate]") + 1
    assert line == (
        f"{broken}:{where}:13: members[3].roles[0]: member priya.nair: unknown role "
        "'victim_advocat' (did you mean victim_advocate?)"
    )


def test_every_problem_of_a_roster_is_its_own_line(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "roster.yaml"
    broken.write_text(
        ROSTER.read_text()
        .replace("team: community-engagement", "team: comunity-engagement", 1)
        .replace("roles: [partner_clinician]", "roles: [partner_clinican]", 1)
    )
    result = cli("roster", "validate", str(broken))
    assert result.returncode == 1
    assert len(result.error_lines) == 2, str(result)
    assert all(line.startswith(f"{broken}:") for line in result.error_lines)


def test_a_valid_roster_is_one_ok_line(cli: Cli) -> None:
    result = cli.ok("roster", "validate", str(ROSTER))
    assert result.stdout.startswith(f"ok  {ROSTER}  Example City Police Department: ")
    assert "7 roles" in result.stdout


def test_roster_show_json_has_roles_with_families_and_holders(cli: Cli, tmp_path: Path) -> None:
    shown = cli.json("roster", "show", "--roster", str(ROSTER))
    assert shown["file"] == str(ROSTER) and shown["example"] is True
    roles = {r["id"]: r for r in shown["roles"]}
    assert roles["command_staff"]["families"] == ["command"]
    assert roles["partner_clinician"]["holders"] == ["helen.park", "miguel.santos"]
    assert {m["id"] for m in shown["members"]} >= {"renee.alvarez", "ana.castillo"}
    old = tmp_path / "old.yaml"
    old.write_text(OLD_ROSTER)
    legacy = cli.json("roster", "show", "--roster", str(old))
    assert legacy["classic_roles"] is True and legacy["organisations"] == []
    assert [c["kind"] for c in legacy["members"][0]["channels"]] == ["inbox", "email"]


def test_roster_show_without_a_server_shows_the_roster_pathways_up_would(cli: Cli) -> None:
    shown = cli.json("roster", "show")
    assert Path(shown["file"]).resolve() == ROSTER.resolve() and shown["live"] is False
    result = cli.ok("roster", "show")
    assert "partner_clinician" in result.stdout and "Organisations" in result.stdout
    [note] = result.error_lines
    assert note.startswith("note: cannot reach NATS at ") and note.endswith(
        "showing the roster file rosters/example.yaml instead"
    )


def test_playbooks_needing_roles_an_old_roster_lacks_are_refused_with_their_line(
    cli: Cli, tmp_path: Path
) -> None:
    old = tmp_path / "old.yaml"
    old.write_text(OLD_ROSTER)
    result = cli("playbook", "validate", "playbooks/hate-crime.yaml", "--roster", str(old))
    assert result.returncode == 1, str(result)
    problems = [line for line in result.error_lines if line.startswith("playbooks/")]
    assert len(problems) == 1, str(result)
    assert problems[0].startswith("playbooks/hate-crime.yaml:")
    assert "tasks[1].role: unknown role 'interpreter'" in problems[0]
    assert cli.ok("playbook", "validate", "--roster", str(ROSTER)).stdout.count("ok  ") == 6
