"""The whole response in real Chromium, as the people in it would do it:

(a) command staff sign in with a password and log an incident through the form, with the
    playbook's typed attribute, and give two of its tasks to a responder and a partner;
(b) someone else watches the incidents board (and marks the page, to tell a reload);
(c) the responder, on a phone, acknowledges her task from My tasks and completes it with a note;
(d) the board shows it within 2 seconds, without a reload;
(e) the partner, who has no account, completes hers through the link in her email;
(f) the incident page shows both tasks completed;
(g) command staff open its after-action report from its page, and the response metrics from
    the board.

Each step's page is photographed (`make screenshots` keeps them in docs/screenshots/)."""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Locator, Page, expect

from tests.browser.conftest import (
    COMMAND,
    RESPONDER,
    Logged,
    SignIn,
    assert_fits_the_screen,
    screenshot,
    sign_in_page,
)
from tests.e2e.access_world import PARTNER, PARTNER_ADDRESS
from tests.e2e.api_support import Api
from tests.e2e.demo_stack import REVIEWER, DemoStack

pytestmark = pytest.mark.browser

PLAYBOOK = "officer-involved-shooting"
HER_TASK, PARTNERS_TASK = "peer-support-defusing", "officer-family-support"
LIVE_WITHIN_MS = 2000


class Shots:
    """This test's screenshots: a phone's also checked for sideways scrolling."""

    def __init__(self, request: pytest.FixtureRequest, folder: Path) -> None:
        self.request, self.folder = request, folder

    async def take(self, page: Page, name: str) -> None:
        if name.endswith("-phone"):
            await assert_fits_the_screen(page)
        await screenshot(page, name, self.folder, request=self.request)


def done(count: int) -> re.Pattern[str]:
    """An incident's progress, as its card and page give it: "2 of 17 tasks done"."""
    return re.compile(rf"(?<!\d){count} of \d+ tasks done")


def task_row(page: Page, task_id: str, row: str = "li") -> Locator:
    """The list item of a task (on the incident page, My tasks, the board's incident)."""
    return page.locator(row, has=page.locator(f'a[href="/tasks/{task_id}"]')).last


async def board_shows(board: Page, card: Locator, count: int) -> None:
    """(d) The board shows `count` tasks done within 2 s, without a reload (its mark is still
    there). If not, how late it was, or what a reload shows, says where to look."""
    started = time.monotonic()
    try:
        await expect(card).to_contain_text(done(count), timeout=LIVE_WITHIN_MS)
    except AssertionError:
        try:
            await expect(card).to_contain_text(done(count), timeout=15_000)
            late = f"only after {time.monotonic() - started:.1f} s"
        except AssertionError:
            await board.reload()
            late = f"not within 17 s; reloaded, the card says: {await card.inner_text()!r}"
        raise AssertionError(f"the board showed {count} task(s) done {late}") from None
    assert await board.evaluate("window.__mark") == 1, "the board was reloaded"


async def log_incident(page: Page, title: str, shots: Shots) -> str:
    """(a) Command staff log an incident through the form; its id, from the page it ends on."""
    await page.goto("/")
    await page.get_by_role("link", name="Log incident").click()
    await page.get_by_label("Incident type").select_option(PLAYBOOK)
    await page.get_by_role("button", name="Continue").click()
    await page.get_by_label("Title").fill(title)
    await page.get_by_label("Severity").select_option("critical")
    await page.get_by_label("Person deceased").check()  # the playbook's typed attribute
    await shots.take(page, "log-incident")
    await page.get_by_role("button", name="Log incident").click()
    await page.wait_for_url(re.compile(r"/incidents/[^/]+$"))
    await expect(page.get_by_role("heading", level=1)).to_have_text(title)
    await expect(page.locator("main")).to_contain_text("Person deceased")
    return page.url.rsplit("/", 1)[1]


async def give(page: Page, task_id: str, person: str) -> None:
    """Command staff give the task to `person` from the incident page (unless it is theirs)."""
    key = task_id.split(".", 1)[1]
    chooser = page.locator(f"#assign-{key}")
    await expect(chooser).to_be_visible(timeout=20_000)  # its playbook has made it
    if await chooser.input_value() == person:
        return
    # As a person does: into the list first. While it has the focus, the live region keeps
    # what is shown (the playbook is still making tasks, each a change to refetch).
    await chooser.focus()
    await chooser.select_option(person)
    await page.locator("form", has=chooser).get_by_role("button", name="Assign").click()
    await expect(page.locator(f"#assign-{key}")).to_have_value(person)


async def responder_works_on_a_phone(page: Page, task_id: str, shots: Shots) -> None:
    """(c) From My tasks: acknowledge, then open the task and complete it with a note."""
    await page.goto("/my")
    card = task_row(page, task_id)
    await expect(card).to_contain_text("Assigned")
    await shots.take(page, "my-tasks-phone")
    await card.get_by_role("button", name="Acknowledge").click()
    await expect(task_row(page, task_id)).to_contain_text("Acknowledged")
    await task_row(page, task_id).get_by_role("link", name="Open task").click()
    await page.get_by_label("Completion note").fill("Met the officer; defusing held, all well.")
    await shots.take(page, "task-phone")
    await page.get_by_role("button", name="Complete").click()
    await expect(page.locator(".facts")).to_contain_text("Completed")


