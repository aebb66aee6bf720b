"""The incidents board, logging an incident, the incident page and live updates, in a real
`pathways up` (the shared stack: example roster, demo accounts) over real HTTP: who sees what,
the typed attribute fields, the command forms (and their refusal to a reviewer), and a live
event carrying ids only, within 2 s of an acknowledgement made on the command line."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from tests.e2e.console_client import Browser
from tests.e2e.harness import Cli, roster_holders, wait_for
from tests.support import ROOT

pytestmark = pytest.mark.e2e

REVIEWER = "board-reviewer"
REVIEWER_PASSWORD = "reviewer-password-7731"
_KEY = re.compile(r'name="form_key" value="([^"]+)"')
MASS_CASUALTY = ROOT / "playbooks" / "mass-casualty.yaml"
_INCIDENT = re.compile(r"^/incidents/(INC-[0-9A-Z]{8})$")


def signed_in(console: str, username: str, password: str) -> Browser:
    browser = Browser(console)
    answer = browser.sign_in(username, password)
    assert answer.status_code == 303, answer.text
    return browser


@pytest.fixture(scope="module")
def command(console: str, password: str) -> Iterator[Browser]:
    browser = signed_in(console, "renee.alvarez", password)
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def reviewer(console: str, cli: Cli) -> Iterator[Browser]:
    added = cli("user", "add", REVIEWER, "--person", "kim.liu", "--grant", "reviewer",
                "--password-stdin", stdin=REVIEWER_PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, str(added)
    browser = signed_in(console, REVIEWER, REVIEWER_PASSWORD)
    yield browser
    browser.close()


def submit(browser: Browser, form_page: str, action: str, fields: dict[str, str]) -> httpx.Response:
    """Send a form as the page rendered it: its token and a form key of that rendering."""
    page = browser.get(form_page)
    assert page.status_code == 200, page.text
    key = _KEY.search(page.text)
    data = {"csrf_token": browser.page_token(form_page), **fields}
    if key:
        data.setdefault("form_key", key.group(1))
    return browser.post(action, data)


def log_by_form(browser: Browser, title: str, **attributes: str) -> str:
    fields = {"incident_type": "mass-casualty", "title": title, "severity": "critical"}
    fields.update({f"attr-{name}": value for name, value in attributes.items()})
    answer = submit(browser, "/incidents/new?type=mass-casualty", "/incidents", fields)
    assert answer.status_code == 303, answer.text
    found = _INCIDENT.match(answer.headers["location"])
    assert found, answer.headers
    return found.group(1)


def listed(browser: Browser, text: str) -> httpx.Response | None:
    board = browser.get("/")
    assert board.status_code == 200, board.text
    return board if text in board.text else None


def answer_of(browser: Browser, path: str) -> tuple[int, str]:
    """Status and body; a stream (which would never end) is closed once it has answered."""
    headers = {"cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items())}
    with browser.http.stream("GET", path, headers=headers) as answer:
        if answer.headers.get("content-type", "").startswith("text/event-stream"):
            return answer.status_code, ""
        return answer.status_code, answer.read().decode()


def tasks_of(cli: Cli, incident_id: str, count: int = 1) -> list[dict[str, object]]:
    def listed() -> list[dict[str, object]] | None:
        found: list[dict[str, object]] = cli.json("task", "list", "--incident", incident_id)
        return found if len(found) >= count else None

    return wait_for(listed, 20, f"tasks of {incident_id}", interval=0.2)


def test_the_board_lists_an_incident_logged_with_the_form(command: Browser) -> None:
    incident_id = log_by_form(command, "Board: bus crash", fatalities="2", children_affected="true")
    link = f'<a href="/incidents/{incident_id}">Board: bus crash</a>'
    board = wait_for(lambda: listed(command, link), 10, "the incident on the board")
    assert 'data-live-source="/live/board"' in board.text and 'aria-live="polite"' in board.text
    assert '<noscript><meta http-equiv="refresh" content="30"></noscript>' in board.text
    page = command.get(f"/incidents/{incident_id}").text
    assert "<dt>Fatalities</dt><dd>2</dd>" in page
    assert "<dt>Children affected</dt><dd>Yes</dd>" in page
    assert '<span class="tag exercise">' not in page


def test_typed_fields_and_a_wrong_value_is_refused_naming_its_field(command: Browser) -> None:
    form = command.get("/incidents/new?type=mass-casualty").text
    assert re.search(r'<input id="attr-fatalities" name="attr-fatalities" type="number"', form)
    assert re.search(r'<input id="attr-children_affected" [^>]*type="checkbox"', form)
    assert '<label for="attr-fatalities">Fatalities</label>' in form
    fields = {"incident_type": "mass-casualty", "title": "Board: refused", "severity": "high",
              "attr-fatalities": "several"}  # fmt: skip
    refused = submit(command, "/incidents/new?type=mass-casualty", "/incidents", fields)
    assert refused.status_code == 422, refused.text
    assert 'class="error-summary" role="alert"' in refused.text
    assert '<a href="#attr-fatalities">' in refused.text and "must be a number" in refused.text
    assert re.search(r'id="attr-fatalities"[^>]*aria-invalid="true"', refused.text)
    assert 'value="Board: refused"' in refused.text  # what was typed is kept
    assert "Board: refused" not in command.get("/").text  # and nothing was logged


def test_a_responder_is_sent_to_their_tasks(console: str, password: str) -> None:
    responder = signed_in(console, "dana.reyes", password)
    try:
        answer = responder.get("/")
        assert answer.status_code == 303 and answer.headers["location"] == "/my"
        assert answer_of(responder, "/fragments/board")[0] == 403
        assert answer_of(responder, "/live/board")[0] == 403
    finally:
        responder.close()


def test_a_reviewer_reads_without_forms_and_is_refused_commands(
    command: Browser, reviewer: Browser, cli: Cli
) -> None:
    incident_id = log_by_form(command, "Board: reviewed")
    task_id = str(tasks_of(cli, incident_id)[0]["id"])
    page = reviewer.get(f"/incidents/{incident_id}")
    assert page.status_code == 200 and "Board: reviewed" in page.text
    assert "/close" not in page.text and "/trigger" not in page.text and "/assign" not in page.text
    assert "Log incident" not in reviewer.get("/").text
    token = reviewer.page_token()
    for action, fields in [
        (f"/incidents/{incident_id}/close", {"reason": "not mine to close"}),
        (f"/incidents/{incident_id}/trigger", {"playbook_id": "mass-casualty"}),
        (f"/tasks/{task_id}/assign", {"to": "renee.alvarez"}),
    ]:
        refused = reviewer.post(action, {"csrf_token": token, **fields})
        assert refused.status_code == 403, (action, refused.text)
        assert "<h1>Not allowed</h1>" in refused.text
    assert "Open</span>" in command.get(f"/incidents/{incident_id}").text


def test_command_staff_assign_and_close(command: Browser, cli: Cli) -> None:
    log_by_form(command, "Board: still open")
    incident_id = log_by_form(command, "Board: assigned and closed")
    tasks = tasks_of(cli, incident_id)
    task = next(t for t in tasks if t["role"] == "public_information" and t["assignee"])
    other = next(p for p in roster_holders()["public_information"] if p != task["assignee"])
    page = f"/incidents/{incident_id}"
    assigned = submit(command, page, f"/tasks/{task['id']}/assign", {"to": other})
    assert assigned.status_code == 303 and assigned.headers["location"] == page
    shown = cli.json("task", "show", str(task["id"]))
    assert shown["assignee"] == other, shown

    no_reason = submit(command, page, f"{page}/close", {"reason": " "})
    assert no_reason.status_code == 422 and '<a href="#close-reason">' in no_reason.text
    closed = submit(command, page, f"{page}/close", {"reason": "Response handed over"})
    assert closed.status_code == 303, closed.text
    after = command.get(page).text
    assert "<dt>Closed</dt><dd>Response handed over</dd>" in after
    assert "Close incident" not in after  # nothing left to command
    # Open incidents come first on the board, though this one is newer.
    board = wait_for(lambda: listed(command, "Closed</span>"), 10, "closed on the board").text
    assert board.index("Board: still open") < board.index("Board: assigned and closed")


def test_fragments_and_streams_refuse_whoever_may_not_see_them(
    console: str, password: str, command: Browser, cli: Cli
) -> None:
    incident_id = log_by_form(command, "Board: not theirs")
    tasks_of(cli, incident_id)
    # Someone holding none of the roles this incident's playbook gives tasks to.
    roles = {str(t["role"]) for t in yaml.safe_load(MASS_CASUALTY.read_text())["tasks"]}
    holders = roster_holders()
    busy = {person for role in roles for person in holders.get(role, [])}
    outsider = next(p for people in holders.values() for p in people if p not in busy)
    anonymous = Browser(console)
    stranger = signed_in(console, outsider, password)
    try:
        for path in ("/fragments/board", f"/fragments/incidents/{incident_id}", "/live/board",
                     f"/live/incidents/{incident_id}", "/live/my"):  # fmt: skip
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
        for path in (f"/fragments/incidents/{incident_id}", f"/live/incidents/{incident_id}"):
            status, text = answer_of(stranger, path)
            assert status == 403, (outsider, path, text)
            assert "Board: not theirs" not in text
        fragment = command.get(f"/fragments/incidents/{incident_id}")
        assert fragment.status_code == 200 and "<html" not in fragment.text
    finally:
        anonymous.close()
        stranger.close()


async def quiet(received: list[tuple[float, str]], still: float = 1.0) -> None:
    """Until the playbook's fan-out is over: nothing heard for `still` seconds (at most 15)."""
    started = time.monotonic()
    while time.monotonic() - started < 15:
        last = received[-1][0] if received else started
        if time.monotonic() - last >= still:
            return
        await asyncio.sleep(0.1)


