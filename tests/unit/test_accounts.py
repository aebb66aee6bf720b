"""Accounts, tokens and sign-in records: the contracts, how tokens are spelled and checked, and
what the command line prints about them (never a hash or a secret)."""

from __future__ import annotations

import base64
import io
import json
from datetime import timedelta

import pytest
from pydantic import ValidationError
from rich.console import Console

from schemas.accounts import (
    Account,
    ApiToken,
    OidcSubject,
    SignInOutcome,
    SignInRecorded,
    is_token_name,
    is_username,
    password_problem,
    username_digest,
)
from schemas.base import utc_now
from schemas.principals import AccessRole, Via
from services.cli.account_output import account_json, account_table, token_json, token_table
from services.core.account_errors import NotOnRoster
from services.core.account_keys import (
    SECRET_BYTES,
    account_key,
    new_secret,
    new_token_id,
    owner_filter,
    owner_key,
    parse_token,
    secret_digest,
    secret_matches,
    token_string,
    username_of,
)
from services.core.accounts import person_for, principal_for
from services.core.library import load_roster
from tests.support import ROOT

NOW = utc_now()
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
EXAMPLE = load_roster(ROOT / "rosters" / "example.yaml")


def an_account(**changes: object) -> Account:
    fields: dict[str, object] = {
        "id": "dana.reyes",
        "person": "dana.reyes",
        "password_hash": HASH,
        "created_at": NOW,
    }
    return Account.model_validate(fields | changes)


def a_token(**changes: object) -> ApiToken:
    fields: dict[str, object] = {
        "id": "0123456789abcdef",
        "account": "dana.reyes",
        "name": "laptop",
        "secret_sha256": secret_digest("s" * 43),
        "created_at": NOW,
    }
    return ApiToken.model_validate(fields | changes)


# ------------------------------------------------------------------------------ contracts


@pytest.mark.parametrize("role", [AccessRole.COMMAND, AccessRole.RESPONDER])
def test_roles_the_roster_gives_cannot_be_granted(role: AccessRole) -> None:
    with pytest.raises(ValidationError, match="comes from the roster"):
        an_account(grants=frozenset({role, AccessRole.REVIEWER}))
    granted = an_account(grants=frozenset({AccessRole.REVIEWER, AccessRole.ADMIN}))
    assert granted.grants == {AccessRole.REVIEWER, AccessRole.ADMIN}


def test_an_account_round_trips_through_json() -> None:
    account = an_account(
        grants=frozenset({AccessRole.ADMIN}),
        oidc_subjects=(OidcSubject(issuer="https://id.example.org", subject="u-1"),),
    )
    assert Account.model_validate_json(account.model_dump_json()) == account


@pytest.mark.parametrize(
    ("text", "valid"),
    [("dana.reyes", True), ("a", True), ("it-admin_2", True), ("Dana", False),
     ("dana reyes", False), ("", False), (".dana", False), ("d" * 64, False)],
)  # fmt: skip
def test_usernames_are_spelled_like_roster_member_ids(text: str, valid: bool) -> None:
    assert is_username(text) is valid


def test_a_token_name_is_one_short_line() -> None:
    assert is_token_name("laptop (Dana's)")
    assert not is_token_name("")
    assert not is_token_name("x" * 65)
    assert not is_token_name("evil\x1b]0;title\x07")
    with pytest.raises(ValidationError):
        a_token(name="two\nlines")


@pytest.mark.parametrize(
    ("password", "says"),
    [("", "empty"), ("x" * 11, "11 characters; use at least 12"), ("x" * 1025, "longer than")],
)
def test_passwords_too_short_or_absurdly_long_are_refused(password: str, says: str) -> None:
    problem = password_problem(password)
    assert problem is not None and says in problem


def test_a_password_of_twelve_characters_is_enough() -> None:
    assert password_problem("x" * 12) is None
    assert password_problem("ü" * 12) is None  # characters, not bytes


def test_a_sign_in_record_names_the_account_or_the_typed_name_hashed_never_both() -> None:
    ok = SignInRecorded(account="dana.reyes", outcome=SignInOutcome.OK, via=Via.SESSION, at=NOW)
    assert ok.username_sha256 is None
    typed = "hunter2-typed-as-a-username"
    unknown = SignInRecorded(
        username_sha256=username_digest(typed), outcome=SignInOutcome.UNKNOWN,
        via=Via.SESSION, at=NOW,
    )  # fmt: skip
    assert typed not in unknown.model_dump_json()
    with pytest.raises(ValidationError):
        SignInRecorded(outcome=SignInOutcome.THROTTLED, via=Via.SESSION, at=NOW)
    with pytest.raises(ValidationError):
        SignInRecorded(
            account="dana.reyes", username_sha256=username_digest("dana.reyes"),
            outcome=SignInOutcome.OK, via=Via.SESSION, at=NOW,
        )  # fmt: skip
    with pytest.raises(ValidationError, match="no account"):
        SignInRecorded(account="dana.reyes", outcome=SignInOutcome.UNKNOWN, via=Via.TOKEN, at=NOW)


def test_a_sign_in_record_has_no_place_for_an_address_or_a_password() -> None:
    assert set(SignInRecorded.model_fields) == {
        "account", "username_sha256", "outcome", "via", "at"
    }  # fmt: skip


# ------------------------------------------------------------------------------ tokens


