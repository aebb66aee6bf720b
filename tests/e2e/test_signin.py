"""Signing in to the console of a real `pathways up` (the shared stack, example roster, its demo
accounts): the session cookie's attributes, the landing page naming the person, no session
fixation, a dead cookie after signing out, idle expiry (a gateway with a short idle time), the
throttle (the sixth failure is 429 with Retry-After) and the audit record of every attempt."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest

from schemas.accounts import SignInRecorded, username_digest
from schemas.subjects import AUDIT_STREAM
from services.core.broker import connect
from services.gateway.csrf import SIGNIN_COOKIE
from services.gateway.sessions import COOKIE
from tests.e2e.console_client import (
    Browser,
    form_token,
    set_cookies,
)
from tests.e2e.harness import Cli, Service, Stack, process_env, up_ports
from tests.support import free_port

pytestmark = pytest.mark.e2e

WRONG = "The username or password is not right."


@pytest.fixture
def browser(console: str) -> Iterator[Browser]:
    opened = Browser(console)
    yield opened
    opened.close()


def signed_in_as(browser: Browser) -> str | None:
    page = browser.get("/account")
    if page.status_code != 200:
        return None
    return page.text


def test_the_session_cookie_is_host_only_secure_httponly_and_lax(
    browser: Browser, password: str
) -> None:
    signin = browser.get("/signin")
    assert signin.headers["cache-control"] == "no-store"
    csrf = set_cookies(signin)[SIGNIN_COOKIE][SIGNIN_COOKIE]
    assert csrf["secure"] and csrf["httponly"] and csrf["path"] == "/" and not csrf["domain"]

    answer = browser.sign_in("renee.alvarez", password)
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"] == "/"
    cookie: SimpleCookie = set_cookies(answer)[COOKIE]
    morsel = cookie[COOKIE]
    assert len(morsel.value) == 43  # 32 random bytes, base64url
    assert morsel["secure"] is True
    assert morsel["httponly"] is True
    assert morsel["samesite"].lower() == "lax"
    assert morsel["path"] == "/"
    assert not morsel["domain"]  # __Host-: only this host
    assert not morsel["max-age"] and not morsel["expires"]  # gone when the browser closes
    # The sign-in form's token cookie has done its job.
    assert browser.signin_cookie is None


def test_the_landing_page_names_who_signed_in(browser: Browser, password: str) -> None:
    assert browser.sign_in("renee.alvarez", password).status_code == 303
    page = browser.get("/account")
    assert page.status_code == 200
    assert "<h1>Welcome, Renee Alvarez</h1>" in page.text
    assert "Signed in as <strong>Renee Alvarez</strong>" in page.text
    assert 'action="/signout"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert "content-security-policy" in page.headers


def test_the_signin_page_is_labelled_and_has_landmarks(browser: Browser) -> None:
    page = browser.get("/signin").text
    assert '<html lang="en">' in page
    assert '<a class="skip-link" href="#main">' in page and '<main id="main"' in page
    assert '<label for="username">' in page and 'id="username"' in page
    assert '<label for="password">' in page and 'autocomplete="current-password"' in page
    assert "<style" not in page and "<script" not in page and " style=" not in page
    wrong = browser.sign_in("kim.liu", "not-the-password-2").text
    assert 'class="error-summary" role="alert"' in wrong and 'href="#username"' in wrong
    assert 'aria-invalid="true"' in wrong


def test_a_page_sends_whoever_is_not_signed_in_to_sign_in_and_back(
    browser: Browser, password: str
) -> None:
    answer = browser.get("/?view=mine")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2F%3Fview%3Dmine"
    back = browser.sign_in("renee.alvarez", password, next_url="/?view=mine")
    assert back.headers["location"] == "/?view=mine"
    # Never somewhere else.
    elsewhere = Browser(browser.base)
    try:
        away = elsewhere.sign_in("renee.alvarez", password, next_url="//evil.example/")
        assert away.headers["location"] == "/"
    finally:
        elsewhere.close()


def test_a_session_id_set_before_signing_in_is_not_kept(console: str, password: str) -> None:
    planter, victim = Browser(console), Browser(console)
    try:
        # Someone signs in, then plants their own session cookie in another's browser.
        assert planter.sign_in("dana.reyes", password).status_code == 303
        planted = planter.session
        assert planted is not None
        token = form_token(victim.get("/signin").text)
        victim.cookies[COOKIE] = planted
        form = {"username": "renee.alvarez", "password": password, "csrf_token": token}
        assert victim.post("/signin", form).status_code == 303
        assert victim.session is not None and victim.session != planted
        assert "Welcome, Renee Alvarez" in (signed_in_as(victim) or "")
        # The planted id was ended, not turned into the victim's session.
        assert signed_in_as(planter) is None
    finally:
        planter.close()
        victim.close()


def test_the_cookie_is_dead_after_signing_out(browser: Browser, password: str) -> None:
    assert browser.sign_in("renee.alvarez", password).status_code == 303
    copied = browser.session
    assert copied is not None
    out = browser.sign_out()
    assert out.status_code == 303
    assert out.headers["location"] == "/signin?signed_out=true"
    assert browser.session is None  # the browser was told to forget it
    # Sent again anyway (a copy), it signs in as nobody: it was ended on the server.
    browser.cookies[COOKIE] = copied
    again = browser.get("/")
    assert again.status_code == 303 and again.headers["location"] == "/signin"
    assert "You have signed out." in browser.get("/signin?signed_out=true").text


def test_a_wrong_password_and_an_unknown_username_get_the_same_answer(
    browser: Browser, password: str
) -> None:
    wrong = browser.sign_in("kim.liu", password + "-not")
    unknown = browser.sign_in("nobody.here", password)
    for answer in (wrong, unknown):
        assert answer.status_code == 401, answer.text
        assert WRONG in answer.text
        assert COOKIE not in set_cookies(answer)
    # The same page but for the username typed back and the form's token.
    assert len(wrong.text.replace("kim.liu", "X")) == len(unknown.text.replace("nobody.here", "X"))


def audit_records(nats_url: str) -> list[SignInRecorded]:
    async def read() -> list[SignInRecorded]:
        nc = await connect(nats_url, name="e2e-audit")
        try:
            js = nc.jetstream()
            last = (await js.stream_info(AUDIT_STREAM)).state.last_seq
            found = [await js.get_msg(AUDIT_STREAM, seq) for seq in range(1, last + 1)]
        finally:
            await nc.close()
        return [SignInRecorded.model_validate_json(m.data or b"{}") for m in found]

    return asyncio.run(read())


def test_the_sixth_failure_is_refused_unchecked_and_every_attempt_is_recorded(
    browser: Browser, stack: Stack, password: str
) -> None:
    before = len(audit_records(stack.nats_url))
    for _ in range(5):
        assert browser.sign_in("omar.haddad", "not-the-password-1").status_code == 401
    throttled = browser.sign_in("omar.haddad", password)  # even the right one
    assert throttled.status_code == 429, throttled.text
    assert 0 < int(throttled.headers["retry-after"]) <= 15 * 60
    assert "Too many attempts" in throttled.text
    assert COOKIE not in set_cookies(throttled)

    records = audit_records(stack.nats_url)[before:]
    mine = [r for r in records if r.account == "omar.haddad"]
    assert [r.outcome.value for r in mine] == ["bad_password"] * 5 + ["throttled"]
    assert all(r.via.value == "session" for r in mine)
    # Nothing of the password or the address is recorded.
    raw = "".join(r.model_dump_json() for r in records)
    assert "not-the-password" not in raw and password not in raw and "127.0.0.1" not in raw


def test_an_unknown_username_is_recorded_as_its_sha256_only(browser: Browser, stack: Stack) -> None:
    typed = "Correct-Horse-typed-into-the-username"
    before = len(audit_records(stack.nats_url))
    assert browser.sign_in(typed, "whatever-it-is").status_code == 401
    recorded = audit_records(stack.nats_url)[before:]
    assert [(r.account, r.username_sha256, r.outcome.value) for r in recorded] == [
        (None, username_digest(typed), "unknown")
    ]


@pytest.mark.parametrize("problem", ["missing", "readable"])
def test_run_gateway_without_a_usable_console_key_stops_with_one_line(
    tmp_path: Path, problem: str
) -> None:
    key = tmp_path / "console.key"
    if problem == "readable":
        key.write_text("ab" * 32 + "\n")
        key.chmod(0o644)
    cli = Cli(f"nats://127.0.0.1:{free_port()}")
    cli.env["PATHWAYS_CONSOLE_KEY_FILE"] = str(key)
    result = cli("run", "gateway", *up_ports(), timeout=30)
    assert result.returncode == 1, str(result)
    expected = f"no console key at {key}" if problem == "missing" else "readable by others"
    assert len(result.error_lines) == 1 and expected in result.error_lines[0], str(result)
    assert result.error_lines[0].startswith("error: cannot start the console: ")


@pytest.fixture
def idle_gateway(stack: Stack, tmp_path: Path) -> Iterator[str]:
    """A second gateway on the same NATS whose sessions end after 2 s unused."""
    http_port = free_port()
    env = process_env(PATHWAYS_SESSION_IDLE_SECONDS="2")
    argv = ["run", "gateway", "--nats-url", stack.nats_url, *up_ports(http_port)]
    gateway = Service("gateway", argv, env, tmp_path)
    try:
        gateway.wait_started()
        yield f"http://127.0.0.1:{http_port}"
    finally:
        gateway.stop()


def test_an_idle_session_ends(idle_gateway: str, password: str) -> None:
    browser = Browser(idle_gateway)
    try:
        assert browser.sign_in("renee.alvarez", password).status_code == 303
        assert signed_in_as(browser) is not None
        time.sleep(3)
        answer = browser.get("/")
        assert answer.status_code == 303 and answer.headers["location"] == "/signin"
    finally:
        browser.close()