async def test_a_live_event_names_the_incident_within_2s_and_carries_no_text(
    console: str, command: Browser, cli: Cli
) -> None:
    title = "Board: live secret-title-5519"
    incident_id = log_by_form(command, title)
    task = next(t for t in tasks_of(cli, incident_id) if t["status"] == "assigned")
    note = "live secret-note-8830"
    headers = {"cookie": "; ".join(f"{k}={v}" for k, v in command.cookies.items())}
    received: list[tuple[float, str]] = []

    async def listen(client: httpx.AsyncClient, path: str, opened: asyncio.Event) -> None:
        async with client.stream("GET", path, headers=headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"].startswith("text/event-stream")
            opened.set()
            async for line in stream.aiter_lines():
                received.append((time.monotonic(), line))

    async with httpx.AsyncClient(base_url=console, timeout=30) as client:
        opened = asyncio.Event(), asyncio.Event(), asyncio.Event()
        listeners = [
            asyncio.create_task(listen(client, "/live/board", opened[0])),
            asyncio.create_task(listen(client, f"/live/incidents/{incident_id}", opened[1])),
            asyncio.create_task(listen(client, "/live/my", opened[2])),
        ]
        await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 10)
        await quiet(received)
        person = str(task["assignee"])
        asked = time.monotonic()
        acked = await cli.run_async("task", "ack", str(task["id"]), "--as", person)
        assert acked.returncode == 0, str(acked)
        answered = time.monotonic()
        await asyncio.sleep(2)
        noted = await cli.run_async(
            "task", "note", str(task["id"]), "--text", note, "--tier", "public", "--as", person
        )
        assert noted.returncode == 0, str(noted)
        await asyncio.sleep(1)
        for listener in listeners:
            listener.cancel()
        await asyncio.gather(*listeners, return_exceptions=True)

    in_time = [line for at, line in received if asked <= at <= answered + 2.0]
    assert f"data: {incident_id}" in in_time, received  # the board's
    assert f"data: {task['id']}" in in_time, received  # the incident page's
    assert "data: changed" in in_time, received  # my tasks': that something changed, not what
    body = "\n".join(line for _, line in received)
    assert "secret-title" not in body and "secret-note" not in body
    data = [line.removeprefix("data: ") for line in body.splitlines() if line.startswith("data:")]
    ids = [d for d in data if d != "changed"]
    assert ids and all(re.fullmatch(r"INC-[0-9A-Z]{8}(\.[a-z0-9-]+)?", d) for d in ids), data
