"""The console where a task or an incident has moved on, on the shared `pathways up`: the start
form only while the engine would start a playbook, skipped tasks shown as skipped rather than
waiting for someone, booleans in words, no deadline shown once it no longer applies, and an
unknown address answered to a browser with a page (to an API client with the problem)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.api import PROBLEM_MEDIA_TYPE
from tests.e2e.console_client import Browser
from tests.e2e.harness import Cli, wait_for

pytestmark = pytest.mark.e2e

_KEY = re.compile(r'name="form_key" value="([^"]+)"')
_INCIDENT = re.compile(r"^/incidents/(INC-[0-9A-Z]{8})$")
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
TRIGGER_FORM = 'action="/incidents/{}/trigger"'


@pytest.fixture(scope="module")
def command(console: str, password: str) -> Iterator[Browser]:
    browser = Browser(console)
    answer = browser.sign_in("renee.alvarez", password)
    assert answer.status_code == 303, answer.text
    yield browser
    browser.close()


def log_by_form(browser: Browser, title: str, **attributes: str) -> str:
    form = "/incidents/new?type=mass-casualty"
    page = browser.get(form)
    key = _KEY.search(page.text)
    assert key, page.text
    fields = {"csrf_token": browser.page_token(form), "form_key": key.group(1),
              "incident_type": "mass-casualty", "title": title, "severity": "critical"}  # fmt: skip
    fields.update({f"attr-{name}": value for name, value in attributes.items()})
    answer = browser.post("/incidents", fields)
    assert answer.status_code == 303, answer.text
    found = _INCIDENT.match(answer.headers["location"])
    assert found, answer.headers
    return found.group(1)


def settled_tasks(cli: Cli, incident_id: str) -> list[dict[str, Any]]:
    """The run's tasks once it is in place: some assigned, some skipped."""

    def listed() -> list[dict[str, Any]] | None:
        found: list[dict[str, Any]] = cli.json("task", "list", "--incident", incident_id)
        statuses = {t["status"] for t in found}
        return found if {"assigned", "skipped"} <= statuses else None

    return wait_for(listed, 20, f"the tasks of {incident_id}", interval=0.2)


@pytest.fixture(scope="module")
def incident(command: Browser, cli: Cli) -> tuple[str, list[dict[str, Any]]]:
    """A mass-casualty incident without fatalities or children: its conditional tasks skip."""
    incident_id = log_by_form(command, "Edges: crowd crush", fatalities="0")
    return incident_id, settled_tasks(cli, incident_id)


def fragment_of(browser: Browser, incident_id: str, needle: str) -> str:
    def shown() -> str | None:
        text = browser.get(f"/incidents/{incident_id}").text
        return text if needle in text else None

    return wait_for(shown, 10, f"{needle!r} on the incident page", interval=0.2)


def test_no_start_form_while_a_run_is_in_place_and_one_after_it_is_cancelled(
    command: Browser, cli: Cli
) -> None:
    incident_id = log_by_form(command, "Edges: started twice")
    settled_tasks(cli, incident_id)
    page = fragment_of(command, incident_id, "is in place")
    assert TRIGGER_FORM.format(incident_id) not in page
    assert re.search(r"Playbook <strong>Mass casualty[^<]*</strong> \(run 1\) is in place", page)
    cancelled = cli("playbook", "cancel", incident_id, "--reason", "wrong playbook",
                    "--as", "renee.alvarez")  # fmt: skip
    assert cancelled.returncode == 0, str(cancelled)
    page = fragment_of(command, incident_id, TRIGGER_FORM.format(incident_id))
    assert "is in place" not in page and "Start playbook" in page


def test_a_skipped_task_is_shown_as_skipped_not_waiting_for_someone(
    command: Browser, incident: tuple[str, list[dict[str, Any]]]
) -> None:
    incident_id, tasks = incident
    skipped = next(t for t in tasks if t["status"] == "skipped")
    page = command.get(f"/incidents/{incident_id}").text
    row = page[page.index(f'href="/tasks/{skipped["id"]}"') :].split("</li>", 1)[0]
    assert "Nobody: skipped, as its condition did not hold for this incident" in row
    assert "Nobody yet" not in row
    task_page = command.get(f"/tasks/{skipped['id']}").text
    assert "<dt>Assignee</dt><dd>Nobody: skipped, as its condition did not hold" in task_page
    assert "Nobody yet" not in task_page
    assert "<dt>Acknowledge by</dt>" not in task_page and "<dt>Due</dt>" not in task_page


def test_a_boolean_attribute_reads_yes_or_no(command: Browser, cli: Cli) -> None:
    with_children = log_by_form(command, "Edges: school bus", children_affected="true")
    without = log_by_form(command, "Edges: no children", fatalities="1")
    assert (
        "<dt>Children affected</dt><dd>Yes</dd>" in command.get(f"/incidents/{with_children}").text
    )
    page = command.get(f"/incidents/{without}").text
    assert "<dt>Children affected</dt><dd>No</dd>" in page
    assert "<dd>true</dd>" not in page and "<dd>false</dd>" not in page


def test_deadlines_that_no_longer_apply_are_not_shown(
    command: Browser, cli: Cli, incident: tuple[str, list[dict[str, Any]]]
) -> None:
    _, tasks = incident
    first, second = [t for t in tasks if t["status"] == "assigned"][:2]
    before = command.get(f"/tasks/{first['id']}").text
    assert "<dt>Acknowledge by</dt>" in before and "<dt>Due</dt>" in before
    acked = cli("task", "ack", first["id"], "--as", first["assignee"])
    assert acked.returncode == 0, str(acked)
    after = command.get(f"/tasks/{first['id']}").text
    assert "Acknowledged" in after
    assert "<dt>Acknowledge by</dt>" not in after and "<dt>Due</dt>" in after
    done = cli("task", "complete", second["id"], "--as", second["assignee"])
    assert done.returncode == 0, str(done)
    completed = command.get(f"/tasks/{second['id']}").text
    assert "<dt>Acknowledge by</dt>" not in completed and "<dt>Due</dt>" not in completed
    assert "Overdue" not in completed


def test_an_unknown_address_is_a_page_for_a_browser_and_a_problem_for_a_client(
    console: str, command: Browser
) -> None:
    signed_out = Browser(console)
    try:
        for browser in (signed_out, command):
            answer = browser.get("/no-such-page", {"accept": BROWSER_ACCEPT})
            assert answer.status_code == 404
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1>Page not found</h1>" in answer.text
            assert '<a href="/">Go to the incidents board</a>' in answer.text
            assert '<main id="main"' in answer.text and '<html lang="en">' in answer.text
        assert "Signed in as" in command.get("/no-such-page", {"accept": BROWSER_ACCEPT}).text
        html = signed_out.get("/no-such-page", {"accept": BROWSER_ACCEPT}).text
        assert "Signed in as" not in html
        for path, accept in [
            ("/no-such-page", "application/json"),
            ("/no-such-page", PROBLEM_MEDIA_TYPE),
            ("/no-such-page", "*/*"),
            ("/api/v1/no-such-thing", BROWSER_ACCEPT),
        ]:
            answer = signed_out.get(path, {"accept": accept})
            assert answer.status_code == 404, path
            assert answer.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE), (path, accept)
            assert answer.json()["status"] == 404
    finally:
        signed_out.close()
