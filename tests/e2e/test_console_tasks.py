"""The console's task pages on a real `pathways up` (example roster, demo accounts, a playbook
library whose defusing task has `<script>` in its instructions): working a task through the
forms, refusals shown as pages, restricted notes sealed and read by team, the timeline, the
playbook library and who is on call."""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from schemas.tasks import TaskNote
from services.core.broker import connect
from tests.e2e.console_client import Browser, console_address, demo_password, form_token
from tests.e2e.harness import Cli, Stack, log_incident, start_up, wait_for_tasks
from tests.raw_reads import RawMessage, every_message
from tests.support import ROOT

pytestmark = pytest.mark.e2e

TASKS = 17  # the officer-involved shooting playbook, without the death-related task's condition
SCRIPT = "<script>alert('pathways')</script>"
HIDDEN = "[restricted: visible to Peer Support Team only]"
_FORM_KEY = re.compile(r'name="form_key" value="([^"]+)"')


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped playbooks, the defusing task's instructions ending with Markdown and a tag."""
    directory = tmp_path_factory.mktemp("playbooks")
    for source in (ROOT / "playbooks").glob("*.yaml"):
        shutil.copy(source, directory / source.name)
    shooting = directory / "officer-involved-shooting.yaml"
    text = shooting.read_text()
    marker = "      - Record only: defusing offered/held"
    assert marker in text
    extra = f"      - **Bring water.** {SCRIPT}\n"
    shooting.write_text(text.replace(marker, extra + marker, 1))
    return directory


@pytest.fixture(scope="module")
def up(tmp_path_factory: pytest.TempPathFactory, library: Path) -> Iterator[Stack]:
    service, url, data_dir = start_up(
        tmp_path_factory.mktemp("console-tasks"), None, None, "--playbooks-dir", str(library)
    )
    try:
        service.wait_started()
        yield Stack(service, url, data_dir)
    finally:
        service.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures


@pytest.fixture(scope="module")
def cli(up: Stack) -> Cli:
    return Cli(up.nats_url)


@pytest.fixture(scope="module")
def console(up: Stack) -> str:
    return console_address(up.service)


@pytest.fixture(scope="module")
def password(up: Stack) -> str:
    found = demo_password(up.service)
    assert found, up.service.describe()
    return found


class Person:
    """Someone signed in to the console, with their own cookies."""

    def __init__(self, console: str, password: str, person: str) -> None:
        self.browser = Browser(console)
        signed = self.browser.sign_in(person, password)
        assert signed.status_code == 303, signed.text

    def page(self, path: str) -> httpx.Response:
        return self.browser.get(path)

    def submit(self, task_id: str, verb: str, **fields: str) -> httpx.Response:
        """Send a form of the task's page, as the browser would (its token and form key)."""
        shown = self.page(f"/tasks/{task_id}")
        assert shown.status_code == 200, shown.text
        key = _FORM_KEY.search(shown.text)
        assert key, shown.text
        data = {"csrf_token": form_token(shown.text), "form_key": key.group(1), **fields}
        return self.browser.post(f"/tasks/{task_id}/{verb}", data)


class People(dict[str, Person]):
    """Each person signed in the first time they are named."""

    def __init__(self, console: str, password: str) -> None:
        super().__init__()
        self.console, self.password = console, password

    def __missing__(self, person: str) -> Person:
        self[person] = Person(self.console, self.password, person)
        return self[person]


@pytest.fixture
def people(console: str, password: str) -> Iterator[People]:
    signed_in = People(console, password)
    yield signed_in
    for person in signed_in.values():
        person.browser.close()


@pytest.fixture(scope="module")
def incident(cli: Cli) -> tuple[str, dict[str, str]]:
    """One incident for the module: its id, and its task ids by key."""
    incident_id = log_incident(cli, "Console tasks")
    tasks = wait_for_tasks(cli, incident_id, TASKS)
    return incident_id, {t["key"]: t["id"] for t in tasks}


def given_to(cli: Cli, task_id: str, person: str) -> None:
    cli.ok("task", "assign", task_id, "--to", person, "--as", "renee.alvarez")


def status_of(cli: Cli, task_id: str) -> str:
    found: dict[str, Any] = cli.json("task", "show", task_id, "--as", "renee.alvarez")
    return str(found["status"])


def facts(html: str) -> dict[str, str]:
    """The task page's facts, as text, by their label."""
    pairs = re.findall(r"<dt>([^<]+)</dt><dd[^>]*>(.*?)</dd>", html, re.DOTALL)
    return {label: re.sub(r"<[^>]+>", "", value).strip() for label, value in pairs}