def test_a_token_string_parses_back_to_its_id_and_secret() -> None:
    token_id, secret = new_token_id(), new_secret()
    presented = token_string(token_id, secret)
    assert presented.startswith(f"pwt_{token_id}_")
    parsed = parse_token(presented)
    assert parsed is not None and (parsed.token_id, parsed.secret) == (token_id, secret)


def test_a_secret_is_at_least_32_random_bytes_and_new_every_time() -> None:
    secret = new_secret()
    assert len(base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))) >= SECRET_BYTES >= 32
    assert len({new_secret() for _ in range(50)}) == 50
    assert len({new_token_id() for _ in range(50)}) == 50


@pytest.mark.parametrize(
    "presented",
    ["", "pwt_", "pwt__" + "s" * 43, "pwx_0123456789abcdef_" + "s" * 43,
     "pwt_0123456789ABCDEF_" + "s" * 43, "pwt_0123456789abcdef_" + "s" * 20,
     "pwt_0123456789abcdef_" + "s" * 42 + "!", "Bearer pwt_0123456789abcdef_" + "s" * 43],
)  # fmt: skip
def test_anything_not_shaped_like_a_token_is_no_token(presented: str) -> None:
    assert parse_token(presented) is None


def test_only_the_secret_itself_matches_its_digest() -> None:
    secret = new_secret()
    stored = secret_digest(secret)
    assert stored != secret and len(stored) == 64
    assert secret_matches(secret, stored)
    assert not secret_matches(secret[:-1] + ("A" if secret[-1] != "A" else "B"), stored)
    assert not secret_matches("", stored)


def test_a_dotted_username_is_one_token_of_its_keys() -> None:
    assert account_key("dana.reyes") == "acct.dana=reyes"
    assert username_of("dana=reyes") == "dana.reyes"
    # `owner.<user>.*` matches three-token keys only: one account's tokens, nobody else's.
    assert owner_key("a.b", "0123456789abcdef") == "owner.a=b.0123456789abcdef"
    assert owner_filter("a") == "owner.a.*"
    assert len(owner_key("a.b.c", "0123456789abcdef").split(".")) == 3


# --------------------------------------------------------------------- who an account is


def test_an_account_is_the_member_with_its_username_unless_told_otherwise() -> None:
    assert person_for("dana.reyes", None, EXAMPLE) == "dana.reyes"
    assert person_for("it-admin", None, EXAMPLE) is None
    assert person_for("dreyes", "dana.reyes", EXAMPLE) == "dana.reyes"
    with pytest.raises(NotOnRoster, match="nobody.here is not a member"):
        person_for("dreyes", "nobody.here", EXAMPLE)


def test_a_principal_carries_the_account_its_person_and_its_grants() -> None:
    account = an_account(grants=frozenset({AccessRole.REVIEWER}))
    principal = principal_for(account, Via.TOKEN)
    assert (principal.account, principal.person, principal.via) == (
        "dana.reyes", "dana.reyes", Via.TOKEN
    )  # fmt: skip
    assert principal.grants == {AccessRole.REVIEWER}
    assert principal_for(an_account(id="it-admin", person=None), Via.SESSION).person is None


# ------------------------------------------------------------------------------ output


def rendered(table: object, width: int) -> list[str]:
    console = Console(width=width, record=True, highlight=False, emoji=False, file=io.StringIO())
    console.print(table)
    return console.export_text().splitlines()


def test_the_account_list_is_a_table_in_80_columns_and_shows_no_hash() -> None:
    accounts = [
        an_account(grants=frozenset({AccessRole.REVIEWER, AccessRole.ADMIN})),
        an_account(id="it-admin", person=None, password_hash=None),
        an_account(id="miguel.santos", person="miguel.santos", disabled=True),
    ]
    lines = rendered(account_table(accounts), 80)
    assert all(len(line.rstrip()) <= 80 for line in lines), lines
    assert lines[0].split() == ["USERNAME", "STATUS", "GRANTS", "CREATED", "PERSON"]
    assert lines[1].split()[:4] == ["dana.reyes", "active", "admin,", "reviewer"]
    assert lines[2].split()[:2] == ["it-admin", "no"]  # no sign-in
    assert "disabled" in lines[3]
    assert "argon2" not in "\n".join(lines)
    assert "argon2" not in json.dumps([account_json(a) for a in accounts])


def test_a_long_username_turns_the_list_into_cards_still_within_80_columns() -> None:
    lines = rendered(account_table([an_account(id="u" * 63, person=None)]), 80)
    assert all(len(line.rstrip()) <= 80 for line in lines), lines
    assert lines[0] == "u" * 63


def test_the_token_list_fits_80_columns_and_shows_no_secret_digest() -> None:
    tokens = [a_token(), a_token(id="fedcba9876543210", revoked_at=NOW + timedelta(days=1))]
    lines = rendered(token_table(tokens), 80)
    assert all(len(line.rstrip()) <= 80 for line in lines), lines
    assert lines[0].split() == ["ID", "CREATED", "(UTC)", "STATUS", "NAME"]
    assert "revoked" in lines[2] and "active" in lines[1]
    shown = "\n".join(lines) + json.dumps([token_json(t) for t in tokens])
    assert tokens[0].secret_sha256 not in shown
    assert token_json(tokens[1])["revoked_at"] is not None
