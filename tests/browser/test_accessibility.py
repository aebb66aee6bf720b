"""Every console page, for every kind of reader who can see it, at desktop and phone sizes,
checked by axe-core in Chromium: no violation of serious or critical impact.

A new page joins by a line in PAGES (a path, where {incident}, {task} and {playbook} name a real
incident, a task of the responder's with a restricted note, and a playbook; and who looks at it:
None for someone not signed in, PARTNER_LINK for a partner who opened her emailed action link);
a state reached by doing something (an error summary, a refusal) by a function in STATES."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

from tests.browser.conftest import COMMAND, RESPONDER, Logged, SignIn
from tests.e2e.demo_stack import ADMIN, REVIEWER

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
Opener = Callable[..., Awaitable[Page]]
PARTNER_LINK = "partner's link"
EVERYONE = (COMMAND, RESPONDER, REVIEWER, ADMIN)
# Who may read an incident's timeline, and a task's page (its assignee and whoever reads every
# incident).
READS_INCIDENTS = (COMMAND, REVIEWER)
READS_TASK = (COMMAND, RESPONDER, REVIEWER)
PLAYBOOK = "officer-involved-shooting"
Case = tuple[str, str | None, str]  # (path, who, "desktop" | "phone")


def seen_by(path: str, readers: tuple[str | None, ...], on_phone: str | None) -> list[Case]:
    """The page for each reader on a desktop, and for `on_phone` on a phone too (the layout is
    the same for everyone; what a phone changes is checked once per page)."""
    cases = [(path, who, "desktop") for who in readers]
    return cases + [(path, on_phone, "phone")] if on_phone in readers else cases


# Every page of the console, every kind of reader who may open it.
PAGES: list[Case] = [
    *seen_by("/signin", (None,), None),
    ("/signin", None, "phone"),
    ("/signin?signed_out=true", None, "desktop"),
    *seen_by("/", READS_INCIDENTS, COMMAND),
    *seen_by("/account", EVERYONE, RESPONDER),
    *seen_by("/incidents/new", (COMMAND,), COMMAND),
    *seen_by(f"/incidents/new?type={PLAYBOOK}", (COMMAND,), COMMAND),
    *seen_by("/incidents/{incident}", (*READS_INCIDENTS, RESPONDER), RESPONDER),
    *seen_by("/my", EVERYONE, RESPONDER),
    *seen_by("/tasks/{task}", READS_TASK, RESPONDER),
    *seen_by("/incidents/{incident}/timeline", READS_INCIDENTS, COMMAND),
    # The report, at each reader's highest audience, and the public one; metrics across incidents.
    *seen_by("/incidents/{incident}/report", (*READS_INCIDENTS, ADMIN), COMMAND),
    ("/incidents/{incident}/report?audience=public", REVIEWER, "desktop"),
    *seen_by("/review/metrics", (*READS_INCIDENTS, ADMIN), REVIEWER),
    ("/review/metrics?since=365d&exercises=1", COMMAND, "desktop"),
    *seen_by("/playbooks", EVERYONE, RESPONDER),
    *seen_by("/playbooks/{playbook}", EVERYONE, RESPONDER),
    *seen_by("/on-call", EVERYONE, RESPONDER),
    *seen_by("/t/task/{link_task}", (PARTNER_LINK,), PARTNER_LINK),
    ("/t/done?outcome=completed", None, "desktop"),
    ("/t/done?outcome=completed", None, "phone"),
]


def blocking(results: dict[str, Any]) -> list[str]:
    """One line per element at fault: rule, impact, where, and what axe says to fix."""
    found = []
    for violation in results["violations"]:
        if violation["impact"] not in BLOCKING:
            continue
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            found.append(
                f"{violation['id']} ({violation['impact']}) at {target}: {violation['help']}"
            )
    return found


async def assert_accessible(page: Page) -> None:
    results = await Axe().run(page)
    faults = blocking(results.response)
    assert not faults, f"{page.url}:\n" + "\n".join(faults)


@pytest.mark.parametrize(
    ("path", "who", "size"), PAGES, ids=[f"{p} as {w or 'anyone'} {s}" for p, w, s in PAGES]
)
async def test_the_page_has_no_serious_accessibility_fault(
    signed_in: SignIn,
    anonymous: Opener,
    logged: Logged,
    path: str,
    who: str | None,
    size: str,
) -> None:
    phone = size == "phone"
    if who is None or who == PARTNER_LINK:
        page = await anonymous(phone=phone)
        if who == PARTNER_LINK:
            await page.goto(logged.link.url)  # starts her link session, sends her on to the task
    else:
        page = await signed_in(who, phone=phone)
    path = path.format(incident=logged.incident, task=logged.task, playbook=PLAYBOOK,
                       link_task=logged.link.task_id)  # fmt: skip
    answer = await page.goto(path)
    assert answer is not None and answer.ok, f"{path} as {who}: {answer and answer.status}"
    assert await page.locator("h1").count() == 1
    await assert_accessible(page)


# ---- states a page reaches when something is done on it ---------------------------------------


async def signin_error(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """The sign-in form after a wrong password: its error summary."""
    page = await anonymous()
    await page.goto("/signin")
    await page.get_by_label("Username").fill("kim.liu")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").wait_for()
    return page


async def refusal_page(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """The page a refused form answers with (here: a sign-out whose token is not the session's)."""
    page = await signed_in(RESPONDER)
    account = page.get_by_role("navigation", name="Your account")
    await account.locator("input[name=csrf_token]").evaluate("field => { field.value = 'forged' }")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="Not allowed").wait_for()
    return page


