"""The README's exercise walkthrough, through the CLI against `pathways up` with a mail server:
an exercise logged at time scale 0.02 (fifteen minutes pass in 18 seconds) shows its
assignments in `pathways inbox`; a task nobody acknowledges is followed within a minute by a
reminder to its assignee and then an escalation to the role's coordinators (inbox, timeline and
email); a task acknowledged at once never escalates, while another with the same deadline that
nobody acknowledges does. The roster is the example roster with its webhooks and Apprise
channels left out (they would leave the machine)."""

from __future__ import annotations

import email
import re
import time
from email import policy
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    MAIL_FROM,
    Cli,
    Service,
    local_roster,
    process_env,
    unexpected_tracebacks,
    up_ports,
    wait_for,
)
from tests.integration.receivers import SmtpSink
from tests.support import free_port

pytestmark = pytest.mark.e2e

TIME_SCALE = "0.02"  # the README's
TITLE = "Tabletop: shooting at 5th and Main"
MISSED = "command-activation"  # acknowledge within PT15M: 18 s at this scale
ACKNOWLEDGED = "public-initial-statement"  # acknowledge within PT30M: 36 s
SAME_DEADLINE = "peer-support-defusing"  # acknowledge within PT30M too; nobody does
# When each is to be seen, in seconds after logging: the deadline (or the step after it, 15
# minutes later: 18 s), with a margin for a busy machine.
REMINDER_BY = 18 + 14
ESCALATION_BY = 36 + 14
# Acknowledging later than this would leave too little time before the 36 s deadline to show
# anything.
ACK_BEFORE = 24
START_TIMEOUT = 30.0  # with the waits above, the whole test stays under 90 s


def step_line(number: int, key: str, action: str) -> re.Pattern[str]:
    """A timeline line for an acknowledge escalation step."""
    return re.compile(
        rf"Escalation step {number} for {re.escape(key)} \(not acknowledged in time\): {action}"
    )


def timeline(cli: Cli, incident_id: str) -> str:
    text: str = cli.ok("timeline", incident_id).stdout
    return text


def notices(cli: Cli, person: str, task_id: str) -> list[dict[str, Any]]:
    """The person's inbox entries about one task, oldest first."""
    entries: list[dict[str, Any]] = cli.json("inbox", "--as", person)
    return [e for e in reversed(entries) if e["task"] == task_id]


def first_notice(cli: Cli, person: str, task_id: str, kind: str) -> dict[str, Any] | None:
    return next((n for n in notices(cli, person, task_id) if n["kind"] == kind), None)


def subjects_to(sink: SmtpSink, address: str, task_id: str) -> list[str]:
    found = []
    for received in sink.received:
        message = email.message_from_bytes(received.content, policy=policy.default)
        if address in received.rcpt_tos and task_id.replace(".", "=") in str(message["Message-ID"]):
            found.append(str(message["Subject"]))
    return found


def seconds_after(logged_at: float, limit: float) -> float:
    """How long a wait may last for it to end `limit` seconds after logging (at least 1 s)."""
    return max(1.0, logged_at + limit - time.monotonic())


