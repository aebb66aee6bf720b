"""End-to-end harness: real `pathways` processes, driven through the CLI as a user would.

Every process started here has its output in a file (so a pipe can never fill up and stall
it), is stopped in a finalizer (SIGTERM, then SIGKILL), and every wait is bounded.
"""

from __future__ import annotations

import asyncio
import email
import functools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import IO, Any, TypeVar

import yaml

from schemas import subjects
from schemas.commands import ListInbox
from services.core.broker import connect
from services.core.rpc import call
from tests.integration.receivers import SmtpSink
from tests.support import ROOT, caller, console_key, free_port, sealing_keys, signing

PATHWAYS = Path(sys.executable).parent / "pathways"
PLAYBOOK = ROOT / "playbooks" / "officer-involved-shooting.yaml"
ROSTER = ROOT / "rosters" / "example.yaml"
MAIL_FROM = "Pathways <pathways@pd.example.org>"

CLI_TIMEOUT = 30.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

T = TypeVar("T")


def process_env(**extra: str) -> dict[str, str]:
    """The caller's environment without any PATHWAYS_* setting, plus JSON logs and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATHWAYS_")}
    env["PATHWAYS_LOG_FORMAT"] = "json"
    env.update(signing()[1])  # services verify, and `--as` signs, with the session's key
    env.update(console_key())  # `pathways run gateway` has no data directory to make one in
    # `--as` seals restricted text with the session's keys, never with a checkout's .pathways.
    env["PATHWAYS_KEYS_DIR"] = str(sealing_keys())
    # Never the credentials of whoever runs the tests (`pathways login` keeps them there).
    env["XDG_CONFIG_HOME"] = str(no_credentials())
    env.update(extra)
    return env


@functools.cache
def no_credentials() -> Path:
    """An empty config directory: the command line finds no saved API token in it."""
    return Path(tempfile.mkdtemp(prefix="pathways-config-"))


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll `probe` until it returns something other than None/False; fail after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout:g}s")
        time.sleep(interval)


# ------------------------------------------------------------------------------- the CLI


@dataclass(frozen=True)
class CliResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return (
            f"`pathways {' '.join(self.argv)}` exited {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )

    def json(self) -> Any:
        assert self.returncode == 0, str(self)
        return json.loads(self.stdout)

    @property
    def error_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


class Cli:
    """Runs `pathways ...` as a subprocess from the repository root."""

    def __init__(self, nats_url: str | None) -> None:
        self.env = process_env(**({"PATHWAYS_NATS_URL": nats_url} if nats_url else {}))

    def __call__(
        self, *argv: str, timeout: float = CLI_TIMEOUT, stdin: str | None = None
    ) -> CliResult:
        """`stdin`: what the command reads on its standard input (none by default)."""
        done = subprocess.run(
            [str(PATHWAYS), *argv],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **({"stdin": subprocess.DEVNULL} if stdin is None else {"input": stdin}),
        )
        return CliResult(tuple(argv), done.returncode, done.stdout, done.stderr)

    def ok(self, *argv: str) -> CliResult:
        result = self(*argv)
        assert result.returncode == 0, str(result)
        assert "Traceback" not in result.stderr, str(result)
        return result

    def json(self, *argv: str) -> Any:
        return self.ok(*argv, "--json").json()

    async def run_async(self, *argv: str, timeout: float = CLI_TIMEOUT) -> CliResult:
        """The same, without blocking the event loop (for tests that also hold a NATS client)."""
        process = await asyncio.create_subprocess_exec(
            str(PATHWAYS),
            *argv,
            cwd=ROOT,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            process.kill()
            await process.wait()
            raise
        assert process.returncode is not None
        return CliResult(tuple(argv), process.returncode, stdout.decode(), stderr.decode())


# ------------------------------------------------------------------- long-running processes


class Service:
    """A long-running `pathways` process (`up` or `run SERVICE`), its output in a log file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [str(PATHWAYS), *argv],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def log_events(self) -> list[dict[str, Any]]:
        """The JSON log lines (PATHWAYS_LOG_FORMAT=json); plain lines are skipped."""
        found: list[dict[str, Any]] = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                try:
                    found.append(json.loads(line))
                except json.JSONDecodeError:
                    continue  # a line still being written
        return found

    def logged(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.log_events() if e.get("event") == event]

    def describe(self) -> str:
        tail = "\n".join(self.log_text().splitlines()[-30:])
        return f"{self.name} (pid {self.pid}, exit {self.process.poll()}); log tail:\n{tail}"

    def _started(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"{self.name} exited before it was up: {self.describe()}")
        return bool(self.logged("services_started"))

    def wait_started(self, timeout: float = START_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not self._started():
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not up in {timeout:g}s: {self.describe()}")
            time.sleep(0.05)

    async def started(self, timeout: float = START_TIMEOUT) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not self._started():
            if loop.time() > deadline:
                raise AssertionError(
                    f"{self.name} did not start in {timeout:g}s: {self.describe()}"
                )
            await asyncio.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(STOP_TIMEOUT)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time; always reaps and closes the log."""
        try:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(STOP_TIMEOUT)
        finally:
            self._log.close()


def unexpected_tracebacks(log: str) -> list[str]:
    """Every traceback in a service log: a healthy run has none."""
    return log.split("Traceback (most recent call last):")[1:]


def children(pid: int) -> list[int]:
    """Direct children of a process, from /proc (psutil is not installed)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
    return found


def command_line(pid: int) -> str:
    try:
        return (Path(f"/proc/{pid}") / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def process_state(pid: int) -> str | None:
    """The one-letter state of a process (R, S, Z...), None if there is no such process."""
    try:
        stat = (Path(f"/proc/{pid}") / "stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def nats_server_children(pid: int) -> list[int]:
    return [c for c in children(pid) if "nats-server" in command_line(c)]


def nats_server_running(pid: int) -> bool:
    """True while `pid` is a live nats-server (not gone, not a zombie, not a reused pid)."""
    state = process_state(pid)
    return state is not None and state != "Z" and "nats-server" in command_line(pid)


@dataclass(frozen=True)
class Stack:
    """`pathways up` with its bundled nats-server."""

    service: Service
    nats_url: str
    data_dir: Path


def start_up(
    log_dir: Path, port: int | None = None, http_port: int | None = None, *extra: str
) -> tuple[Service, str, Path]:
    """`pathways up` with NATS on `port` and the gateway on `http_port` (free ports if None:
    never 4222 or 8080, which this machine shares)."""
    port = port or free_port()
    data_dir = log_dir / "data"
    service = Service(
        "up",
        ["up", "--data-dir", str(data_dir), "--nats-port", str(port), *up_ports(http_port), *extra],
        process_env(),
        log_dir,
    )
    return service, f"nats://127.0.0.1:{port}", data_dir


def up_ports(http_port: int | None = None) -> list[str]:
    """The gateway's port for a `pathways up` or `pathways run gateway` a test starts."""
    return ["--port", str(http_port or free_port())]


# ------------------------------------------------------------------- playbook and roster


def playbook_tasks() -> list[dict[str, Any]]:
    tasks: list[dict[str, Any]] = yaml.safe_load(PLAYBOOK.read_text())["tasks"]
    return tasks


def roster_holders() -> dict[str, list[str]]:
    """Role -> active member ids, in rotation order."""
    holders: dict[str, list[str]] = {}
    for member in yaml.safe_load(ROSTER.read_text())["members"]:
        if member.get("active", True):
            for role in member["roles"]:
                holders.setdefault(role, []).append(member["id"])
    return holders


def local_roster(directory: Path) -> tuple[Path, dict[str, str]]:
    """The example roster with only inboxes and emails sent at once (webhooks and Apprise
    would leave the machine), and each member's email address."""
    roster = yaml.safe_load(ROSTER.read_text())
    addresses: dict[str, str] = {}
    for member in roster["members"]:
        member["channels"] = [
            {k: v for k, v in c.items() if k != "after"}
            for c in member["channels"]
            if c["kind"] in ("inbox", "email")
        ]
        emails = [c["address"] for c in member["channels"] if c["kind"] == "email"]
        if emails:
            addresses[member["id"]] = emails[0]
    path = directory / "roster.yaml"
    path.write_text(yaml.safe_dump(roster, sort_keys=False))
    return path, addresses


def mails(sink: SmtpSink, incident_id: str) -> Counter[tuple[str, str]]:
    """(recipient, Message-ID) of every message about the incident, counted."""
    found: Counter[tuple[str, str]] = Counter()
    for received in sink.received:
        message = email.message_from_bytes(received.content, policy=policy.default)
        if incident_id in str(message["Message-ID"]):
            for to in received.rcpt_tos:
                found[(to, str(message["Message-ID"]).strip())] += 1
    return found


def log_incident(cli: Cli, title: str, *extra: str) -> str:
    logged = cli.json(
        "incident",
        "log",
        "--type",
        "officer-involved-shooting",
        "--title",
        title,
        "--as",
        "renee.alvarez",
        *extra,
    )
    incident_id: str = logged["incident"]["id"]
    return incident_id


def wait_for_tasks(cli: Cli, incident_id: str, count: int, timeout: float = 20.0) -> list[Any]:
    def listed() -> list[Any] | None:
        tasks: list[Any] = cli.json("task", "list", "--incident", incident_id)
        return tasks if len(tasks) >= count else None

    tasks = wait_for(listed, timeout, f"{count} tasks for {incident_id}", interval=0.2)
    assert len(tasks) == count, [t["id"] for t in tasks]
    return tasks


async def inbox_of(url: str, person: str) -> list[dict[str, Any]]:
    """What `pathways inbox --as PERSON --json` reads, asked directly: polling through the CLI
    would start a process per person per look."""
    nc = await connect(url, name="e2e-inbox")
    try:
        query = ListInbox(person=person, limit=500)
        reply = await call(nc, subjects.QRY_INBOX, query, caller(query, person))
    finally:
        await nc.close()
    assert reply.ok and isinstance(reply.data, dict), reply.error
    items: list[dict[str, Any]] = reply.data["items"]
    return items
