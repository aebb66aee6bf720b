"""The console's security pieces on their own: every form route checks a token, the tokens
and the origin check, where `next` may lead, the console key file, and which account an OpenID
Connect identity is."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from services.gateway import (
    account,
    board,
    csrf,
    incident_actions,
    incident_page,
    live_streams,
    new_incident,
    oidc,
    signin,
)
from services.gateway.console import refuse_cross_site
from services.gateway.console_keys import (
    ConsoleKeyProblem,
    ConsoleKeys,
    create_console_key,
    read_console_keys,
)
from services.gateway.oidc_accounts import identity_of, member_with_email
from services.gateway.refusals import safe_next, signin_address
from services.gateway.signed_in import signed_in_form, signin_form
from tests.support import example_roster

KEY = b"k" * 32
TOKEN_CHECKS = {signed_in_form, signin_form}


def calls(dependant: Dependant) -> set[object]:
    found: set[object] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= calls(sub)
    return found


def console_routes() -> list[APIRoute]:
    routers = (
        signin.router,
        account.router,
        board.router,
        new_incident.router,
        incident_page.router,
        incident_actions.router,
        live_streams.router,
        oidc.router,
    )
    return [route for router in routers for route in router.routes if isinstance(route, APIRoute)]


def test_every_console_form_checks_a_token_and_the_origin() -> None:
    posts = [route for route in console_routes() if (route.methods or set()) - csrf.SAFE_METHODS]
    assert {route.path for route in posts} == {
        "/signin",
        "/signout",
        "/incidents",
        "/incidents/{incident_id}/trigger",
        "/incidents/{incident_id}/close",
        "/tasks/{task_id}/assign",
    }
    for route in posts:
        checks = calls(route.dependant)
        assert checks & TOKEN_CHECKS, f"{route.path} checks no form token"
        assert refuse_cross_site in checks, f"{route.path} does not refuse other sites"


def test_console_pages_stay_out_of_the_api_schema() -> None:
    assert all(not route.include_in_schema for route in console_routes())


def test_a_session_token_is_bound_to_its_session_and_key() -> None:
    token = csrf.session_token(KEY, "session-a")
    assert csrf.session_token_ok(KEY, "session-a", token)
    assert not csrf.session_token_ok(KEY, "session-b", token)
    assert not csrf.session_token_ok(b"j" * 32, "session-a", token)
    assert not csrf.session_token_ok(KEY, "session-a", None)
    assert not csrf.session_token_ok(KEY, "session-a", "")


def test_a_signin_token_needs_its_signed_cookie() -> None:
    cookie, token = csrf.new_signin_token(KEY)
    assert csrf.signin_token_ok(KEY, cookie, token)
    other_cookie, other_token = csrf.new_signin_token(KEY)
    assert not csrf.signin_token_ok(KEY, cookie, other_token)
    # A cookie someone made up, with the value they post: unsigned, so refused.
    assert not csrf.signin_token_ok(KEY, f"{token}.forged", token)
    assert not csrf.signin_token_ok(b"j" * 32, cookie, token)
    assert not csrf.signin_token_ok(KEY, None, token)
    assert not csrf.signin_token_ok(KEY, cookie, None)


@pytest.mark.parametrize(
    ("headers", "refused"),
    [
        ({}, False),
        ({"sec-fetch-site": "same-origin"}, False),
        ({"sec-fetch-site": "none"}, False),
        ({"origin": "http://127.0.0.1:8080"}, False),
        ({"origin": "HTTP://127.0.0.1:8080"}, False),
        ({"sec-fetch-site": "same-site"}, True),
        ({"sec-fetch-site": "cross-site"}, True),
        ({"origin": "http://127.0.0.1:8081"}, True),
        ({"origin": "null"}, True),
        ({"origin": "https://evil.example", "sec-fetch-site": "same-origin"}, True),
    ],
)
def test_cross_site(headers: dict[str, str], refused: bool) -> None:
    assert csrf.cross_site(headers, {"http://127.0.0.1:8080"}) is refused


def test_origin_of_a_public_url() -> None:
    assert csrf.origin_of("https://Pathways.PD.example.org/console/") == (
        "https://pathways.pd.example.org"
    )


@pytest.mark.parametrize(
    ("asked", "goes"),
    [
        ("/", "/"),
        ("/incidents/INC-1?tab=tasks", "/incidents/INC-1?tab=tasks"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/a\\b", "/"),
        ("/a\nSet-Cookie: x", "/"),
        ("javascript:alert(1)", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_next_stays_on_this_site(asked: str | None, goes: str) -> None:
    assert safe_next(asked) == goes


def test_the_signin_address_carries_next_only_when_it_matters() -> None:
    assert signin_address("/") == "/signin"
    assert signin_address("/my?x=1") == "/signin?next=%2Fmy%3Fx%3D1"
    assert signin_address("//evil.example") == "/signin"


def test_the_console_key_is_made_once_private_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "console.key"
    create_console_key(path)
    first = read_console_keys(path)
    create_console_key(path)  # kept, not replaced
    assert read_console_keys(path) == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert len({first.csrf, first.cookies, first.counters, first.oidc_state}) == 4
    assert first.secret.hex() not in repr(first)


def test_a_console_key_others_may_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "console.key"
    create_console_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(ConsoleKeyProblem, match="readable by others; chmod 600"):
        read_console_keys(path)
    with pytest.raises(ConsoleKeyProblem, match="no console key at"):
        read_console_keys(tmp_path / "missing.key")
    short = tmp_path / "short.key"
    short.write_text("abcd\n")
    os.chmod(short, 0o600)
    with pytest.raises(ConsoleKeyProblem, match="32 random bytes in hex"):
        read_console_keys(short)


def test_keys_for_different_uses_differ() -> None:
    keys = ConsoleKeys(KEY)
    assert keys.csrf != keys.cookies != keys.counters


def test_an_identity_counts_an_email_only_when_verified() -> None:
    claims = {"iss": "https://id", "sub": "1", "email": "a@b"}
    for unverified in ({}, {"email_verified": False}, {"email_verified": 1}):
        found = identity_of({**claims, **unverified})
        assert found is not None and found.verified_email is None
    said = identity_of({"iss": "https://id", "sub": "1", "email": "a@b", "email_verified": True})
    assert said is not None and said.verified_email == "a@b"
    assert identity_of({"iss": "https://id", "email": "a@b"}) is None
    assert identity_of({"iss": "", "sub": "1"}) is None


def test_a_member_is_found_by_a_verified_address_in_any_case() -> None:
    roster = example_roster()
    found = member_with_email(roster, "Renee.Alvarez@Example.org")
    assert found is not None and found.id == "renee.alvarez"
    assert member_with_email(roster, "nobody@example.org") is None