def test_a_responder_works_a_task_from_my_tasks_to_done(
    cli: Cli, people: People, incident: tuple[str, dict[str, str]]
) -> None:
    task_id = incident[1]["community-leader-briefing"]
    given_to(cli, task_id, "dana.reyes")
    dana = people["dana.reyes"]

    mine = dana.page("/my")
    assert mine.status_code == 200
    assert (
        '<div data-live-source="/live/my" data-live-fragment="/fragments/my" aria-live="polite">'
        in mine.text
    )
    assert f'action="/tasks/{task_id}/acknowledge"' in mine.text
    assert "Brief faith and community leaders" in mine.text
    fragment = dana.page("/fragments/my")
    assert fragment.status_code == 200 and "<html" not in fragment.text
    assert f'href="/tasks/{task_id}"' in fragment.text

    acknowledged = dana.submit(task_id, "acknowledge", next="/my")
    assert (acknowledged.status_code, acknowledged.headers["location"]) == (303, "/my")
    assert facts(dana.page(f"/tasks/{task_id}").text)["Status"] == "Acknowledged"
    assert f'action="/tasks/{task_id}/start"' in dana.page("/my").text

    started = dana.submit(task_id, "start", next="https://elsewhere.example/")
    assert (started.status_code, started.headers["location"]) == (303, "/")
    assert facts(dana.page(f"/tasks/{task_id}").text)["Status"] == "In progress"

    completed = dana.submit(task_id, "complete", note="Leaders briefed at the centre.")
    assert (completed.status_code, completed.headers["location"]) == (303, f"/tasks/{task_id}")
    page = dana.page(f"/tasks/{task_id}").text
    assert facts(page)["Status"] == "Completed"
    assert facts(page)["Completion note"] == "Leaders briefed at the centre."
    assert 'action="/tasks/' not in page.split('<h2 id="notes-title">')[0]  # no more actions
    assert status_of(cli, task_id) == "completed"
    assert (
        "Brief faith and community leaders"
        in dana.page("/fragments/my").text.split("Recently done")[1]
    )


def test_a_form_without_its_token_is_refused_and_changes_nothing(
    cli: Cli, people: People, incident: tuple[str, dict[str, str]]
) -> None:
    task_id = incident[1]["public-initial-statement"]
    given_to(cli, task_id, "kim.liu")
    kim = people["kim.liu"]
    shown = kim.page(f"/tasks/{task_id}").text
    key = _FORM_KEY.search(shown)
    assert key
    refused = kim.browser.post(f"/tasks/{task_id}/acknowledge", {"form_key": key.group(1)})
    assert refused.status_code == 403
    assert "did not come from this page" in refused.text
    forged = kim.browser.post(
        f"/tasks/{task_id}/acknowledge", {"csrf_token": "x" * 43, "form_key": key.group(1)}
    )
    assert forged.status_code == 403
    assert status_of(cli, task_id) == "assigned"


def test_another_persons_task_cannot_be_acted_on(
    cli: Cli, people: People, incident: tuple[str, dict[str, str]]
) -> None:
    task_id = incident[1]["victim-family-contact"]
    given_to(cli, task_id, "priya.nair")
    sam, renee = people["sam.whitfield"], people["renee.alvarez"]
    # Sam holds the role but not the task: he may not even see it, let alone act on it.
    assert sam.page(f"/tasks/{task_id}").status_code == 403
    token = form_token(sam.page("/my").text)
    refused = sam.browser.post(f"/tasks/{task_id}/acknowledge", {"csrf_token": token})
    assert refused.status_code == 403, refused.text
    assert "Not allowed" in refused.text
    # Command staff see it, and are offered no buttons for it; sending one anyway is refused
    # on the task's page, with the reason in an error summary.
    page = renee.page(f"/tasks/{task_id}").text
    assert f'action="/tasks/{task_id}/acknowledge"' not in page
    refused = renee.submit(task_id, "acknowledge")
    assert refused.status_code in (403, 409), refused.text
    assert 'class="error-summary"' in refused.text
    assert "assigned to priya.nair" in refused.text
    assert status_of(cli, task_id) == "assigned"


