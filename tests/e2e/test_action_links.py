"""Partners without accounts, on a real `pathways up` with a real SMTP server: a partner's email
holds a signed action link that nothing in NATS holds; the link opens that one task for that one
person, lets them acknowledge and complete it, and stops once the task is done or reassigned,
once it expires, or if it was altered; its forms need their token."""

from __future__ import annotations

import email
import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from email import policy
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from schemas import subjects
from schemas.subjects import EVENTS_STREAM, TIMERS_STREAM
from services.core.broker import connect
from services.core.links import SALT, read_link_key
from services.gateway.link_sessions import COOKIE
from tests.e2e.console_client import Browser, console_address, form_token, set_cookies
from tests.e2e.harness import (
    MAIL_FROM,
    Cli,
    Service,
    inbox_of,
    local_roster,
    log_incident,
    process_env,
    unexpected_tracebacks,
    up_ports,
    wait_for,
    wait_for_tasks,
)
from tests.integration.receivers import SmtpSink, start_smtp
from tests.raw_reads import every_message
from tests.support import free_port

pytestmark = pytest.mark.e2e

PARTNER = "helen.park"  # Northstar Wellness, a partner organisation; holds peer_support
STAFF = "tom.kowalski"  # agency staff, also peer_support
COMMANDER = "renee.alvarez"
OIS_TASKS = 17
GONE = "This task has been reassigned or is done; this link no longer works."
_LINK = re.compile(r"^Open this task: (http://\S+/t/(\S+))$", re.MULTILINE)


@dataclass
class LinkStack:
    service: Service
    cli: Cli
    nats_url: str
    base: str
    data_dir: Path
    sink: SmtpSink


