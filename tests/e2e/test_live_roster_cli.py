"""`pathways roster load | show | who | away` against a running `pathways up` of their own (the
versions loaded here must not reach the other end-to-end tests)."""

from __future__ import annotations

import fcntl
import json
import os
import pty
import struct
import subprocess
import termios
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import PATHWAYS, ROSTER, Cli, start_up
from tests.support import ROOT

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    service, url, _ = start_up(tmp_path_factory.mktemp("live-roster"))
    try:
        service.wait_started()
        yield Cli(url)
    finally:
        service.stop()


def in_a_terminal(cli: Cli, *argv: str, columns: int = 80) -> str:
    """What the command prints on a terminal `columns` wide."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    env = {**cli.env, "TERM": "dumb", "NO_COLOR": "1"}
    process = subprocess.Popen(
        [str(PATHWAYS), *argv], cwd=ROOT, env=env, stdin=child, stdout=child, stderr=child
    )
    os.close(child)
    chunks: list[bytes] = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait(30) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode().replace("\r\n", "\n")


def test_a_broken_roster_is_one_line_a_non_zero_exit_and_nothing_stored(
    cli: Cli, tmp_path: Path
) -> None:
    before = cli.json("roster", "show")
    broken = tmp_path / "roster.yaml"
    text = ROSTER.read_text()
    broken.write_text(text.replace("team: victim-services", "team: victim-service", 1))
    result = cli("roster", "load", str(broken), "--as", "renee.alvarez")
    assert result.returncode == 1, str(result)
    assert result.stdout == "" and "Traceback" not in result.stderr
    [line] = result.error_lines
    where = text.splitlines().index("    team: victim-services") + 1
    assert line == (
        f"{broken}:{where}:5: members[3].team: member priya.nair: unknown team "
        "'victim-service' (did you mean victim-services?)"
    )
    after = cli.json("roster", "show")
    assert (after["version"], after["loaded_by"]) == (before["version"], None)


def test_a_loaded_roster_is_in_force_and_shown_with_its_version(cli: Cli, tmp_path: Path) -> None:
    edited = tmp_path / "roster.yaml"
    edited.write_text(ROSTER.read_text().replace("name: Marcus Bell", "name: Marcus J. Bell"))
    loaded = cli.json("roster", "load", str(edited), "--as", "renee.alvarez")
    assert loaded["changed"] is True and loaded["version"] != loaded["previous"]
    shown = cli.json("roster", "show")
    assert shown["live"] is True and shown["version"] == loaded["version"]
    assert (shown["loaded_by"], shown["file"]) == ("renee.alvarez", str(edited))
    assert any(m["name"] == "Marcus J. Bell" for m in shown["members"])
    again = cli.ok("roster", "load", str(edited), "--as", "renee.alvarez")
    assert "already in force" in again.stdout
    text = cli.ok("roster", "show").stdout
    assert f"version {loaded['version']}, in force since" in text
    assert "On call now" in text


def test_roster_who_fits_80_columns_and_its_json_names_who_is_on_call(cli: Cli) -> None:
    text = in_a_terminal(cli, "roster", "who", "victim_advocate")
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[0].startswith("victim_advocate — Victim advocate"), text
    assert "ON CALL" in text and "rotation" in text

    during = cli.json("roster", "who", "victim_advocate", "--at", "2026-12-25T12:00")
    assert during["policy"] == "on_call_first" and during["role"] == "victim_advocate"
    assert during["on_call"] == [
        {"id": "sam.whitfield", "source": "override", "until": "2026-12-28T14:00:00+00:00"}
    ]
    assert during["available"][0] == "sam.whitfield"
    assert set(during["available"]) == {"priya.nair", "sam.whitfield", "lena.morales"}
    assert set(during) >= {"at", "version", "live", "away", "inactive", "title"}

    unknown = cli("roster", "who", "victim_advocat")
    assert unknown.returncode == 1
    assert unknown.error_lines == [
        "error: unknown role 'victim_advocat' (did you mean victim_advocate?)"
    ]


def test_someone_recorded_away_is_shown_away_and_not_on_call(cli: Cli) -> None:
    at = "2026-12-25T12:00"
    recorded = cli.json(
        "roster", "away", "sam.whitfield", "--from", "2026-12-24", "--until", "2026-12-27",
        "--as", "renee.alvarez",
    )  # fmt: skip
    assert recorded["changed"] is True and recorded["from"] == "2026-12-24T06:00:00+00:00"
    during = cli.json("roster", "who", "victim_advocate", "--at", at)
    assert during["on_call"] == [] and "sam.whitfield" not in during["available"]
    assert [a["id"] for a in during["away"]] == ["sam.whitfield"]
    shown = cli.json("roster", "show")
    assert [a["id"] for a in shown["away"]] == ["sam.whitfield"]
    refused = cli(
        "roster", "away", "sam.whitfield", "--from", "2026-12-24", "--until", "2026-12-27",
        "--as", "dana.reyes",
    )  # fmt: skip
    assert (
        refused.returncode == 1
        and "only they themselves, command staff and administrators" in refused.stderr
    )
    bad = cli("roster", "away", "sam.whitfield", "--from", "soon", "--until", "later", "--as", "x")
    assert bad.returncode == 1 and bad.error_lines[0].startswith("error: --from: 'soon'")
    assert json.loads(cli.ok("roster", "who", "victim_advocate", "--json", "--file", str(ROSTER))
                      .stdout)["live"] is False  # fmt: skip
