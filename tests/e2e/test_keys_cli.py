"""`pathways admin keys` as an operator runs it: list, ensure, rotate and erase the keys that seal
restricted notes, on the data directory's keys, never printing a key; an erase asks first and
then no reader can open what the scope sealed."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

import pytest

from services.core.sealing import Erased, Keyring
from tests.e2e.harness import PATHWAYS, Cli, CliResult
from tests.support import ROOT

pytestmark = pytest.mark.e2e

SCOPE = "team.peer-support"
PARTNER = "org.harbor-crisis-center"
AAD = {"task": "INC-7Q3XK2AB.peer-support-defusing", "author": "aisha.grant", "field": "note"}


def keys_cli(data_dir: Path) -> Cli:
    cli = Cli(None)
    cli.env["PATHWAYS_DATA_DIR"] = str(data_dir)
    cli.env.pop("PATHWAYS_KEYS_DIR", None)  # the data directory's keys/
    return cli


def key_material(directory: Path) -> list[str]:
    """The keys as written in the files (the last field of each line)."""
    return [
        line.split()[-1]
        for path in directory.glob("*.key")
        for line in path.read_text().splitlines()
        if line and not line.startswith("#")
    ]


def assert_one_line_error(result: CliResult, *says: str) -> None:
    assert result.returncode == 1, str(result)
    assert result.stdout == "", str(result)
    assert len(result.error_lines) == 1 and result.error_lines[0].startswith("error: "), str(result)
    assert "Traceback" not in result.stderr
    for words in says:
        assert words in result.stderr, str(result)


def test_list_ensure_rotate_and_erase(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "data")
    keys_dir = tmp_path / "data" / "keys"
    empty = cli.ok("admin", "keys", "list")
    assert empty.stdout.strip() == f"No keys in {keys_dir}."
    assert cli.json("admin", "keys", "list") == []

    made = cli.ok("admin", "keys", "ensure", SCOPE, PARTNER, SCOPE)
    [first, partner, again] = made.stdout.splitlines()
    key_id = first.split()[2]
    assert first == f"{SCOPE}: key {key_id} made"
    assert partner.startswith(f"{PARTNER}: key ") and partner.endswith(" made")
    assert again == f"{SCOPE}: key {key_id} already there"
    assert keys_dir.stat().st_mode & 0o777 == 0o700

    rotated = cli.ok("admin", "keys", "rotate", SCOPE).stdout.strip()
    assert rotated.endswith("seals new notes; 1 older key still opens earlier ones")
    listed = cli.json("admin", "keys", "list")
    assert [item["scope"] for item in listed] == [PARTNER, SCOPE]
    peer = listed[1]
    assert [v["key_id"] for v in peer["versions"]][0] == key_id
    assert peer["key_id"] == peer["versions"][-1]["key_id"] == rotated.split()[2]

    table = cli.ok("admin", "keys", "list").stdout.splitlines()
    assert table[0].split() == ["SCOPE", "KEY", "CREATED", "(UTC)", "VERSIONS"]
    assert table[2].startswith(SCOPE) and table[2].endswith("2 versions")
    assert all(len(line) <= 80 for line in table)

    everything = [cli.ok("admin", "keys", "list"), made, cli.ok("admin", "keys", "list", "--json")]
    for secret in key_material(keys_dir):
        assert all(secret not in r.stdout + r.stderr for r in everything)

    erased = cli.ok("admin", "keys", "erase", SCOPE, "--yes").stdout.strip()
    assert erased == (
        f"Erased the keys of {SCOPE}: notes sealed for {SCOPE} can no longer be read, by anyone."
    )
    assert [item["scope"] for item in cli.json("admin", "keys", "list")] == [PARTNER]


def test_an_erase_makes_sealed_notes_unreadable_for_a_running_reader(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "data")
    cli.ok("admin", "keys", "ensure", SCOPE, PARTNER)
    reader = Keyring(tmp_path / "data" / "keys", refresh_seconds=0.05)
    note = reader.seal(SCOPE, "restricted words", AAD)
    kept = reader.seal(PARTNER, "a partner's words", AAD)
    cli.ok("admin", "keys", "erase", SCOPE, "--yes")
    reader.refresh_seconds = 0.0  # the next read looks at the directory again
    assert reader.open(note, AAD) == Erased(SCOPE, note.key_id)
    assert reader.open(kept, AAD) == "a partner's words"


def test_erase_without_yes_is_refused_when_nobody_can_be_asked(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "data")
    cli.ok("admin", "keys", "ensure", SCOPE)
    refused = cli("admin", "keys", "erase", SCOPE)  # stdin is not a terminal here
    assert_one_line_error(
        refused, "--yes", f"notes sealed for {SCOPE} can no longer be read, by anyone"
    )
    assert [item["scope"] for item in cli.json("admin", "keys", "list")] == [SCOPE]


def _erase_at_a_terminal(cli: Cli, answer: str) -> subprocess.CompletedProcess[str]:
    main, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [str(PATHWAYS), "admin", "keys", "erase", SCOPE],
            cwd=ROOT,
            env=cli.env,
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        os.write(main, f"{answer}\n".encode())
        stdout, stderr = process.communicate(timeout=30)
    finally:
        os.close(main)
        os.close(terminal)
    return subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)


def test_erase_at_a_terminal_asks_and_says_what_is_lost(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "data")
    cli.ok("admin", "keys", "ensure", SCOPE)
    declined = _erase_at_a_terminal(cli, "n")
    assert declined.returncode == 1, declined
    assert f"notes sealed for {SCOPE} can no longer be read, by anyone" in declined.stderr
    assert "Nothing erased." in declined.stderr
    assert [item["scope"] for item in cli.json("admin", "keys", "list")] == [SCOPE]
    confirmed = _erase_at_a_terminal(cli, "y")
    assert confirmed.returncode == 0, confirmed
    assert confirmed.stdout.startswith(f"Erased the keys of {SCOPE}")
    assert cli.json("admin", "keys", "list") == []


@pytest.mark.parametrize(
    "argv",
    [
        ["ensure", SCOPE, "Team.Peer-Support"],
        ["rotate", "peer-support"],
        ["erase", "team.peer support", "--yes"],
        ["ensure", "org." + "x" * 64],
    ],
    ids=["ensure", "rotate", "erase", "too-long"],
)
def test_a_bad_scope_is_one_line_and_changes_nothing(tmp_path: Path, argv: list[str]) -> None:
    cli = keys_cli(tmp_path / "data")
    result = cli("admin", "keys", *argv)
    assert_one_line_error(
        result, "invalid scope", "expected team.<team-id> or org.<organisation-id>"
    )
    assert not (tmp_path / "data" / "keys").exists()


def test_unknown_scopes_and_unsafe_directories_are_one_line(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "data")
    assert_one_line_error(
        cli("admin", "keys", "rotate", SCOPE), f"run `pathways admin keys ensure {SCOPE}`"
    )
    assert_one_line_error(cli("admin", "keys", "erase", SCOPE, "--yes"), "nothing to erase")
    cli.ok("admin", "keys", "ensure", SCOPE)
    keys_dir = tmp_path / "data" / "keys"
    keys_dir.chmod(0o755)
    for argv in (["list"], ["ensure", SCOPE], ["rotate", SCOPE], ["erase", SCOPE, "--yes"]):
        assert_one_line_error(cli("admin", "keys", *argv), f"chmod 700 {keys_dir}")
    keys_dir.chmod(0o700)
    (keys_dir / f"{SCOPE}.key").chmod(0o644)
    assert_one_line_error(cli("admin", "keys", "list"), f"chmod 600 {keys_dir / SCOPE}.key")


def test_keys_dir_and_data_dir_flags_choose_the_directory(tmp_path: Path) -> None:
    cli = keys_cli(tmp_path / "ignored")
    elsewhere = tmp_path / "secrets" / "pathways-keys"
    cli.ok("admin", "keys", "ensure", SCOPE, "--keys-dir", str(elsewhere))
    assert (elsewhere / f"{SCOPE}.key").exists()
    cli.env["PATHWAYS_KEYS_DIR"] = str(elsewhere)
    assert [item["scope"] for item in cli.json("admin", "keys", "list")] == [SCOPE]
    del cli.env["PATHWAYS_KEYS_DIR"]
    cli.ok("admin", "keys", "ensure", PARTNER, "--data-dir", str(tmp_path / "other"))
    assert (tmp_path / "other" / "keys" / f"{PARTNER}.key").exists()
    assert not (tmp_path / "ignored").exists()
