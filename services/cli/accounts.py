"""pathways user | token: accounts and API tokens, kept by an operator directly on NATS.

Like `admin dead-letters`, these read and write a bucket themselves (pw_accounts), so they need
a NATS user with JetStream access to it: `admin` in deploy/nats/accounts.conf, not `cli`.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import nats.errors
import typer
from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError
from pydantic import ValidationError

from schemas.accounts import (
    MAX_PASSWORD_LENGTH,
    Account,
    ApiToken,
    is_token_name,
    is_username,
    password_problem,
)
from schemas.principals import GRANTABLE, AccessRole
from schemas.roster import Roster
from schemas.subjects import ROSTERS_BUCKET
from services.cli.account_output import account_json, account_table, token_json, token_table
from services.cli.client import Refusal, errors, execute, fail
from services.cli.options import DEFAULT_URL, Json, NatsUrl, RosterFile
from services.cli.output import out, print_json
from services.cli.roster_source import from_file
from services.core.account_errors import AccountError
from services.core.account_keys import is_token_id
from services.core.accounts import AccountStore, person_for
from services.core.broker import connect, without_credentials
from services.core.passwords import Passwords
from services.core.records import ChangedTooFast
from services.core.roster_store import read_current, read_version
from services.core.settings import Settings

T = TypeVar("T")

users = typer.Typer(
    help="Accounts people sign in with: add, list, disable, set a password.",
    no_args_is_help=True,
)
tokens = typer.Typer(
    help="API tokens for scripts and the command line: create, list, revoke.",
    no_args_is_help=True,
)

UsernameArg = Annotated[str, typer.Argument(metavar="USERNAME", help="e.g. dana.reyes")]
UserOpt = Annotated[str, typer.Option("--user", metavar="USERNAME", help="The account's username.")]
PasswordStdin = Annotated[
    bool,
    typer.Option("--password-stdin", help="Read the password from the first line of stdin."),
]
GRANTS_EXPECTED = " or ".join(sorted(GRANTABLE))
BATCH = 256


def _passwords() -> Passwords:
    try:
        return Passwords(Settings().password_profile)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(p) for p in problem["loc"])
        fail(f"invalid setting {name} (PATHWAYS_{name.upper()}): {problem['msg']}")


def _with_store(url: str, work: Callable[[AccountStore, Client], Awaitable[T]]) -> T:
    passwords = _passwords()

    async def run() -> T:
        nc = await connect(url, name="pathways-accounts")
        try:
            store = await AccountStore.open(nc, passwords, url)
            return await work(store, nc)
        except (AccountError, ChangedTooFast) as exc:
            raise Refusal(str(exc)) from None
        except (nats.errors.Error, TimeoutError):
            # Most often a user without JetStream access: its requests are never answered.
            raise Refusal(
                f"the accounts bucket on {without_credentials(url)} did not answer: run this "
                "as a NATS user with JetStream access, e.g. admin (docs/cli.md)"
            ) from None
        finally:
            await nc.close()

    return execute(run())


def _username(text: str, what: str = "username") -> str:
    if not is_username(text):
        shown = repr(text) if len(text) <= 64 else repr(text[:61] + "...")
        fail(f"invalid {what} {shown}: expected lowercase letters, digits, . _ - like dana.reyes")
    return text


def _first_line() -> str:
    line = sys.stdin.readline(MAX_PASSWORD_LENGTH + 3)
    return line.removesuffix("\n").removesuffix("\r")


def _new_password(from_stdin: bool) -> str:
    """A new password from stdin or asked for twice; one line and exit 1 if unacceptable."""
    if from_stdin:
        password = _first_line()
    else:
        if not sys.stdin.isatty():
            fail("no terminal to ask for the password on: pipe it in with --password-stdin")
        try:
            password = getpass.getpass("New password: ")
            again = getpass.getpass("Again: ")
        except EOFError:
            fail("no password given")
        if password != again:
            fail("the two passwords differ")
    problem = password_problem(password)
    if problem is not None:
        fail(problem)
    return password


def _grants(names: list[str]) -> frozenset[AccessRole]:
    granted: set[AccessRole] = set()
    for name in names:
        if name not in {role.value for role in GRANTABLE}:
            fail(f"--grant {name[:64]!r}: expected {GRANTS_EXPECTED} (others come from the roster)")
        granted.add(AccessRole(name))
    return frozenset(granted)


async def _roster_in_force(nc: Client, file: Path | None) -> Roster:
    """The roster loaded on the server (`pathways roster load`), else the file services use."""
    try:
        kv = await nc.jetstream().key_value(ROSTERS_BUCKET)
    except BucketNotFoundError:
        return from_file(file).roster
    current = await read_current(kv)
    loaded = None if current is None else await read_version(kv, current.version)
    return loaded if loaded is not None else from_file(file).roster


@users.command("add")
def add_user(
    username: UsernameArg,
    person: Annotated[
        str | None,
        typer.Option("--person", help="The roster member it is (default: the username's)."),
    ] = None,
    grant: Annotated[
        list[str] | None,
        typer.Option("--grant", metavar="ROLE", help=f"{GRANTS_EXPECTED}; repeat for both."),
    ] = None,
    password_stdin: PasswordStdin = False,
    roster: RosterFile = None,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Add an account that signs in with a password."""
    _username(username)
    if person is not None:
        _username(person, "--person")
    grants = _grants(grant or [])
    password = _new_password(password_stdin)

    async def add(store: AccountStore, nc: Client) -> Account:
        who = person_for(username, person, await _roster_in_force(nc, roster))
        return await store.create(username, person=who, grants=grants, password=password)

    account = _with_store(nats_url, add)
    granted = ", ".join(sorted(account.grants)) or "none"
    out.print(f"Added {account.id} (person {account.person or 'none'}; grants {granted}).")


