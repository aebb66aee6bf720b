"""Signing in to the console with a password in a real browser, and out again; the sign-in page
as it looks on a desktop and on a phone (`make screenshots` keeps the pictures in
docs/screenshots/; a run without it keeps them in a temporary folder)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from tests.browser.conftest import screenshot, sign_in_page

pytestmark = pytest.mark.browser


async def test_a_person_signs_in_sees_their_name_and_signs_out(
    anonymous: Callable[..., Awaitable[Page]],
) -> None:
    page = await anonymous()
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin$"))
    await sign_in_page(page, "renee.alvarez")

    await expect(page).to_have_url(re.compile(r"/$"))
    account = page.get_by_role("navigation", name="Your account")
    await expect(account).to_contain_text("Signed in as Renee Alvarez")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Incidents")  # the board

    await account.get_by_role("button", name="Sign out").click()
    await expect(page).to_have_url(re.compile(r"/signin\?signed_out=true$"))
    await expect(page.get_by_role("status")).to_have_text("You have signed out.")
    # The session is over: the console asks to sign in again.
    await page.goto("/")
    await expect(page).to_have_url(re.compile(r"/signin$"))
    await expect(page.get_by_role("navigation", name="Your account")).to_have_count(0)


async def test_a_wrong_password_is_named_in_an_error_summary_that_takes_focus_to_the_field(
    anonymous: Callable[..., Awaitable[Page]],
) -> None:
    page = await anonymous()
    await page.goto("/signin")
    await page.get_by_label("Username").fill("aisha.grant")
    await page.get_by_label("Password").fill("not her password")
    await page.get_by_role("button", name="Sign in").click()
    summary = page.get_by_role("alert")
    await expect(summary).to_contain_text("The username or password is not right.")
    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Username")).to_be_focused()
    await expect(page.get_by_label("Username")).to_have_value("aisha.grant")


@pytest.mark.parametrize("size", ["desktop", "phone"])
async def test_screenshot_of_the_signin_page(
    anonymous: Callable[..., Awaitable[Page]],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    size: str,
) -> None:
    page = await anonymous(phone=size == "phone")
    await page.goto("/signin")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    # Nothing is wider than the screen: no sideways scrolling on a phone.
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], widths
    # The form's fields and button are big enough to touch (WCAG 2.5.8: 24 CSS pixels).
    for control in (page.get_by_label("Username"), page.get_by_role("button", name="Sign in")):
        box = await control.bounding_box()
        assert box is not None and box["height"] >= 24, box
    await screenshot(page, f"signin-{size}", tmp_path, request)