async def task_form_error(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """A task's page after declining it with no reason (spaces only): its error summary, the
    field marked."""
    page = await signed_in(RESPONDER, phone=True)
    await page.goto(f"/tasks/{logged.task}")
    await page.get_by_label("Reason for declining").fill("   ")
    await page.get_by_role("button", name="Decline").click()
    await page.get_by_role("alert").wait_for()
    return page


async def incident_form_error(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """An incident's page after closing it with no reason: its error summary."""
    page = await signed_in(COMMAND)
    await page.goto(f"/incidents/{logged.incident}")
    await page.get_by_role("button", name="Close incident").click()
    await page.get_by_role("alert").wait_for()
    return page


async def metrics_form_error(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """The metrics form with a "since" that is neither a span nor a date: its error summary."""
    page = await signed_in(REVIEWER)
    await page.goto("/review/metrics")
    await page.get_by_label("Since").fill("last spring")
    await page.get_by_role("button", name="Show metrics").click()
    await page.get_by_role("alert").wait_for()
    return page


async def not_found_signed_in(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """An address the console does not have, opened by someone signed in: the 404 page."""
    page = await signed_in(RESPONDER, phone=True)
    answer = await page.goto("/no-such-page")
    assert answer is not None and answer.status == 404
    await page.get_by_role("heading", name="Page not found").wait_for()
    return page


async def not_found_signed_out(signed_in: SignIn, anonymous: Opener, logged: Logged) -> Page:
    """The same 404 page for someone not signed in."""
    page = await anonymous()
    answer = await page.goto("/incidents/INC-00000000/no-such-page")
    assert answer is not None and answer.status == 404
    await page.get_by_role("heading", name="Page not found").wait_for()
    return page


STATES = {
    "metrics-error": metrics_form_error,
    "not-found-signed-in": not_found_signed_in,
    "not-found-signed-out": not_found_signed_out,
    "signin-error": signin_error,
    "refusal": refusal_page,
    "task-error": task_form_error,
    "incident-error": incident_form_error,
}


@pytest.mark.parametrize("state", sorted(STATES))
async def test_error_pages_have_no_serious_accessibility_fault(
    signed_in: SignIn, anonymous: Opener, logged: Logged, state: str
) -> None:
    page = await STATES[state](signed_in, anonymous, logged)
    await assert_accessible(page)