@users.command("list")
def list_users(as_json: Json = False, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """Every account, by username."""

    async def every(store: AccountStore, nc: Client) -> list[Account]:
        names = await store.usernames()
        found: list[Account] = []
        for start in range(0, len(names), BATCH):
            found += await store.accounts(names[start : start + BATCH])
        return found

    accounts = _with_store(nats_url, every)
    if as_json:
        print_json([account_json(a) for a in accounts])
    elif not accounts:
        out.print("No accounts.")
    else:
        out.print(account_table(accounts))


@users.command("disable")
def disable_user(username: UsernameArg, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """Disable an account: it signs in to nothing and its tokens stop working."""
    _username(username)
    _account, changed = _with_store(nats_url, lambda store, nc: store.disable(username))
    if changed:
        out.print(f"Disabled {username}: it cannot sign in, and its tokens no longer work.")
    else:
        out.print(f"{username} was disabled already.")


@users.command("password")
def set_password(
    username: UsernameArg, password_stdin: PasswordStdin = False, nats_url: NatsUrl = DEFAULT_URL
) -> None:
    """Set an account's password."""
    _username(username)
    password = _new_password(password_stdin)
    _with_store(nats_url, lambda store, nc: store.set_password(username, password))
    out.print(f"Set a new password for {username}.")


@tokens.command("create")
def create_token(
    user: UserOpt,
    name: Annotated[str, typer.Option("--name", help="What it is for, e.g. laptop.")] = "cli",
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Create an API token; it is printed once, on stdout, and never again."""
    _username(user, "--user")
    if not is_token_name(name):
        fail("invalid --name: 1 to 64 characters, no control characters")
    token, secret = _with_store(nats_url, lambda store, nc: store.issue_token(user, name))
    sys.stdout.write(secret + "\n")
    errors.print(
        f"Token {token.id} for {token.account}. It will not be shown again: store it now.",
        markup=False,
    )


@tokens.command("list")
def list_tokens(user: UserOpt, as_json: Json = False, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """An account's tokens, oldest first (never their secrets)."""
    _username(user, "--user")

    async def of(store: AccountStore, nc: Client) -> list[ApiToken]:
        if await store.get(user) is None:
            raise Refusal(f"no account {user}")
        return await store.tokens_of(user)

    found = _with_store(nats_url, of)
    if as_json:
        print_json([token_json(t) for t in found])
    elif not found:
        out.print(f"No tokens for {user}.")
    else:
        out.print(token_table(found))


@tokens.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(metavar="TOKEN_ID", help="From `token list`.")],
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Revoke a token: it stops working at once."""
    if not is_token_id(token_id):
        shown = repr(token_id[:64])
        fail(f"invalid token id {shown}: expected 16 hex digits, as `token list` shows")
    token, changed = _with_store(nats_url, lambda store, nc: store.revoke_token(token_id))
    if changed:
        out.print(f"Revoked token {token.id} of {token.account}.")
    else:
        out.print(f"Token {token.id} of {token.account} was revoked already.")
