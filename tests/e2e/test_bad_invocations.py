"""Every bad invocation is one line on stderr and a non-zero exit — never a traceback, never
half an answer on stdout. One table, run against a real `pathways up`."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.harness import PATHWAYS, Cli, CliResult, process_env, up_ports
from tests.support import free_port

pytestmark = pytest.mark.e2e

LOG = ["incident", "log", "--type", "hate-crime", "--title", "Graffiti", "--as", "renee.alvarez"]


@dataclass(frozen=True)
class Bad:
    name: str
    argv: Callable[[Path, str], list[str]]  # (a scratch directory, an incident id) -> argv
    says: str
    alone: bool = False  # run without PATHWAYS_NATS_URL (`up` would use that server)


def nats_and_http_ports() -> list[str]:
    return ["--nats-port", str(free_port()), *up_ports()]


BAD = [
    Bad("empty nats url", lambda t, i: ["incident", "list", "--nats-url", ""], "invalid NATS URL"),
    Bad(
        "port past 65535",
        lambda t, i: ["up", "--nats-port", "99999", *up_ports()],
        "nats_port",
        alone=True,
    ),
    Bad(
        "data dir that is a file",
        lambda t, i: ["up", "--data-dir", str(t / "a-file"), *nats_and_http_ports()],
        "is a file",
        alone=True,
    ),
    Bad(
        "data dir inside a file",
        lambda t, i: ["up", "--data-dir", str(t / "a-file" / "x"), *nats_and_http_ports()],
        "cannot use data directory",
        alone=True,
    ),
    Bad(
        "timeline into a missing directory",
        lambda t, i: ["timeline", i, "--out", str(t / "missing" / "timeline.txt")],
        "cannot write",
    ),
    Bad("boolean spelled Y", lambda t, i: [*LOG, "--attr", "language_access_needed=Y"], "boolean"),
    Bad(
        "misspelt attribute",
        lambda t, i: [*LOG, "--attr", "language_acess_needed=yes"],
        "did you mean language_access_needed?",
    ),
    Bad(
        "misspelt involved officer",
        lambda t, i: [*LOG, "--involved", "renee.alvares"],
        "no roster member renee.alvares (did you mean renee.alvarez?)",
    ),
    Bad(
        "unknown actor",
        lambda t, i: [*LOG[:-2], "--as", "nobody.here"],
        "no roster member nobody.here",
    ),
    Bad("time scale nan", lambda t, i: [*LOG, "--exercise", "--time-scale", "nan"], "--time-scale"),
    Bad(
        "a title of 130,000 characters",
        lambda t, i: [*LOG[:4], "--title", "x" * 130_000, *LOG[6:]],
        "--title is too long",
    ),
    Bad("malformed task id", lambda t, i: ["task", "ack", "nonsense", "--as", "a.b"], "task id"),
    Bad(
        "task of no incident",
        lambda t, i: ["task", "ack", "INC-ZZZZZZZZ.nothing", "--as", "dana.reyes"],
        "no task",
    ),
    Bad(
        "close by someone not command staff",
        lambda t, i: ["incident", "close", i, "--reason", "x", "--as", "dana.reyes"],
        "only command staff",
    ),
    Bad(
        "assign to someone not in the role",
        lambda t, i: [
            "task",
            "assign",
            f"{i}.public-statement",
            "--to",
            "dana.reyes",
            "--as",
            "renee.alvarez",
        ],  # fmt: skip
        "does not hold the role public_information",
    ),
    Bad(
        "roster show of a file that is no roster",
        lambda t, i: ["roster", "show", "--roster", str(t / "a-file")],
        "1 problem(s); see: pathways roster validate",
        alone=True,
    ),
]


@pytest.fixture(scope="module")
def incident(cli: Cli) -> str:
    logged = cli.json(*LOG, "--json")
    incident_id: str = logged["incident"]["id"]
    return incident_id


def assert_one_line(result: CliResult, fragment: str) -> None:
    assert result.returncode != 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    lines = [line for line in result.error_lines if not line.startswith("{")]
    assert len(lines) == 1, str(result)
    assert lines[0].startswith("error: ") and fragment in lines[0], str(result)
    assert result.stdout.strip() == "", str(result)


@pytest.mark.parametrize("bad", BAD, ids=[b.name for b in BAD])
def test_a_bad_invocation_is_one_line_and_a_non_zero_exit(
    cli: Cli, incident: str, tmp_path: Path, bad: Bad
) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    runner = Cli(None) if bad.alone else cli
    assert_one_line(runner(*bad.argv(tmp_path, incident)), bad.says)


def test_a_request_id_reused_for_other_content_is_one_line_naming_the_original(
    cli: Cli,
) -> None:
    rid = uuid.uuid4().hex
    first = cli.json(*LOG, "--request-id", rid, "--json")
    again = cli(*LOG[:4], "--title", "Another", *LOG[6:], "--request-id", rid)
    assert_one_line(again, f"already used to log {first['incident']['id']}")


@pytest.mark.parametrize("after", [0.25, 0.35, 0.5])
def test_ctrl_c_while_starting_up_is_one_line(tmp_path: Path, after: float) -> None:
    command = [str(PATHWAYS), "up", "--data-dir", str(tmp_path), *nats_and_http_ports()]
    up = subprocess.Popen(
        command, env=process_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    time.sleep(after)
    up.send_signal(signal.SIGINT)
    out, err = up.communicate(timeout=30)
    assert up.returncode != 0 or "nats_stopped" in err, (up.returncode, err)
    assert "Traceback" not in err, err
    assert out.strip() == ""