async def partner_completes_through_her_link(
    page: Page, demo: DemoStack, command: Api, task_id: str, shots: Shots
) -> None:
    """(e) The link from the email that told her of the task; no account, no sign-in."""
    assignment = command.get(f"/tasks/{task_id}")["assignment"]
    link = demo.mailed_link(PARTNER_ADDRESS, task_id, assignment)
    await page.goto(link.url)
    await expect(page).to_have_url(re.compile(f"/t/task/{re.escape(task_id)}$"))
    await expect(page.locator("main")).to_contain_text("Dr. Helen Park")
    await shots.take(page, "action-link-phone")
    await page.get_by_role("button", name="Acknowledge").click()
    await page.get_by_label("Completion note").fill("Called the family; visit booked.")
    await page.get_by_role("button", name="Complete").click()
    # Done when she is told so, as the responder's own page told her (c): the board's 2 s
    # count from there.
    await expect(page.locator("main")).to_contain_text("The task is marked completed")
    # Done when she is told so, as the responder's own page told her (c): the board's 2 s
    # count from there.
    await expect(page.locator("main")).to_contain_text("The task is marked completed")
    await expect(page.locator("main")).to_contain_text("The task is marked completed.")


async def after_action_review(page: Page, incident: str, shots: Shots) -> None:
    """(g) The report for command staff (their audience), its charts drawn; then the metrics."""
    await page.goto(f"/incidents/{incident}")
    await page.get_by_role("link", name="After-action report").click()
    await expect(page).to_have_url(re.compile(f"/incidents/{incident}/report$"))
    main = page.locator("main")
    await expect(main).to_contain_text("Command staff: public and command tasks")
    await expect(
        page.get_by_role("img", name=re.compile("Tasks by role over time"))
    ).to_be_visible()
    await expect(main).not_to_contain_text("Met the officer")  # a restricted note: never
    await shots.take(page, "report")
    await page.goto("/")
    await page.get_by_role("link", name="Response metrics").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Response metrics")
    chart = page.get_by_role("img", name=re.compile("Time to acknowledge against the window"))
    await expect(chart.first).to_be_visible()
    await shots.take(page, "metrics")


async def test_scenario_from_logging_an_incident_to_its_tasks_done(
    signed_in: SignIn,
    anonymous: Callable[..., Awaitable[Page]],
    demo: DemoStack,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    shots = Shots(request, tmp_path)
    title = "Officer-involved shooting at Harbor and 3rd"
    command = await anonymous()
    await sign_in_page(command, COMMAND)  # (a) with a password, through the form
    incident = await log_incident(command, title, shots)
    mine, partners = f"{incident}.{HER_TASK}", f"{incident}.{PARTNERS_TASK}"
    await give(command, mine, RESPONDER)
    await give(command, partners, PARTNER)
    await shots.take(command, "incident")

    board = await signed_in(REVIEWER)  # (b)
    await board.goto("/")
    card = board.locator("li", has=board.get_by_role("link", name=title))
    await expect(card).to_contain_text(done(0))
    await board.evaluate("window.__mark = 1")
    await shots.take(board, "board")

    await responder_works_on_a_phone(await signed_in(RESPONDER, phone=True), mine, shots)  # (c)
    # (d) the board shows it, with no reload (the mark is still there)
    await board_shows(board, card, 1)

    api = Api(demo.base, demo.token_for(COMMAND))
    partner = await anonymous(phone=True)
    await partner_completes_through_her_link(partner, demo, api, partners, shots)  # (e)
    await board_shows(board, card, 2)

    await command.goto(f"/incidents/{incident}")  # (f)
    for task_id in (mine, partners):
        await expect(task_row(command, task_id)).to_contain_text("Completed")
    await shots.take(command, "incident-done")
    await command.goto(f"/incidents/{incident}/timeline")
    timeline = command.locator("main")
    await expect(timeline).to_contain_text("Aisha Grant")
    # Both notes were restricted, as their tasks are: command staff see that they exist only.
    await expect(timeline).not_to_contain_text("Met the officer")
    await expect(timeline).to_contain_text("[restricted: visible to Peer Support Team only]")
    await shots.take(command, "timeline")
    await after_action_review(command, incident, shots)  # (g)


@pytest.mark.parametrize(
    ("path", "name"),
    [("/playbooks", "playbooks"), (f"/playbooks/{PLAYBOOK}", "playbook"), ("/on-call", "on-call")],
)
async def test_screenshot_of_the_library_and_on_call(
    signed_in: SignIn, request: pytest.FixtureRequest, tmp_path: Path, path: str, name: str
) -> None:
    page = await signed_in(COMMAND)
    await page.goto(path)
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await screenshot(page, name, tmp_path, request)


@pytest.mark.parametrize(
    ("path", "name"),
    [("/incidents/{incident}/report", "report-phone"), ("/review/metrics", "metrics-phone")],
)
async def test_screenshot_of_the_report_and_the_metrics_on_a_phone(
    signed_in: SignIn,
    logged: Logged,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    path: str,
    name: str,
) -> None:
    """The after-action report and the response metrics on a phone: their charts keep a
    readable size and scroll sideways on their own, the page does not."""
    page = await signed_in(COMMAND, phone=True)
    await page.goto(path.format(incident=logged.incident))
    await expect(page.get_by_role("heading", level=1)).to_be_visible()
    await expect(page.locator("figure svg[role=img]").first).to_be_visible()
    await assert_fits_the_screen(page)
    await screenshot(page, name, tmp_path, request)