def test_the_readme_exercise_reminds_escalates_and_stops_at_an_acknowledgement(
    tmp_path: Path, mailbox: tuple[SmtpSink, str]
) -> None:
    sink, smtp_url = mailbox
    roster, addresses = local_roster(tmp_path)
    port = free_port()
    env = process_env(PATHWAYS_SMTP_URL=smtp_url, PATHWAYS_MAIL_FROM=MAIL_FROM)
    argv = ["up", "--data-dir", str(tmp_path / "data"), "--nats-port", str(port),
            *up_ports(), "--roster", str(roster)]  # fmt: skip
    up = Service("up", argv, env, tmp_path)
    cli = Cli(f"nats://127.0.0.1:{port}")
    try:
        up.wait_started(START_TIMEOUT)
        assert f"Email: through {smtp_url}, from {MAIL_FROM}." in up.log_text(), up.describe()

        logged = cli.ok(
            "incident", "log", "--type", "officer-involved-shooting", "--title", TITLE,
            "--exercise", "--time-scale", TIME_SCALE, "--as", "renee.alvarez",
        )  # fmt: skip
        logged_at = time.monotonic()
        found = re.search(r"Logged EXERCISE (INC-[0-9A-Z]{8}) ", logged.stdout)
        assert found, str(logged)
        incident_id = found[1]
        assert "a day passes in 1728 s" in logged.stdout, str(logged)

        def listed() -> dict[str, dict[str, Any]] | None:
            tasks = cli.json("task", "list", "--incident", incident_id)
            by_key = {t["key"]: t for t in tasks}
            ready = all(by_key.get(k, {}).get("status") == "assigned"
                        for k in (MISSED, ACKNOWLEDGED, SAME_DEADLINE))  # fmt: skip
            return by_key if ready else None

        tasks = wait_for(listed, 15, "the exercise's first tasks assigned", interval=0.3)
        missed, acknowledged = tasks[MISSED], tasks[ACKNOWLEDGED]

        # Acknowledge one task at once, well before its deadline.
        acked = cli.ok("task", "ack", acknowledged["id"], "--as", acknowledged["assignee"])
        assert f"acknowledged by {acknowledged['assignee']}" in acked.stdout, str(acked)
        assert time.monotonic() - logged_at < ACK_BEFORE, (
            f"acknowledging took until {time.monotonic() - logged_at:.0f} s after logging, too "
            "close to the 36 s deadline for its absence of escalation to mean anything"
        )

        # The assignment, in the assignee's inbox as the README shows it.
        inbox = cli.ok("inbox", "--as", missed["assignee"]).stdout
        assert missed["id"] in inbox and "assigned" in inbox, inbox
        assert "[EXERCISE] New task: Activate the collective-healing response" in inbox, inbox

        # Nobody acknowledges the first task: a reminder to its assignee at the deadline ...
        reminder = wait_for(
            lambda: first_notice(cli, missed["assignee"], missed["id"], "acknowledge_overdue"),
            seconds_after(logged_at, REMINDER_BY),
            f"a reminder (acknowledge_overdue) of {MISSED} in {missed['assignee']}'s inbox",
            interval=1.0,
        )
        assert reminder["subject"].startswith("[EXERCISE] Urgent: Please acknowledge"), reminder
        reminded = step_line(1, MISSED, f"reminded {missed['assignee']}")
        assert reminded.search(timeline(cli, incident_id)), timeline(cli, incident_id)

        # ... then, 15 scaled minutes later, an escalation to the coordinators (command staff),
        # never to the one who missed it: the rotation decides which of the two that is.
        coordinator = "james.thornton" if missed["assignee"] == "renee.alvarez" else "renee.alvarez"
        escalation = wait_for(
            lambda: first_notice(cli, coordinator, missed["id"], "escalation"),
            seconds_after(logged_at, ESCALATION_BY),
            f"an escalation of {MISSED} in {coordinator}'s inbox",
            interval=1.0,
        )
        assert (escalation["missed_by"], escalation["step"]) == (missed["assignee"], 2), escalation
        told = step_line(2, MISSED, f"told the role's coordinators {coordinator}")
        assert told.search(timeline(cli, incident_id)), timeline(cli, incident_id)
        wait_for(
            lambda: any(
                "Deadline missed: Activate" in subject
                for subject in subjects_to(sink, addresses[coordinator], missed["id"])
            ),
            5,
            f"the escalation of {MISSED} emailed to {coordinator}",
        )

        # A task with the same deadline as the acknowledged one, left alone, is reminded ...
        same = tasks[SAME_DEADLINE]
        wait_for(
            lambda: step_line(1, SAME_DEADLINE, f"reminded {same['assignee']}").search(
                timeline(cli, incident_id)
            ),
            seconds_after(logged_at, ESCALATION_BY),
            f"the reminder of {SAME_DEADLINE}, whose deadline is the acknowledged task's",
            interval=1.0,
        )
        time.sleep(2)  # anything due with it has had time to land
        # ... and the acknowledged one is not: no step, no notice, no email.
        text = timeline(cli, incident_id)
        escalated = re.search(rf"Escalation step \d+ for {ACKNOWLEDGED} ", text)
        assert not escalated, f"{ACKNOWLEDGED} escalated although acknowledged in time:\n{text}"
        assert f"acknowledged {ACKNOWLEDGED}" in text, text
        for person in (acknowledged["assignee"], "renee.alvarez", "james.thornton"):
            kinds = [n["kind"] for n in notices(cli, person, acknowledged["id"])]
            expected = ["assigned"] if person == acknowledged["assignee"] else []
            assert kinds == expected, f"{person} was told of {ACKNOWLEDGED}: {kinds}"
        mailed = subjects_to(sink, addresses[acknowledged["assignee"]], acknowledged["id"])
        assert mailed == ["[EXERCISE] New task: Initial public statement"], (
            f"{acknowledged['assignee']} was emailed of {ACKNOWLEDGED}: {mailed}"
        )

        closed = cli.ok("incident", "close", incident_id, "--reason", "Exercise over",
                        "--as", "renee.alvarez")  # fmt: skip
        assert closed.stdout.startswith(f"Closed {incident_id}."), str(closed)
    finally:
        up.stop()
    assert not unexpected_tracebacks(up.log_text()), up.describe()
    assert not [e for e in up.log_events() if e.get("level") in ("error", "critical")]