async def test_a_restricted_note_is_sealed_and_read_by_its_team_only(
    cli: Cli, up: Stack, people: People, incident: tuple[str, dict[str, str]]
) -> None:
    task_id = incident[1]["peer-support-defusing"]
    helen, tom, aisha, renee = (
        people[p] for p in ("helen.park", "tom.kowalski", "aisha.grant", "renee.alvarez")
    )
    # Helen (a partner: another organisation) and Tom decline it; Aisha ends up with it.
    given_to(cli, task_id, "helen.park")
    empty = helen.submit(task_id, "decline", reason="  ")
    assert empty.status_code == 422 and "Give a reason for declining." in empty.text
    assert 'href="#reason"' in empty.text
    assert status_of(cli, task_id) == "assigned"
    declined = helen.submit(task_id, "decline", reason="Off shift", next="/my")
    assert (declined.status_code, declined.headers["location"]) == (303, "/my")
    given_to(cli, task_id, "tom.kowalski")
    assert tom.submit(task_id, "decline", reason="Too close to it").status_code == 303
    given_to(cli, task_id, "aisha.grant")

    canary = f"CANARY-{uuid.uuid4()}"
    added = aisha.submit(task_id, "notes", text=f"Met them {canary}", tier="restricted")
    assert (added.status_code, added.headers["location"]) == (303, f"/tasks/{task_id}")

    stored = last_note(await raw_messages(up.nats_url), task_id)
    assert stored.tier.value == "restricted"
    assert stored.text is None and stored.sealed is not None
    assert stored.sealed.scope == "team.peer-support"

    assert f"Met them {canary}" in aisha.page(f"/tasks/{task_id}").text
    assert f"Met them {canary}" in tom.page(f"/tasks/{task_id}").text  # same team
    for other in (helen, renee):  # another organisation; command staff
        page = other.page(f"/tasks/{task_id}")
        assert page.status_code == 200
        assert canary not in page.text
        assert HIDDEN in page.text


async def raw_messages(url: str) -> list[RawMessage]:
    nc = await connect(url, name="e2e-raw-read")
    try:
        return await every_message(nc.jetstream())
    finally:
        await nc.close()


def last_note(messages: list[RawMessage], task_id: str) -> TaskNote:
    _, key = task_id.split(".")
    noted = [m for m in messages if m.subject.endswith(f".task.{key}.noted")]
    assert noted, "no task.noted event"
    return TaskNote.model_validate(json.loads(noted[-1].data)["task"]["notes"][-1])


def test_instructions_are_markdown_and_raw_html_is_shown_as_text(
    cli: Cli, people: People, incident: tuple[str, dict[str, str]]
) -> None:
    task_id = incident[1]["officer-family-support"]
    renee = people["renee.alvarez"]
    defusing = renee.page(f"/tasks/{incident[1]['peer-support-defusing']}").text
    assert "<strong>Bring water.</strong>" in defusing
    assert "&lt;script&gt;alert('pathways')&lt;/script&gt;" in defusing
    assert "<script" not in defusing
    assert renee.page(f"/tasks/{task_id}").status_code == 200
    detail = renee.page("/playbooks/officer-involved-shooting").text
    assert "<strong>Bring water.</strong>" in detail and "<script" not in detail


def test_the_library_timeline_and_on_call_pages(
    people: People, incident: tuple[str, dict[str, str]]
) -> None:
    incident_id, tasks = incident
    renee, dana = people["renee.alvarez"], people["dana.reyes"]

    library = renee.page("/playbooks")
    assert library.status_code == 200
    assert '<a href="/playbooks/officer-involved-shooting">' in library.text
    assert "Immediate (first 24 hours); Days 2 and 3" in library.text
    assert re.search(
        r"<td>officer-involved-shooting</td>\s*<td>[^<]*</td>\s*<td>17</td>", library.text
    )

    detail = renee.page("/playbooks/officer-involved-shooting")
    assert detail.status_code == 200
    assert '<h2 id="phase-2">Days 2 and 3</h2>' in detail.text
    assert (
        "acknowledge within 15 min, done within 1 h, from when the incident is logged"
        in detail.text
    )
    assert "Follow-ups:" in detail.text
    assert renee.page("/playbooks/no-such-playbook").status_code == 404

    timeline = renee.page(f"/incidents/{incident_id}/timeline")
    assert timeline.status_code == 200
    assert "Incident logged: officer-involved-shooting" in timeline.text
    assert 'UTC</time> · <span class="offset">T+00:00</span>' in timeline.text
    assert f'<a href="/tasks/{tasks["command-activation"]}">' in timeline.text
    refused = dana.page(f"/incidents/{incident_id}/timeline")
    assert refused.status_code == 403
    assert "only command staff and reviewers read this" in refused.text

    on_call = dana.page("/on-call")
    assert on_call.status_code == 200
    assert '<th scope="row">Peer support</th>' in on_call.text
    on_call_now = re.search(
        r'Victim advocate</th>\s*<td>([^<]+) <span class="muted">([^<]+)<', on_call.text
    )
    assert on_call_now, on_call.text
    assert re.fullmatch(r"\(until \d{4}-\d\d-\d\d \d\d:\d\d UTC\)", on_call_now.group(2))
