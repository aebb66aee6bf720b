"""An operator manages accounts and API tokens with `pathways user` and `pathways token` against
a running `pathways up` (which set the accounts bucket up): the token's secret is printed once
and works until it is revoked or its account disabled; every bad input is one line."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from schemas.accounts import SignInOutcome
from services.core.accounts import AccountStore
from services.core.broker import connect
from services.core.passwords import Passwords
from services.core.settings import PasswordProfile
from tests.e2e.harness import Cli, CliResult, Stack

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r"^pwt_([0-9a-f]{16})_[A-Za-z0-9_-]{43}$")


@pytest.fixture(scope="module")
def operator(stack: Stack) -> Cli:
    cli = Cli(stack.nats_url)
    cli.env["PATHWAYS_PASSWORD_PROFILE"] = "test"
    return cli


@pytest.fixture
async def store(stack: Stack) -> AsyncIterator[AccountStore]:
    """The accounts bucket as the gateway will read it."""
    nc = await connect(stack.nats_url, name="e2e-accounts")
    yield await AccountStore.open(nc, Passwords(PasswordProfile.TEST), stack.nats_url)
    await nc.close()


def a_username() -> str:
    return f"e2e-{uuid.uuid4().hex[:10]}"


async def run(cli: Cli, *argv: str, stdin: str | None = None) -> CliResult:
    return await asyncio.to_thread(cli, *argv, stdin=stdin)


async def ok(cli: Cli, *argv: str, stdin: str | None = None) -> CliResult:
    result = await run(cli, *argv, stdin=stdin)
    assert result.returncode == 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    return result


async def test_a_token_is_shown_once_and_works_until_revoked_or_its_account_disabled(
    operator: Cli, store: AccountStore
) -> None:
    user = a_username()
    said: list[str] = []  # everything every command printed

    async def step(*argv: str, stdin: str | None = None) -> CliResult:
        result = await ok(operator, *argv, stdin=stdin)
        said.append(result.stdout + result.stderr)
        return result

    added = await step("user", "add", user, "--grant", "reviewer", "--password-stdin",
                       stdin=PASSWORD + "\n")  # fmt: skip
    assert added.stdout.strip() == f"Added {user} (person none; grants reviewer)."
    listed = [a for a in (await step("user", "list", "--json")).json() if a["username"] == user]
    assert listed == [
        {"username": user, "person": None, "grants": ["reviewer"], "disabled": False,
         "password": True, "oidc": [], "created_at": listed[0]["created_at"]},
    ]  # fmt: skip
    assert user in (await step("user", "list")).stdout

    created = await step("token", "create", "--user", user, "--name", "laptop")
    secret = created.stdout.strip()
    found = TOKEN.match(secret)
    assert found and created.stdout == secret + "\n", str(created)
    assert "will not be shown again" in created.stderr
    token_id = found.group(1)
    account = await store.verify_token(secret)
    assert account is not None and account.id == user

    tokens = (await step("token", "list", "--user", user, "--json")).json()
    assert [(t["id"], t["name"], t["revoked_at"]) for t in tokens] == [(token_id, "laptop", None)]
    assert token_id in (await step("token", "list", "--user", user)).stdout

    revoked = await step("token", "revoke", token_id)
    assert revoked.stdout.strip() == f"Revoked token {token_id} of {user}."
    assert await store.verify_token(secret) is None
    again = await step("token", "revoke", token_id)
    assert "revoked already" in again.stdout
    tokens = (await step("token", "list", "--user", user, "--json")).json()
    assert tokens[0]["revoked_at"] is not None

    second = (await step("token", "create", "--user", user)).stdout.strip()
    assert await store.verify_token(second) is not None
    disabled = await step("user", "disable", user)
    assert disabled.stdout.startswith(f"Disabled {user}:")
    assert await store.verify_token(second) is None
    refused = await run(operator, "token", "create", "--user", user)
    assert refused.returncode == 1 and refused.error_lines == [
        f"error: account {user} is disabled"
    ]  # fmt: skip

    printed = "".join(said)
    assert printed.count(secret) == 1 and printed.count(second) == 1
    assert "argon2" not in printed


async def test_a_new_password_is_the_one_that_signs_in(operator: Cli, store: AccountStore) -> None:
    user = a_username()
    await ok(operator, "user", "add", user, "--password-stdin", stdin=PASSWORD)
    new = f"new {PASSWORD}"
    changed = await ok(operator, "user", "password", user, "--password-stdin", stdin=new + "\r\n")
    assert changed.stdout.strip() == f"Set a new password for {user}."
    assert (await store.check_password(user, new))[0] is SignInOutcome.OK
    assert (await store.check_password(user, PASSWORD))[0] is SignInOutcome.BAD_PASSWORD


async def test_a_roster_member_s_account_is_that_member(operator: Cli, store: AccountStore) -> None:
    user = "helen.park"  # a partner on the example roster
    added = await run(operator, "user", "add", user, "--password-stdin", stdin=PASSWORD)
    assert added.returncode == 0 or "exists already" in added.stderr, str(added)
    account = await store.get(user)
    assert account is not None and account.person == user


@dataclass(frozen=True)
class Bad:
    argv: tuple[str, ...]
    says: str
    stdin: str | None = PASSWORD


EXISTING = a_username()
BAD = [
    Bad(("user", "add", "Bad Name", "--password-stdin"), "invalid username 'Bad Name'"),
    Bad(("user", "add", "e2e-short", "--password-stdin"), "use at least 12", "short\n"),
    Bad(("user", "add", "e2e-empty", "--password-stdin"), "the password is empty", "\n"),
    Bad(("user", "add", "e2e-no-tty"), "--password-stdin", None),
    Bad(("user", "add", "e2e-g", "--grant", "command", "--password-stdin"), "admin or reviewer"),
    Bad(("user", "add", "e2e-p", "--person", "nobody.here", "--password-stdin"), "not a member"),
    Bad(("user", "add", EXISTING, "--password-stdin"), "exists already"),
    Bad(("user", "disable", "e2e-ghost"), "no account e2e-ghost"),
    Bad(("token", "create", "--user", "e2e-ghost"), "no account e2e-ghost"),
    Bad(("token", "create", "--user", EXISTING, "--name", ""), "invalid --name"),
    Bad(("token", "list", "--user", "e2e-ghost"), "no account e2e-ghost"),
    Bad(("token", "revoke", "not-a-token"), "invalid token id"),
    Bad(("token", "revoke", "0123456789abcdef"), "no token 0123456789abcdef"),
    Bad(("user", "list", "--nats-url", "nats://127.0.0.1:1"), "cannot reach NATS"),
]


@pytest.mark.parametrize("bad", BAD, ids=[" ".join(b.argv)[:40] for b in BAD])
async def test_bad_input_is_one_line_and_a_non_zero_exit(operator: Cli, bad: Bad) -> None:
    if EXISTING in bad.argv:
        made = await run(operator, "user", "add", EXISTING, "--password-stdin", stdin=PASSWORD)
        assert made.returncode == 0 or "exists already" in made.stderr, str(made)
    result = await run(operator, *bad.argv, stdin=bad.stdin)
    assert result.returncode != 0, str(result)
    assert "Traceback" not in result.stderr, str(result)
    assert result.stdout == "", str(result)
    assert len(result.error_lines) == 1 and result.error_lines[0].startswith("error: "), str(result)
    assert bad.says in result.error_lines[0], str(result)
