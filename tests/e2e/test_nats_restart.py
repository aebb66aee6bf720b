"""NATS restarted between scheduling and firing: nothing lost, nothing twice.

A nats-server this test starts (free port, temporary store), the services as separate
`pathways run` processes, and an SMTP server. An incident's task is assigned and its reminder
and escalation steps are scheduled; then nats-server stops. While it is away the acknowledge
deadline, every step of the acknowledge chain and a reminder come due; it starts again on the
same port and store, and the due chain comes due after that. Every step is appended once, each
email is received once, the inboxes and the timeline show each, and every service rode out the
outage."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from schemas import subjects
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.readers import read_messages
from services.notifier.notices import notice_id_for
from tests.e2e.harness import Cli, Service, inbox_of, mails, process_env, unexpected_tracebacks
from tests.integration.receivers import SmtpSink
from tests.support import eventually, free_port

pytestmark = pytest.mark.e2e

T = TypeVar("T")

# An hour of the drill takes eight seconds: the task is to be acknowledged 8 s after it is
# assigned; the acknowledge chain's steps come at 8, 9.3 and 10.7 s, the reminder at 10 s (45
# minutes before the due time), and the due chain's steps at 16, 17.3 and 18.7 s.
HOUR = 8.0
SCALE = HOUR / 3600
KEY = "family-contact"
INCIDENT_TYPE = "outage-drill"
PLAYBOOK = f"""\
id: outage-drill
title: Deadlines through a NATS outage
triggers:
  incident_types: [{INCIDENT_TYPE}]
tasks:
  - key: {KEY}
    title: Family contact
    role: victim_advocate
    tier: command
    acknowledge_within: PT1H
    due_within: PT2H
    escalation:
      remind_before_due: [PT45M]
      steps:
        - action: remind
        - action: notify_coordinator
          wait: PT10M
        - action: notify_command
          wait: PT10M
"""
CHAIN = HOUR * 20 / 60  # from the deadline to the chain's last step
OUTAGE = timedelta(seconds=10)  # the least time nats-server is away
# Priya is the only victim advocate; Sam coordinates them; Renee and James are command staff.
ROSTER = """\
agency: Outage drill
time_zone: America/Chicago
roles:
  - {id: victim_advocate, title: Victim advocate, family: victim_advocate,
     coordinators: [sam.whitfield]}
  - {id: victim_services_lead, title: Victim services lead, family: victim_advocate}
  - {id: command_staff, title: Command staff, family: command}
organisations:
  - {id: ecpd, name: ECPD}
members:
  - {id: priya.nair, name: Priya Nair, roles: [victim_advocate], organisation: ecpd,
     channels: [{kind: inbox}, {kind: email, address: priya.nair@example.org}]}
  - {id: sam.whitfield, name: Sam Whitfield, roles: [victim_services_lead], organisation: ecpd,
     channels: [{kind: inbox}, {kind: email, address: sam.whitfield@example.org}]}
  - {id: renee.alvarez, name: Renee Alvarez, roles: [command_staff], organisation: ecpd,
     channels: [{kind: inbox}, {kind: email, address: renee.alvarez@example.org}]}
  - {id: james.thornton, name: James Thornton, roles: [command_staff], organisation: ecpd,
     channels: [{kind: inbox}, {kind: email, address: james.thornton@example.org}]}
