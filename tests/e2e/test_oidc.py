"""Signing in with an agency's OpenID Connect provider: a real local provider
(`oidc-provider-mock`, a subprocess: importing it warns, and warnings are errors here) and a
`pathways run gateway` configured for it, on the shared stack's NATS, driven through the whole
redirect flow with httpx — the provider's own form included."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.e2e.console_client import Browser, cookie_value
from tests.e2e.harness import Service, Stack, process_env, up_ports, wait_for
from tests.support import free_port

pytestmark = pytest.mark.e2e

PROVIDER = Path(sys.executable).parent / "oidc-provider-mock"
AGENCY = "Example City Police Department"
USERS = [
    # A roster member's verified address: linked to renee.alvarez on first sign-in.
    {"sub": "u-renee", "email": "renee.alvarez@example.org", "email_verified": True},
    # An address nobody on the roster has.
    {"sub": "u-stranger", "email": "stranger@elsewhere.example", "email_verified": True},
    # A member's address the provider has not verified: not enough.
    {"sub": "u-unverified", "email": "james.thornton@example.org", "email_verified": False},
]


@dataclass(frozen=True)
class Provider:
    issuer: str

    def set_user(self, claims: dict[str, object]) -> None:
        answer = httpx.put(f"{self.issuer}/users/{claims['sub']}", json=claims, timeout=5)
        assert answer.status_code < 300, answer.text


@pytest.fixture(scope="module")
def provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    port = free_port()
    argv = [str(PROVIDER), "--port", str(port)]
    for user in USERS:
        argv += ["--user-claims", json.dumps(user)]
    log = (tmp_path_factory.mktemp("oidc") / "provider.log").open("wb")
    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the provider exited ({process.returncode})")
        try:
            return httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_for(answering, 20, "the OpenID Connect provider")
        yield Provider(issuer)
    finally:
        process.terminate()
        process.wait(10)
        log.close()


@pytest.fixture(scope="module")
def gateway(
    stack: Stack, provider: Provider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    http_port = free_port()
    env = process_env(
        PATHWAYS_OIDC_ISSUER=provider.issuer,
        PATHWAYS_OIDC_CLIENT_ID="pathways-console",
        PATHWAYS_OIDC_CLIENT_SECRET="a-client-secret",
    )
    argv = ["run", "gateway", "--nats-url", stack.nats_url, *up_ports(http_port)]
    service = Service("gateway", argv, env, tmp_path_factory.mktemp("oidc-gateway"))
    try:
        service.wait_started()
        yield f"http://127.0.0.1:{http_port}"
    finally:
        service.stop()
    assert not [e for e in service.log_events() if e.get("level") in ("error", "critical")]


def sign_in_at_provider(browser: Browser, sub: str, next_url: str = "/") -> httpx.Response:
    """The console's link, the provider's form (its "sub" field and Authorize button), and the
    redirect back: the console's answer to the callback."""
    query = "" if next_url == "/" else f"?next={next_url}"
    start = browser.get(f"/signin/oidc{query}")
    assert start.status_code == 302, start.text
    assert cookie_value(start, "__Host-pw_oidc")
    authorize = start.headers["location"]
    with httpx.Client(timeout=10) as at_provider:
        form = at_provider.get(authorize)
        assert 'name="sub"' in form.text and "Authorize" in form.text
        back = at_provider.post(authorize, data={"sub": sub})
    assert back.status_code in (302, 303), back.text
    callback = urlsplit(back.headers["location"])
    assert f"{callback.scheme}://{callback.netloc}" == browser.base
    return browser.get(f"{callback.path}?{callback.query}")


def test_the_signin_page_links_to_the_agency(gateway: str) -> None:
    browser = Browser(gateway)
    try:
        page = browser.get("/signin?next=/%3Fa%3D1").text
        assert f'href="/signin/oidc?next=/%3Fa%3D1">Sign in with {AGENCY}</a>' in page
    finally:
        browser.close()


def test_a_verified_member_address_signs_in_as_that_member(gateway: str) -> None:
    browser = Browser(gateway)
    try:
        landed = sign_in_at_provider(browser, "u-renee", next_url="/%3Fafter%3Doidc")
        assert landed.status_code == 303, landed.text
        assert landed.headers["location"] == "/?after=oidc"
        assert browser.session is not None
        assert "<h1>Welcome, Renee Alvarez</h1>" in browser.get("/account").text
    finally:
        browser.close()


def test_a_linked_identity_signs_in_by_its_subject(gateway: str, provider: Provider) -> None:
    browser = Browser(gateway)
    try:
        assert sign_in_at_provider(browser, "u-renee").status_code == 303  # links it
        # The provider no longer vouches for the address: the subject alone finds the account.
        provider.set_user({"sub": "u-renee", "email": "renee@new.example", "email_verified": True})
        again = Browser(gateway)
        try:
            assert sign_in_at_provider(again, "u-renee").status_code == 303
            assert "Welcome, Renee Alvarez" in again.get("/account").text
        finally:
            again.close()
    finally:
        browser.close()


@pytest.mark.parametrize("sub", ["u-stranger", "u-unverified"])
def test_an_identity_without_an_account_is_refused(gateway: str, sub: str) -> None:
    browser = Browser(gateway)
    try:
        refused = sign_in_at_provider(browser, sub)
        assert refused.status_code == 403, refused.text
        assert "no Pathways account goes with that identity" in refused.text
        assert browser.session is None
        assert browser.get("/").status_code == 303
    finally:
        browser.close()


def test_a_callback_without_its_state_is_refused(gateway: str) -> None:
    browser = Browser(gateway)
    try:
        forged = browser.get("/signin/oidc/callback?code=abc&state=made-up")
        assert forged.status_code == 400, forged.text
        assert f"Signing in with {AGENCY} did not finish" in forged.text
        assert browser.session is None
    finally:
        browser.close()
