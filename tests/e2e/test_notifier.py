"""The notifier as people meet it: `pathways up` with a real SMTP server, an incident logged with
the CLI, the assignment in `pathways inbox` and in the mailbox; and a notifier killed after
tasks were assigned, started again: nothing lost, nothing twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from schemas import subjects
from schemas.subjects import EVENTS_STREAM
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.failpoints import FAILPOINT_EXIT
from services.notifier.reactions import RECEIVED
from tests.e2e.harness import (
    MAIL_FROM,
    Cli,
    Service,
    inbox_of,
    local_roster,
    log_incident,
    mails,
    process_env,
    unexpected_tracebacks,
    up_ports,
    wait_for,
)
from tests.integration.receivers import SmtpSink
from tests.support import ROOT, eventually, free_port

pytestmark = pytest.mark.e2e

SERVICES = ("intake", "engine", "projector")


def assignments(cli: Cli, incident_id: str, count: int) -> dict[str, str]:
    """Task id -> assignee of the incident's assigned tasks, once `count` tasks are listed."""

    def listed() -> list[Any] | None:
        tasks: list[Any] = cli.json("task", "list", "--incident", incident_id)
        return tasks if len(tasks) >= count else None

    tasks = wait_for(listed, 30, f"tasks of {incident_id}", interval=0.2)
    return {t["id"]: t["assignee"] for t in tasks if t["status"] == "assigned"}


async def inboxes_list(url: str, assigned: dict[str, str]) -> bool:
    """Every assignment is in its assignee's inbox, once."""
    for person in set(assigned.values()):
        entries = await inbox_of(url, person)
        mine = [
            e["task_id"] for e in entries if e["kind"] == "assigned" and e["task_id"] in assigned
        ]
        if sorted(mine) != sorted(task for task, holder in assigned.items() if holder == person):
            return False
    return True


OIS_TASKS = 17  # officer-involved-shooting, one of them skipped without its attribute


async def test_pathways_up_emails_the_assignees_and_their_inbox_lists_the_assignment(
    tmp_path: Path, mailbox: tuple[SmtpSink, str]
) -> None:
    sink, smtp_url = mailbox
    roster, addresses = local_roster(tmp_path)
    port = free_port()
    env = process_env(PATHWAYS_SMTP_URL=smtp_url, PATHWAYS_MAIL_FROM=MAIL_FROM,
                      PATHWAYS_PUBLIC_URL="https://pathways.pd.example.org")  # fmt: skip
    argv = ["up", "--data-dir", str(tmp_path / "data"), "--nats-port", str(port),
            *up_ports(), "--roster", str(roster)]  # fmt: skip
    up = Service("up", argv, env, tmp_path)
    url = f"nats://127.0.0.1:{port}"
    try:
        await up.started()
        cli = Cli(url)
        incident_id = log_incident(cli, "Shooting at 5th and Main")
        assigned = assignments(cli, incident_id, OIS_TASKS)
        await eventually(lambda: inboxes_list(url, assigned), timeout=30, interval=0.2)
        expected = Counter(addresses[p] for p in assigned.values() if p in addresses)
        wait_for(
            lambda: Counter(to for to, _ in mails(sink, incident_id)) == expected,
            30,
            "an email for every assignment",
        )
        task_id, person = sorted(assigned.items())[0]
        shown = cli.ok("inbox", "--as", person).stdout
        assert task_id in shown and "assigned" in shown
        [entry] = [e for e in cli.json("inbox", "--as", person) if e["task"] == task_id]
        assert entry["link"] == f"https://pathways.pd.example.org/tasks/{task_id}"
        assert set(mails(sink, incident_id).values()) == {1}
    finally:
        up.stop()
    assert not unexpected_tracebacks(up.log_text()), up.describe()
    assert not [e for e in up.log_events() if e.get("level") in ("error", "critical")]


class Processes:
    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.started: list[Service] = []

    def run(self, name: str, label: str | None = None, **extra: str) -> Service:
        service = Service(label or name, ["run", name], {**self.env, **extra}, self.directory)
        self.started.append(service)
        return service

    def stop(self) -> None:
        for service in self.started:
            service.stop()


