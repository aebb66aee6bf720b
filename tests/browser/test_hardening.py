"""What a real browser holds and is told: the console's session cookie and a partner's link
session are Secure, HttpOnly and SameSite=Lax, and host-only; every page carries a content
security policy with no inline script or style, and refuses to be framed; and Chromium does
keep an inline script from running."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from playwright.async_api import Page

from services.gateway.link_sessions import COOKIE as LINK_COOKIE
from services.gateway.sessions import COOKIE as SESSION_COOKIE
from tests.browser.conftest import RESPONDER, Logged, SignIn

pytestmark = pytest.mark.browser


async def cookie(page: Page, name: str) -> dict[str, Any]:
    found = [dict(c) for c in await page.context.cookies() if c["name"] == name]
    assert len(found) == 1, [c["name"] for c in await page.context.cookies()]
    return found[0]


def assert_hardened(found: dict[str, Any]) -> None:
    assert found["secure"] is True, found
    assert found["httpOnly"] is True, found
    assert found["sameSite"] == "Lax", found
    # `__Host-`: set by this host only (no Domain, so not a leading dot), for the whole site.
    assert found["path"] == "/" and not found["domain"].startswith("."), found


async def test_the_session_cookie_is_secure_httponly_and_samesite_lax(signed_in: SignIn) -> None:
    page = await signed_in(RESPONDER, phone=True)
    assert_hardened(await cookie(page, SESSION_COOKIE))
    # Page scripts cannot read it.
    assert SESSION_COOKIE not in await page.evaluate("document.cookie")


async def test_a_partners_link_session_cookie_is_hardened_too(
    anonymous: Callable[..., Awaitable[Page]], logged: Logged
) -> None:
    page = await anonymous(phone=True)
    await page.goto(logged.link.url)
    assert_hardened(await cookie(page, LINK_COOKIE))
    assert logged.link.token not in page.url  # the link left the address bar


@pytest.mark.parametrize("path", ["/signin", "/my", "/playbooks"])
async def test_pages_forbid_inline_code_and_framing(
    signed_in: SignIn, anonymous: Callable[..., Awaitable[Page]], path: str
) -> None:
    page = await (anonymous() if path == "/signin" else signed_in(RESPONDER))
    answer = await page.goto(path)
    assert answer is not None and answer.ok
    headers = await answer.all_headers()
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in headers["content-security-policy"].split(";")
        if directive.strip()
    }
    assert "'unsafe-inline'" not in headers["content-security-policy"], policy
    assert "'unsafe-eval'" not in headers["content-security-policy"], policy
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"], policy
    assert policy["frame-ancestors"] == ["'none'"], policy
    assert headers["x-frame-options"] == "DENY"
    # The browser applies it: a script put into the page does not run.
    ran = await page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.__injected = 1";
            document.body.appendChild(script);
            return window.__injected === 1;
        }"""
    )
    assert ran is False
