"""Cross-site request forgery against the console of a real `pathways up`: a form POST without
its token, with another session's token, or sent from another site (Origin, Sec-Fetch-Site)
is refused with 403 and changes nothing; the same POST with its own token from its own page
goes through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.gateway.sessions import COOKIE
from tests.e2e.console_client import Browser, form_token

pytestmark = pytest.mark.e2e


@pytest.fixture
def signed_in(console: str, password: str) -> Iterator[Browser]:
    browser = Browser(console)
    assert browser.sign_in("james.thornton", password).status_code == 303
    yield browser
    browser.close()


def still_signed_in(browser: Browser) -> bool:
    return browser.get("/account").status_code == 200


def test_a_form_without_its_token_is_refused(signed_in: Browser) -> None:
    refused = signed_in.post("/signout", {})
    assert refused.status_code == 403, refused.text
    assert "did not come from this page" in refused.text
    assert still_signed_in(signed_in)


def test_another_sessions_token_is_refused(signed_in: Browser, console: str, password: str) -> None:
    other = Browser(console)
    try:
        assert other.sign_in("kim.liu", password).status_code == 303
        theirs = other.page_token()
        assert theirs != signed_in.page_token()
        refused = signed_in.post("/signout", {"csrf_token": theirs})
        assert refused.status_code == 403, refused.text
        assert still_signed_in(signed_in) and still_signed_in(other)
    finally:
        other.close()


@pytest.mark.parametrize(
    "headers",
    [
        {"origin": "https://evil.example"},
        {"origin": "null"},
        {"sec-fetch-site": "cross-site"},
        {"sec-fetch-site": "same-site"},
    ],
    ids=["other-origin", "null-origin", "cross-site", "same-site"],
)
def test_a_form_sent_from_another_site_is_refused_even_with_its_token(
    signed_in: Browser, headers: dict[str, str]
) -> None:
    token = signed_in.page_token()
    refused = signed_in.post("/signout", {"csrf_token": token}, headers=headers)
    assert refused.status_code == 403, refused.text
    assert "sent from another site" in refused.text
    assert still_signed_in(signed_in)


def test_the_same_form_from_its_own_page_goes_through(signed_in: Browser, console: str) -> None:
    token = signed_in.page_token()
    own = {"origin": console, "sec-fetch-site": "same-origin"}
    accepted = signed_in.post("/signout", {"csrf_token": token}, headers=own)
    assert accepted.status_code == 303, accepted.text
    assert not still_signed_in(signed_in)


def test_the_signin_form_needs_its_own_cookie_and_token(console: str, password: str) -> None:
    browser = Browser(console)
    try:
        token = form_token(browser.get("/signin").text)
        form = {"username": "james.thornton", "password": password, "csrf_token": token}
        # A forged sign-in (someone else's page signing the browser in to their account)
        # has neither the cookie nor, from another site, the right origin.
        cookie = browser.cookies.pop("__Host-pw_csrf")
        assert browser.post("/signin", form).status_code == 403
        browser.cookies["__Host-pw_csrf"] = cookie
        tampered = {**form, "csrf_token": token[:-2] + "xx"}
        assert browser.post("/signin", tampered).status_code == 403
        crossed = browser.post("/signin", form, headers={"sec-fetch-site": "cross-site"})
        assert crossed.status_code == 403
        assert COOKIE not in browser.cookies
        assert browser.post("/signin", form).status_code == 303
    finally:
        browser.close()