async def notice_records(url: str, incident_id: str) -> dict[str, int]:
    """Every delivery record of the incident in the event stream: subject -> how many."""
    nc = await connect(url, name="e2e-records")
    try:
        info = await nc.jetstream().stream_info(
            EVENTS_STREAM, subjects_filter=subjects.incident_notices(incident_id)
        )
    finally:
        await nc.close()
    return dict(info.state.subjects or {})


async def test_a_notifier_killed_after_assignment_loses_nothing_and_sends_nothing_twice(
    tmp_path: Path, mailbox: tuple[SmtpSink, str]
) -> None:
    sink, smtp_url = mailbox
    roster, addresses = local_roster(tmp_path)
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    env = process_env(PATHWAYS_NATS_URL=server.url, PATHWAYS_ROSTER=str(roster),
                      PATHWAYS_PLAYBOOKS_DIR=str(ROOT / "playbooks"), PATHWAYS_SMTP_URL=smtp_url,
                      PATHWAYS_MAIL_FROM=MAIL_FROM, PATHWAYS_ACK_WAIT_SECONDS="2")  # fmt: skip
    processes = Processes(tmp_path, env)
    cli = Cli(server.url)
    try:
        cli.ok("migrate")
        for name in SERVICES:
            processes.run(name)
        # This notifier stops dead (like SIGKILL) as it takes up the first assignment.
        first = processes.run("notifier", "notifier-1", PATHWAYS_FAILPOINT=RECEIVED)
        for service in processes.started:
            await service.started()
        incident_a = log_incident(cli, "Shooting at 5th and Main")
        assigned_a = assignments(cli, incident_a, OIS_TASKS)
        assert wait_for(first.process.poll, 30, "the notifier to stop") == FAILPOINT_EXIT
        assert not mails(sink, incident_a) and not await notice_records(server.url, incident_a)

        second = processes.run("notifier", "notifier-2")
        await second.started()
        await eventually(lambda: inboxes_list(server.url, assigned_a), timeout=30, interval=0.2)
        expected_a = Counter(addresses[p] for p in assigned_a.values() if p in addresses)
        wait_for(lambda: Counter(t for t, _ in mails(sink, incident_a)) == expected_a, 30,
                 "A's emails")  # fmt: skip

        # Tasks assigned while no notifier runs wait for the next one.
        second.kill()
        incident_b = log_incident(cli, "Second shooting")
        assigned_b = assignments(cli, incident_b, OIS_TASKS)
        third = processes.run("notifier", "notifier-3")
        await third.started()
        await eventually(lambda: inboxes_list(server.url, assigned_b), timeout=30, interval=0.2)
        expected_b = Counter(addresses[p] for p in assigned_b.values() if p in addresses)
        wait_for(lambda: Counter(t for t, _ in mails(sink, incident_b)) == expected_b, 30,
                 "B's emails")  # fmt: skip

        for incident_id, assigned in ((incident_a, assigned_a), (incident_b, assigned_b)):
            assert set(mails(sink, incident_id).values()) == {1}  # no message twice
            records = await notice_records(server.url, incident_id)
            assert set(records.values()) == {1}
            with_email = [p for p in assigned.values() if p in addresses]
            assert len(records) == len(assigned) + len(with_email)  # inbox entries and emails
            assert await inboxes_list(server.url, assigned)  # once each, still
            task_id, person = sorted(assigned.items())[-1]
            listed = [e["task"] for e in cli.json("inbox", "--as", person) if e["task"] == task_id]
            assert listed == [task_id]
    finally:
        processes.stop()
        await server.stop()
    for service in processes.started:
        assert not unexpected_tracebacks(service.log_text()), service.describe()


def test_an_unusable_mail_server_url_stops_the_notifier_in_one_line(tmp_path: Path) -> None:
    url = "ftp://mailer:s3cret@mail.pd.example.org"
    env = process_env(PATHWAYS_SMTP_URL=url)
    service = Service("notifier", ["run", "notifier", "--nats-url", "nats://127.0.0.1:1"], env,
                      tmp_path)  # fmt: skip
    try:
        code = wait_for(service.process.poll, 30, "the notifier to stop")
    finally:
        service.stop()
    assert code == 1
    [line] = [line for line in service.log_text().splitlines() if line.strip()]
    assert line == (
        "error: cannot start: PATHWAYS_SMTP_URL: the SMTP URL must start with smtp:// or smtps://"
    )
    assert "s3cret" not in service.log_text()