"""
PEOPLE = ("priya.nair", "sam.whitfield", "renee.alvarez", "james.thornton")
COMMAND = ("renee.alvarez", "james.thornton")
# Every step the task will run, with whom it tells and the notice they get; and the pending
# schedule of each, by its token (`<assignment>-<kind>-<number>`).
STEPS: dict[tuple[str, str | None, int | None], tuple[tuple[str, ...], str]] = {
    ("task.escalated", "acknowledge", 1): (("priya.nair",), "acknowledge_overdue"),
    ("task.escalated", "acknowledge", 2): (("sam.whitfield",), "escalation"),
    ("task.escalated", "acknowledge", 3): (COMMAND, "escalation"),
    ("task.reminded", None, None): (("priya.nair",), "reminder"),
    ("task.escalated", "due", 1): (("priya.nair",), "reminder"),
    ("task.escalated", "due", 2): (("sam.whitfield",), "escalation"),
    ("task.escalated", "due", 3): (COMMAND, "escalation"),
}
SCHEDULES = {"1-ack-1", "1-ack-2", "1-ack-3", "1-remind-1", "1-due-1", "1-due-2", "1-due-3"}
SERVICES = ("intake", "engine", "projector", "timeline", "notifier")
MAIL_FROM = "Pathways <pathways@pd.example.org>"
# The durable consumers that handle deadlines and notices, and their streams.
CONSUMERS = (
    (subjects.EVENTS_STREAM, "engine-deadlines"),
    (subjects.TIMERS_STREAM, "engine-on-deadline"),
    (subjects.EVENTS_STREAM, "notifier"),
    (subjects.EVENTS_STREAM, "notifier-on-notice-failed"),
    (subjects.TIMERS_STREAM, "notifier-on-timer"),
)


class Nats:
    """Short-lived clients of the test's own server: one per look, so that none is left
    connected across the outage."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def task_events(self, incident_id: str) -> list[dict[str, Any]]:
        nc = await connect(self.url, name="e2e-restart")
        try:
            found = await read_messages(
                nc.jetstream(), subjects.EVENTS_STREAM, subjects.task_filter(incident_id, KEY)
            )
        finally:
            await nc.close()
        events: list[dict[str, Any]] = [json.loads(m.data) for m in found]
        return events

    async def schedules(self, incident_id: str) -> set[str]:
        """The task's pending reminder and escalation schedules, by token."""
        nc = await connect(self.url, name="e2e-restart")
        try:
            info = await nc.jetstream().stream_info(
                subjects.TIMERS_STREAM,
                subjects_filter=subjects.task_deadline_schedules(incident_id, KEY),
            )
        finally:
            await nc.close()
        return {subject.rsplit(".", 1)[1] for subject in info.state.subjects or {}}

    async def outcomes(self, incident_id: str) -> dict[str, int]:
        """Every delivery record of the incident: subject -> how many."""
        nc = await connect(self.url, name="e2e-restart")
        try:
            info = await nc.jetstream().stream_info(
                subjects.EVENTS_STREAM, subjects_filter=subjects.incident_notices(incident_id)
            )
        finally:
            await nc.close()
        return dict(info.state.subjects or {})

    async def inbox(self, person: str) -> list[dict[str, Any]]:
        return await inbox_of(self.url, person)

    async def idle(self) -> bool:
        """The deadline and notice consumers have nothing waiting or in hand, and no notice
        waits in the timers stream."""
        nc = await connect(self.url, name="e2e-restart")
        try:
            js = nc.jetstream()
            waiting = await js.stream_info(
                subjects.TIMERS_STREAM, subjects_filter="pw.sched.*.notice.>"
            )
            if waiting.state.subjects:
                return False
            for stream, durable in CONSUMERS:
                info = await js.consumer_info(stream, durable)
                if info.num_pending or info.num_ack_pending:
                    return False
            return True
        finally:
            await nc.close()


def step_of(event: dict[str, Any]) -> tuple[str, str | None, int | None] | None:
    if event["type"] == "task.escalated":
        return (event["type"], event["deadline"], event["step"])
    if event["type"] == "task.reminded":
        return (event["type"], None, None)
    return None


def steps_run(events: list[dict[str, Any]]) -> Counter[tuple[str, str | None, int | None]]:
    return Counter(step for event in events if (step := step_of(event)) is not None)


def message_id(event_id: str, person: str) -> str:
    """The Message-ID of the notice an event sends a person (docs/notifications.md)."""
    notice = notice_id_for(event_id, person)
    return f"<{notice.replace('.', '=')}.{person.replace('.', '=')}@pd.example.org>"


def seconds_until(moment: datetime) -> float:
    return (moment - datetime.now(UTC)).total_seconds()