def partner_roster(directory: Path) -> Path:
    """The example roster, mail sent at once, and the partner's second address an hour later:
    a send that waits in the timers stream."""
    path, _ = local_roster(directory)
    roster = yaml.safe_load(path.read_text())
    for member in roster["members"]:
        if member["id"] == PARTNER:
            later = {"kind": "email", "address": "helen.later@example.org", "after": "PT1H"}
            member["channels"].append(later)
    path.write_text(yaml.safe_dump(roster, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LinkStack]:
    directory = tmp_path_factory.mktemp("links")
    sink = SmtpSink()
    smtp = start_smtp(sink)
    nats_port = free_port()
    env = process_env(PATHWAYS_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                      PATHWAYS_MAIL_FROM=MAIL_FROM, PATHWAYS_PASSWORD_PROFILE="test")  # fmt: skip
    data_dir = directory / "data"
    argv = ["up", "--data-dir", str(data_dir), "--nats-port", str(nats_port), *up_ports(),
            "--roster", str(partner_roster(directory))]  # fmt: skip
    service = Service("up", argv, env, directory)
    url = f"nats://127.0.0.1:{nats_port}"
    try:
        service.wait_started()
        yield LinkStack(service, Cli(url), url, console_address(service), data_dir, sink)
    finally:
        service.stop()
        smtp.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures
    assert not unexpected_tracebacks(service.log_text()), service.describe()


@pytest.fixture
def browser(stack: LinkStack) -> Iterator[Browser]:
    opened = Browser(stack.base)
    yield opened
    opened.close()


def mail_text(received: Any) -> str:
    message = email.message_from_bytes(received.content, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content().replace("\r\n", "\n")
    return text


def link_claim(stack: LinkStack, token: str) -> dict[str, Any]:
    secret = read_link_key(stack.data_dir / "secrets" / "links.key")
    claim: dict[str, Any] = URLSafeTimedSerializer(secret, salt=SALT).loads(token)
    return claim


def link_mailed(stack: LinkStack, task_id: str, after: int = 0) -> tuple[str, str]:
    """(the whole email, its link's token) of the newest email to the partner with a link to
    the task, among those received after the first `after`. (A restricted task's message does
    not name it: the link's claim does.)"""

    def found() -> tuple[str, str] | None:
        for received in reversed(stack.sink.received[after:]):
            if "helen.park@example.org" not in received.rcpt_tos:
                continue
            text = mail_text(received)
            match = _LINK.search(text)
            if match and link_claim(stack, match.group(2))["t"] == task_id:
                return text, match.group(2)
        return None

    return wait_for(found, 30, f"the partner's email about {task_id}", interval=0.2)


def assign(stack: LinkStack, task_id: str, person: str) -> None:
    stack.cli.ok("task", "assign", task_id, "--to", person, "--as", COMMANDER)


def partner_task(stack: LinkStack) -> tuple[str, list[str], str, str]:
    """A new incident's peer-support task with the partner (the on-call rotation may have given
    it to her already; if not, command staff do): (its id, the incident's other task ids, the
    email's text, the link's token)."""
    incident_id = log_incident(stack.cli, "Shooting at 5th and Main")
    tasks = wait_for_tasks(stack.cli, incident_id, OIS_TASKS)
    peer = [t for t in tasks if t["role"] == "peer_support" and t["status"] == "assigned"]
    assert peer, [(t["id"], t["status"], t["assignee"]) for t in tasks]
    task_id = peer[0]["id"]
    if peer[0]["assignee"] != PARTNER:
        assign(stack, task_id, PARTNER)
    text, token = link_mailed(stack, task_id)
    return task_id, [t["id"] for t in tasks if t["id"] != task_id], text, token


def fresh_get(stack: LinkStack, path: str) -> httpx.Response:
    """A GET from another browser, with no cookies."""
    other = Browser(stack.base)
    try:
        return other.get(path)
    finally:
        other.close()


def task_of(stack: LinkStack, task_id: str) -> dict[str, Any]:
    found: dict[str, Any] = stack.cli.json("task", "show", task_id)
    return found


async def last_event(url: str, task_id: str) -> dict[str, Any]:
    incident_id, _, key = task_id.partition(".")
    nc = await connect(url, name="e2e-links")
    try:
        js = nc.jetstream()
        msg = await js.get_last_msg(EVENTS_STREAM, subjects.task_filter(incident_id, key))
    finally:
        await nc.close()
    event: dict[str, Any] = json.loads(msg.data or b"{}")
    return event


async def test_a_partners_email_holds_the_link_and_nats_never_does(stack: LinkStack) -> None:
    task_id, _, text, token = partner_task(stack)
    assert f"Open this task: {stack.base}/t/{token}" in text
    assert "This link is for you only" in text and "It works until" in text
    assert "please do not forward it" in text

    entries = [e for e in await inbox_of(stack.nats_url, PARTNER) if e["task_id"] == task_id]
    assert entries and all(e["link"] == f"{stack.base}/tasks/{task_id}" for e in entries)
    assert token not in json.dumps(entries)

    nc = await connect(stack.nats_url, name="e2e-links-dump")
    try:
        everything = await every_message(nc.jetstream())
    finally:
        await nc.close()
    waiting = [m for m in everything if m.stream == TIMERS_STREAM and m.holds(task_id)]
    assert waiting, "the partner's later email waits in the timers stream"
    assert [m.subject for m in everything if m.holds(token)] == []


def test_the_link_opens_its_task_for_its_person_and_nothing_else(
    stack: LinkStack, browser: Browser
) -> None:
    task_id, others, _, token = partner_task(stack)
    opened = browser.get(f"/t/{token}")
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == f"/t/task/{task_id}"
    morsel = set_cookies(opened)[COOKIE][COOKIE]
    assert morsel["secure"] and morsel["httponly"] and morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/" and not morsel["domain"]

    shown = browser.get(f"/t/task/{task_id}")
    assert shown.status_code == 200, shown.text
    assert task_of(stack, task_id)["title"] in shown.text
    assert "Dr. Helen Park" in shown.text and "Acknowledge" in shown.text
    assert "My tasks" not in shown.text and "Sign out" not in shown.text  # not a sign-in

    other = browser.get(f"/t/task/{others[0]}")
    assert other.status_code in (403, 404), other.text
    assert browser.get("/").status_code == 303  # the console itself is not open to it


async def test_acknowledge_and_complete_through_the_link(
    stack: LinkStack, browser: Browser
) -> None:
    task_id, _, _, token = partner_task(stack)
    assert browser.get(f"/t/{token}").status_code == 303
    page = browser.get(f"/t/task/{task_id}").text
    acked = browser.post(f"/t/task/{task_id}/acknowledge",
                         {"csrf_token": form_token(page), "form_key": "k1"})  # fmt: skip
    assert acked.status_code == 303, acked.text
    assert task_of(stack, task_id)["status"] == "acknowledged"
    page = browser.get(f"/t/task/{task_id}").text
    assert "Acknowledged" in page

    done = browser.post(f"/t/task/{task_id}/complete",
                        {"csrf_token": form_token(page), "form_key": "k2",
                         "note": "Debriefing held with both officers."})  # fmt: skip
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/t/done")
    assert task_of(stack, task_id)["status"] == "completed"
    event = await last_event(stack.nats_url, task_id)
    assert event["type"] == "task.completed" and event["actor"] == PARTNER

    stale = fresh_get(stack, f"/t/{token}")
    assert stale.status_code == 410 and GONE in stale.text


def test_the_link_stops_once_the_task_is_reassigned(stack: LinkStack, browser: Browser) -> None:
    task_id, _, _, token = partner_task(stack)
    assert browser.get(f"/t/{token}").status_code == 303
    page = browser.get(f"/t/task/{task_id}").text
    assign(stack, task_id, STAFF)

    refused = browser.post(f"/t/task/{task_id}/acknowledge",
                           {"csrf_token": form_token(page), "form_key": "k3"})  # fmt: skip
    assert refused.status_code == 410 and GONE in refused.text
    assert task_of(stack, task_id)["status"] == "assigned"
    assert task_of(stack, task_id)["assignee"] == STAFF
    assert browser.get(f"/t/task/{task_id}").status_code == 410
    assert fresh_get(stack, f"/t/{token}").status_code == 410


class FifteenDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time() - timedelta(days=15).total_seconds())


def test_an_expired_link_is_refused(stack: LinkStack, browser: Browser) -> None:
    """A link made with the installation's key fifteen days ago: links work for 14."""
    _, _, _, token = partner_task(stack)
    secret = read_link_key(stack.data_dir / "secrets" / "links.key")
    claim = link_claim(stack, token)
    expired = URLSafeTimedSerializer(secret, salt=SALT, signer=FifteenDaysAgo).dumps(claim)
    answer = browser.get(f"/t/{expired}")
    assert answer.status_code == 410, answer.text
    assert "This link has expired" in answer.text
    assert COOKIE not in browser.cookies


def test_an_altered_link_is_refused(stack: LinkStack, browser: Browser) -> None:
    _, _, _, token = partner_task(stack)
    payload, _, signature = token.rpartition(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    for altered in (f"{payload}.{flipped}", token[:-6], "not-a-link"):
        answer = browser.get(f"/t/{altered}")
        assert answer.status_code == 400, (altered, answer.text)
        assert COOKIE not in browser.cookies


def test_a_link_form_needs_its_token(stack: LinkStack, browser: Browser) -> None:
    task_id, _, _, token = partner_task(stack)
    assert browser.get(f"/t/{token}").status_code == 303
    for data in ({"form_key": "k4"}, {"form_key": "k5", "csrf_token": "forged"}):
        refused = browser.post(f"/t/task/{task_id}/acknowledge", data)
        assert refused.status_code == 403, refused.text
    assert task_of(stack, task_id)["status"] == "assigned"
