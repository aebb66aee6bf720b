"""Every console page, for every kind of reader who can see it, at desktop and phone sizes,
checked by axe-core in Chromium: no violation of serious or critical impact.

A new page joins by a line in PAGES (a path, and who looks at it: None for someone not signed
in); a state reached by doing something (an error summary, a refusal) by a function in STATES."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

from tests.browser.conftest import SignIn
from tests.e2e.demo_stack import ADMIN, REVIEWER

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
COMMAND, RESPONDER = "renee.alvarez", "aisha.grant"

# (path, who): every page of the console, and every kind of reader who may open it.
PAGES: list[tuple[str, str | None]] = [
    ("/signin", None),
    ("/signin?signed_out=true", None),
    ("/", COMMAND),
    ("/", RESPONDER),
    ("/", REVIEWER),
    ("/", ADMIN),
]
SIZES = ("desktop", "phone")


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


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize(("path", "who"), PAGES, ids=[f"{p} as {w or 'anyone'}" for p, w in PAGES])
async def test_the_page_has_no_serious_accessibility_fault(
    signed_in: SignIn,
    anonymous: Callable[..., Awaitable[Page]],
    path: str,
    who: str | None,
    size: str,
) -> None:
    phone = size == "phone"
    page = await signed_in(who, phone=phone) if who else await anonymous(phone=phone)
    answer = await page.goto(path)
    assert answer is not None and answer.ok, f"{path} as {who}: {answer and answer.status}"
    assert await page.locator("h1").count() == 1
    await assert_accessible(page)


# ---- states a page reaches when something is done on it ---------------------------------------


async def signin_error(signed_in: SignIn, anonymous: Callable[..., Awaitable[Page]]) -> Page:
    """The sign-in form after a wrong password: its error summary."""
    page = await anonymous()
    await page.goto("/signin")
    await page.get_by_label("Username").fill("kim.liu")
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("alert").wait_for()
    return page


async def refusal_page(signed_in: SignIn, anonymous: Callable[..., Awaitable[Page]]) -> Page:
    """The page a refused form answers with (here: a sign-out whose token is not the session's)."""
    page = await signed_in(RESPONDER)
    await page.locator("input[name=csrf_token]").evaluate("field => { field.value = 'forged' }")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_role("heading", name="Not allowed").wait_for()
    return page


STATES = {"signin-error": signin_error, "refusal": refusal_page}


@pytest.mark.parametrize("state", sorted(STATES))
async def test_error_pages_have_no_serious_accessibility_fault(
    signed_in: SignIn, anonymous: Callable[..., Awaitable[Page]], state: str
) -> None:
    page = await STATES[state](signed_in, anonymous)
    await assert_accessible(page)