async def test_a_nats_restart_between_scheduling_and_firing_loses_no_step_and_doubles_none(
    tmp_path: Path, mailbox: tuple[SmtpSink, str]
) -> None:
    sink, smtp_url = mailbox
    (tmp_path / "playbooks").mkdir()
    (tmp_path / "playbooks" / "outage-drill.yaml").write_text(PLAYBOOK)
    (tmp_path / "roster.yaml").write_text(ROSTER)
    port = free_port()
    server = EmbeddedNats(tmp_path / "nats", port)
    await server.start()
    nats = Nats(server.url)
    cli = Cli(server.url)
    env = process_env(PATHWAYS_NATS_URL=server.url, PATHWAYS_ROSTER=str(tmp_path / "roster.yaml"),
                      PATHWAYS_PLAYBOOKS_DIR=str(tmp_path / "playbooks"),
                      PATHWAYS_SMTP_URL=smtp_url, PATHWAYS_MAIL_FROM=MAIL_FROM,
                      PATHWAYS_ACK_WAIT_SECONDS="5")  # fmt: skip
    processes: list[Service] = []
    try:
        cli.ok("migrate")
        processes = [Service(name, ["run", name], env, tmp_path) for name in SERVICES]
        for service in processes:
            await service.started()
        logged = cli.json(
            "incident", "log", "--type", INCIDENT_TYPE, "--title", "Outage drill",
            "--as", "renee.alvarez", "--exercise", "--time-scale", f"{SCALE:.10f}",
        )  # fmt: skip
        incident_id: str = logged["incident"]["id"]

        async def assigned() -> dict[str, Any] | None:
            events = await nats.task_events(incident_id)
            created = [e for e in events if e["type"] == "task.created"]
            return created[0]["task"] if created and created[0]["task"]["assignee"] else None

        task = await eventually(assigned, 20, interval=0.2, what="the task created and assigned")
        assert task["assignee"] == "priya.nair", task
        acknowledge_by = datetime.fromisoformat(task["acknowledge_by"])
        due_by = datetime.fromisoformat(task["due_by"])

        async def scheduled() -> bool:
            return await nats.schedules(incident_id) == SCHEDULES

        await eventually(scheduled, 15, interval=0.2, what=f"the schedules {sorted(SCHEDULES)}")
        assignment = message_id(f"{task['task_id']}.created", "priya.nair")

        async def assignment_sent() -> bool:
            return set(mails(sink, incident_id)) == {("priya.nair@example.org", assignment)}

        await eventually(assignment_sent, 15, interval=0.2, what="the assignment emailed")
        # Everything is in the server's hands, and the deadline is still to come.
        left = seconds_until(acknowledge_by)
        assert left > 1.5, f"only {left:.1f}s before the deadline: too slow to prove anything"
        stopped_at = datetime.now(UTC)
        await server.stop()

        # While nats-server is away (ten seconds at least), the deadline and the whole
        # acknowledge chain come due.
        back_at = max(acknowledge_by + timedelta(seconds=CHAIN + 1.5), stopped_at + OUTAGE)
        while datetime.now(UTC) < back_at:
            for service in processes:
                assert service.process.poll() is None, f"died without NATS: {service.describe()}"
            await asyncio.sleep(0.2)
        server = EmbeddedNats(tmp_path / "nats", port)
        await server.start()
        restarted_at = datetime.now(UTC)

        async def every_step_run() -> bool:
            return set(steps_run(await nats.task_events(incident_id))) == set(STEPS)

        wait = max(0.0, seconds_until(due_by)) + CHAIN + 30
        await eventually(
            every_step_run, wait, interval=0.2, what=f"all {len(STEPS)} steps after the restart"
        )
        # Whom each step told: the assignment and every step, one notice per person.
        told = [("priya.nair", f"{task['task_id']}.created")]
        for event in await nats.task_events(incident_id):
            step = step_of(event)
            if step is not None:
                people, _ = STEPS[step]
                assert event["type"] == "task.reminded" or tuple(event["notify"]) == people
                told += [(person, event["event_id"]) for person in people]
        expected = Counter((f"{p}@example.org", message_id(event_id, p)) for p, event_id in told)

        async def all_mail() -> bool:
            return set(mails(sink, incident_id)) >= set(expected)

        await eventually(all_mail, 30, interval=0.2, what=f"{sum(expected.values())} emails")
        await eventually(nats.idle, 30, interval=0.2, what="the deadline and notice consumers idle")

        # Each step appended once, each email received once, each notice in an inbox once.
        events = await nats.task_events(incident_id)
        assert steps_run(events) == dict.fromkeys(STEPS, 1), steps_run(events)
        # The acknowledge chain and the reminder came due during the outage and ran after it.
        during = [
            e for e in events if e["type"] == "task.reminded" or e.get("deadline") == "acknowledge"
        ]
        assert all(datetime.fromisoformat(e["at"]) > restarted_at for e in during), during
        assert mails(sink, incident_id) == expected, sorted(mails(sink, incident_id).items())
        # An inbox and an email record per notice, each once.
        outcomes = await nats.outcomes(incident_id)
        assert len(outcomes) == 2 * len(told) and set(outcomes.values()) == {1}, outcomes
        kinds = Counter((p, kind) for people, kind in STEPS.values() for p in people)
        kinds[("priya.nair", "assigned")] += 1
        for person in PEOPLE:
            entries = [e for e in await nats.inbox(person) if e["task_id"] == task["task_id"]]
            wanted = {notice_id_for(event_id, p) for p, event_id in told if p == person}
            assert Counter(e["notice_id"] for e in entries) == dict.fromkeys(wanted, 1), person
            shown = Counter((person, e["kind"]) for e in entries)
            assert shown == {k: n for k, n in kinds.items() if k[0] == person}, entries

        # The timeline tells each step once.
        entries = cli.json("timeline", incident_id)["entries"]
        lines = Counter(e["text"].split(":")[0] for e in entries)
        missed = {"acknowledge": "not acknowledged", "due": "not completed"}
        for _, deadline, number in STEPS:
            line = (
                f"Escalation step {number} for {KEY} ({missed[deadline]} in time)"
                if deadline
                else "Reminder to priya.nair"
            )
            assert lines[line] == 1, (line, lines)
        emailed = [e["text"] for e in entries if e["text"].startswith("Emailed ")]
        assert len(emailed) == len(told), emailed

        for service in processes:
            assert service.process.poll() is None, f"exited: {service.describe()}"
    finally:
        for service in processes:
            service.stop()
        await server.stop()
    for service in processes:
        assert not unexpected_tracebacks(service.log_text()), service.describe()
        errors = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
        assert not errors, f"{service.name} logged errors: {errors}"
