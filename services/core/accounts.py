"""Accounts and API tokens, kept in the accounts bucket (schemas/accounts.py).

Every create is create-only and every change a compare-and-swap on the key's revision, so two
replicas (or the gateway and an operator) never overwrite each other: the one that loses reads
again and decides again, or learns that the account exists. Neither a password nor a token
secret is ever written: an argon2id hash of the one, the sha256 of the other.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from nats.aio.client import Client
from nats.js.errors import BucketNotFoundError
from nats.js.kv import KeyValue

from schemas.accounts import (
    Account,
    ApiToken,
    SignInOutcome,
    is_username,
)
from schemas.base import Contract, utc_now
from schemas.principals import AccessRole, Principal, Via
from schemas.roster import Roster
from schemas.subjects import ACCOUNTS_BUCKET
from services.core import listing
from services.core.account_errors import (
    AccountDisabled,
    AccountError,
    AccountExists,
    NoSuchAccount,
    NoSuchToken,
    NotOnRoster,
    refuse_weak,
)
from services.core.account_keys import (
    ACCOUNT_PREFIX,
    ACCOUNTS_FILTER,
    account_key,
    is_token_id,
    new_secret,
    new_token_id,
    owner_filter,
    owner_key,
    parse_token,
    secret_digest,
    secret_matches,
    token_key,
    token_string,
    username_of,
)
from services.core.migrate import StreamsNotSetUp
from services.core.passwords import Passwords
from services.core.records import ChangedTooFast, Records
from services.core.streams import bucket_stream

ATTEMPTS = 5
M = TypeVar("M", bound=Contract)


@dataclass(frozen=True)
class AccountPage:
    accounts: list[Account]
    next_after: str | None  # the username to list after for the next page; None: the last


def person_for(username: str, person: str | None, roster: Roster) -> str | None:
    """Who an account is: the member named, else the member whose id is the username, else
    nobody (an account that only administers)."""
    if person is not None:
        if roster.member(person) is None:
            raise NotOnRoster(f"{person} is not a member of the roster in force")
        return person
    return username if roster.member(username) is not None else None


def principal_for(account: Account, via: Via) -> Principal:
    return Principal(account=account.id, person=account.person, grants=account.grants, via=via)


class AccountStore:
    def __init__(self, nc: Client, kv: KeyValue, passwords: Passwords) -> None:
        self._nc = nc
        self._records = Records(kv)
        self.passwords = passwords

    @classmethod
    async def open(cls, nc: Client, passwords: Passwords, url: str) -> AccountStore:
        try:
            kv = await nc.jetstream().key_value(ACCOUNTS_BUCKET)
        except BucketNotFoundError:
            raise StreamsNotSetUp(url, bucket_stream(ACCOUNTS_BUCKET)) from None
        return cls(nc, kv, passwords)

    # ------------------------------------------------------------------------ reading

    async def get(self, username: str) -> Account | None:
        if not is_username(username):
            return None
        found = await self._records.read(account_key(username))
        return None if found is None else Account.model_validate_json(found[0])

    async def usernames(self) -> list[str]:
        """Every username, in order: one request for the keys, no values read."""
        keys = await listing.keys(self._nc, ACCOUNTS_BUCKET, ACCOUNTS_FILTER)
        return sorted(username_of(key.removeprefix(ACCOUNT_PREFIX)) for key in keys)

    async def accounts(self, usernames: Sequence[str]) -> list[Account]:
        """These accounts (those that exist), in order; batched reads of a few hundred keys."""
        keys = [account_key(u) for u in usernames]
        found = await listing.values(self._nc, ACCOUNTS_BUCKET, keys)
        return sorted((Account.model_validate_json(v) for v in found.values()), key=_by_id)

    async def page(self, after: str | None = None, limit: int = 100) -> AccountPage:
        names = [u for u in await self.usernames() if after is None or u > after]
        chosen = names[:limit]
        more = len(names) > limit
        return AccountPage(await self.accounts(chosen), chosen[-1] if more else None)

    # ------------------------------------------------------------------------ writing

    async def _change(
        self, key: str, model: type[M], change: Callable[[M], M | None], missing: AccountError
    ) -> tuple[M, bool]:
        changed = await self._records.change(key, model, change)
        if changed is None:
            raise missing
        return changed

    async def create_account(self, account: Account) -> Account:
        if not await self._records.create(account_key(account.id), account):
            raise AccountExists(f"an account {account.id} exists already")
        return account

    async def create(
        self,
        username: str,
        *,
        person: str | None = None,
        grants: frozenset[AccessRole] = frozenset(),
        password: str | None = None,
        now: datetime | None = None,
    ) -> Account:
        """A new account (create-only: never over an existing one)."""
        if password is not None:
            refuse_weak(password)
        if await self.get(username) is not None:  # before spending a hash on it
            raise AccountExists(f"an account {username} exists already")
        hashed = None if password is None else await self.passwords.hash(password)
        account = Account(
            id=username,
            person=person,
            grants=grants,
            password_hash=hashed,
            created_at=now or utc_now(),
        )
        return await self.create_account(account)

    async def disable(self, username: str) -> tuple[Account, bool]:
        """Disabled accounts sign in to nothing, and their tokens stop working."""

        def disabled(account: Account) -> Account | None:
            return None if account.disabled else account.model_copy(update={"disabled": True})

        return await self._change(_key_of(username), Account, disabled, _no_account(username))

    async def set_password(self, username: str, password: str) -> Account:
        refuse_weak(password)
        hashed = await self.passwords.hash(password)

        def replaced(account: Account) -> Account:
            return account.model_copy(update={"password_hash": hashed})

        missing = _no_account(username)
        return (await self._change(_key_of(username), Account, replaced, missing))[0]

    async def check_password(
        self, username: str, password: str
    ) -> tuple[SignInOutcome, Account | None]:
        """Whether this is the account's password, taking as long whether or not the account
        exists. `disabled` only once the password was right, so it tells a guesser nothing."""
        account = await self.get(username)
        checked = await self.passwords.verify(account.password_hash if account else None, password)
        if account is None:
            return SignInOutcome.UNKNOWN, None
        if not checked.matches:
            return SignInOutcome.BAD_PASSWORD, account
        if account.disabled:
            return SignInOutcome.DISABLED, account
        if checked.rehashed is not None:
            account = await self._rehash(account, checked.rehashed)
        return SignInOutcome.OK, account

    async def _rehash(self, account: Account, rehashed: str) -> Account:
        old = account.password_hash

        def upgraded(now: Account) -> Account | None:
            # Only over the hash it replaces: a password set meanwhile wins.
            if now.password_hash != old:
                return None
            return now.model_copy(update={"password_hash": rehashed})

        # Signing in goes on with the old hash if this fails: it is upgraded another time.
        with contextlib.suppress(AccountError, ChangedTooFast):
            return (await self._change(account_key(account.id), Account, upgraded, _gone()))[0]
        return account

    # ------------------------------------------------------------------------ tokens

    async def issue_token(
        self, username: str, name: str, now: datetime | None = None
    ) -> tuple[ApiToken, str]:
        """A new token and the one string that uses it, `pwt_<id>_<secret>`: show it once,
        since only the sha256 of its secret is kept."""
        account = await self.get(username)
        if account is None:
            raise _no_account(username)
        if account.disabled:
            raise AccountDisabled(f"account {username} is disabled")
        secret = new_secret()
        for _ in range(ATTEMPTS):
            token = ApiToken(
                id=new_token_id(),
                account=account.id,
                name=name,
                secret_sha256=secret_digest(secret),
                created_at=now or utc_now(),
            )
            # The record first: should the owner key then fail to be written, nobody holds
            # the secret of a token that cannot be listed.
            if await self._records.create(token_key(token.id), token):
                await self._records.kv.put(owner_key(account.id, token.id), b"1")
                return token, token_string(token.id, secret)
        raise ChangedTooFast("no free token id found; try again")

    async def get_token(self, token_id: str) -> ApiToken | None:
        if not is_token_id(token_id):
            return None
        found = await self._records.read(token_key(token_id))
        return None if found is None else ApiToken.model_validate_json(found[0])

    async def verify_token(self, presented: str) -> Account | None:
        """The account a token string signs in as; None for anything else: malformed, unknown,
        a wrong secret, revoked, or an account since disabled."""
        parsed = parse_token(presented)
        if parsed is None:
            return None
        token = await self.get_token(parsed.token_id)
        if token is None or not secret_matches(parsed.secret, token.secret_sha256):
            return None
        if not token.active:
            return None
        account = await self.get(token.account)
        if account is None or account.disabled:
            return None
        return account

    async def revoke_token(
        self, token_id: str, now: datetime | None = None
    ) -> tuple[ApiToken, bool]:
        def revoked(token: ApiToken) -> ApiToken | None:
            if not token.active:
                return None
            return token.model_copy(update={"revoked_at": now or utc_now()})

        missing = NoSuchToken(f"no token {token_id}")
        if not is_token_id(token_id):
            raise missing
        return await self._change(token_key(token_id), ApiToken, revoked, missing)

    async def tokens_of(self, username: str) -> list[ApiToken]:
        """The account's tokens, revoked ones too, oldest first."""
        if not is_username(username):
            return []
        keys = await listing.keys(self._nc, ACCOUNTS_BUCKET, owner_filter(username))
        ids = [key.rsplit(".", 1)[1] for key in keys]
        found = await listing.values(self._nc, ACCOUNTS_BUCKET, [token_key(i) for i in ids])
        tokens = [ApiToken.model_validate_json(value) for value in found.values()]
        return sorted((t for t in tokens if t.account == username), key=_by_created)


async def ensure_demo_accounts(store: AccountStore, roster: Roster, password: str) -> list[str]:
    """An account for every active member of a (fictional) roster who has none, each signing
    in with `password`; existing accounts are left as they are. The usernames created.

    They share the password by design, so they share one hash: one ~190 ms hash at start-up
    instead of one per member."""
    members = [member.id for member in roster.members if member.active]
    existing = set(await store.usernames())
    missing = [member for member in members if member not in existing]
    if not missing:
        return []
    refuse_weak(password)
    hashed = await store.passwords.hash(password)
    created: list[str] = []
    for member in missing:
        account = Account(id=member, person=member, password_hash=hashed, created_at=utc_now())
        with contextlib.suppress(AccountExists):  # another replica made it first
            await store.create_account(account)
            created.append(member)
    return created


def _key_of(username: str) -> str:
    if not is_username(username):  # no key could hold it
        raise _no_account(username)
    return account_key(username)


def _no_account(username: str) -> NoSuchAccount:
    return NoSuchAccount(f"no account {username}")


def _gone() -> NoSuchAccount:
    return NoSuchAccount("the account was removed meanwhile")


def _by_id(account: Account) -> str:
    return account.id


def _by_created(token: ApiToken) -> datetime:
    return token.created_at
