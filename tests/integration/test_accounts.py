"""Accounts and API tokens in the real accounts bucket: tokens stop working when revoked or when
their account is disabled, nothing secret is ever written, and concurrent writers never
overwrite each other."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from schemas.accounts import SignInOutcome, SignInRecorded
from schemas.base import utc_now
from schemas.principals import AccessRole, Via
from schemas.subjects import ACCOUNTS_BUCKET, AUDIT_STREAM
from services.core.account_errors import AccountExists, NoSuchAccount
from services.core.account_keys import parse_token, token_string
from services.core.accounts import AccountStore, ensure_demo_accounts, principal_for
from services.core.audit import record_sign_in
from services.core.broker import connect
from services.core.library import load_roster
from services.core.passwords import Passwords
from services.core.settings import PasswordProfile
from services.core.streams import bucket_stream
from tests.support import ROOT

pytestmark = pytest.mark.integration

PASSWORD = "correct horse battery staple"


def a_username(prefix: str = "user") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def open_store(nc: Client, url: str) -> AccountStore:
    return await AccountStore.open(nc, Passwords(PasswordProfile.TEST), url)


@pytest.fixture
async def store(migrated: str, nc: Client) -> AccountStore:
    return await open_store(nc, migrated)


@pytest.fixture
async def replica(migrated: str) -> AsyncIterator[AccountStore]:
    """The same bucket through a connection of its own, as another replica would hold it."""
    client = await connect(migrated, name="tests-replica")
    yield await open_store(client, migrated)
    await client.close()


async def test_a_token_verifies_until_it_is_revoked(store: AccountStore) -> None:
    username = a_username()
    await store.create(username, password=PASSWORD)
    token, secret = await store.issue_token(username, "laptop")
    assert secret.startswith(f"pwt_{token.id}_")
    account = await store.verify_token(secret)
    assert account is not None and account.id == username
    revoked, changed = await store.revoke_token(token.id)
    assert changed and revoked.revoked_at is not None
    assert await store.verify_token(secret) is None
    assert (await store.revoke_token(token.id))[1] is False  # once is enough


async def test_every_token_of_a_disabled_account_fails(store: AccountStore) -> None:
    username = a_username()
    await store.create(username, password=PASSWORD, grants=frozenset({AccessRole.REVIEWER}))
    secrets = [(await store.issue_token(username, name))[1] for name in ("laptop", "script")]
    assert all([await store.verify_token(s) is not None for s in secrets])
    account, changed = await store.disable(username)
    assert changed and account.disabled
    assert [await store.verify_token(s) for s in secrets] == [None, None]
    assert (await store.check_password(username, PASSWORD))[0] is SignInOutcome.DISABLED


async def test_a_tampered_or_borrowed_secret_fails(store: AccountStore) -> None:
    username, other = a_username(), a_username()
    for name in (username, other):
        await store.create(name, password=PASSWORD)
    token, secret = await store.issue_token(username, "laptop")
    _, other_secret = await store.issue_token(other, "laptop")
    parsed = parse_token(secret)
    assert parsed is not None
    flipped = parsed.secret[:-1] + ("A" if parsed.secret[-1] != "A" else "B")
    assert await store.verify_token(token_string(token.id, flipped)) is None
    borrowed = parse_token(other_secret)
    assert borrowed is not None  # another account's secret under this token's id
    assert await store.verify_token(token_string(token.id, borrowed.secret)) is None
    assert await store.verify_token(token_string("0123456789abcdef", parsed.secret)) is None
    assert await store.verify_token(secret + "x") is None
    assert await store.verify_token("") is None
    assert await store.verify_token(secret) is not None


async def test_no_message_of_the_accounts_bucket_holds_a_secret_or_a_password(
    store: AccountStore, nc: Client
) -> None:
    username = a_username()
    first, second = f"first {uuid.uuid4().hex}", f"second {uuid.uuid4().hex}"
    await store.create(username, password=first)
    _, secret = await store.issue_token(username, "laptop")
    revoked, _ = await store.issue_token(username, "old")
    await store.revoke_token(revoked.id)
    await store.set_password(username, second)
    assert (await store.check_password(username, second))[0] is SignInOutcome.OK
    parsed = parse_token(secret)
    assert parsed is not None
    needles = [first, second, secret, parsed.secret]
    js = nc.jetstream()
    state = (await js.stream_info(bucket_stream(ACCOUNTS_BUCKET))).state
    read = 0
    for seq in range(state.first_seq, state.last_seq + 1):
        try:
            msg = await js.get_msg(bucket_stream(ACCOUNTS_BUCKET), seq)
        except NotFoundError:  # replaced (history 1): gone from the stream
            continue
        read += 1
        raw = (msg.data or b"") + str(msg.headers or {}).encode() + (msg.subject or "").encode()
        assert not [n for n in needles if n.encode() in raw], msg.subject
    assert read >= 4  # the account, two tokens, their owner keys: all of them were read


async def test_two_replicas_adding_one_username_at_once_make_one_account(
    store: AccountStore, replica: AccountStore
) -> None:
    username = a_username()
    outcomes = await asyncio.gather(
        store.create(username, password=PASSWORD, grants=frozenset({AccessRole.ADMIN})),
        replica.create(username, password=f"other {PASSWORD}"),
        return_exceptions=True,
    )
    won = [o for o in outcomes if not isinstance(o, BaseException)]
    lost = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    assert isinstance(lost[0], AccountExists)
    stored = await store.get(username)
    assert stored == won[0]


async def test_a_change_made_meanwhile_by_another_replica_is_kept(
    store: AccountStore, replica: AccountStore
) -> None:
    """The replica disables the account between this store's read and its write of a new
    password: the write is refused, read again and applied over the disabled account."""
    username = a_username()
    await store.create(username, password=PASSWORD)
    read = store._records.read
    reads = 0

    async def read_then_disable_elsewhere(key: str) -> tuple[bytes, int] | None:
        nonlocal reads
        found = await read(key)
        reads += 1
        if reads == 1:
            await replica.disable(username)
        return found

    store._records.read = read_then_disable_elsewhere  # type: ignore[method-assign]
    await store.set_password(username, f"new {PASSWORD}")
    store._records.read = read  # type: ignore[method-assign]
    assert reads == 2  # the stale write was refused and decided again
    account = await store.get(username)
    assert account is not None and account.disabled
    assert (await store.check_password(username, f"new {PASSWORD}"))[0] is SignInOutcome.DISABLED


async def test_demo_accounts_are_made_once_and_never_overwrite_one(
    store: AccountStore, nc: Client
) -> None:
    roster = load_roster(ROOT / "rosters" / "example.yaml")
    active = sorted(m.id for m in roster.members if m.active)
    kept = active[0]  # an operator made this one first, with a password of its own
    own = f"own {PASSWORD}"
    await store.create(kept, person=kept, password=own, grants=frozenset({AccessRole.ADMIN}))
    before = await store.get(kept)
    created = await ensure_demo_accounts(store, roster, PASSWORD)
    assert sorted(created) == [m for m in active if m != kept]
    assert await store.get(kept) == before
    outcome, account = await store.check_password(active[-1], PASSWORD)
    assert outcome is SignInOutcome.OK and account is not None
    assert account.person == active[-1] and account.grants == frozenset()
    assert set(active) <= set(await store.usernames())
    js = nc.jetstream()
    last = (await js.stream_info(bucket_stream(ACCOUNTS_BUCKET))).state.last_seq
    assert await ensure_demo_accounts(store, roster, PASSWORD) == []
    assert (await js.stream_info(bucket_stream(ACCOUNTS_BUCKET))).state.last_seq == last


async def test_signing_in_tells_the_outcomes_apart_and_upgrades_an_old_hash(
    store: AccountStore, migrated: str, nc: Client
) -> None:
    username = a_username()
    await store.create(username, password=PASSWORD)
    assert (await store.check_password(username, "not the password"))[0] is (
        SignInOutcome.BAD_PASSWORD
    )
    assert await store.check_password(a_username("nobody"), PASSWORD) == (
        SignInOutcome.UNKNOWN, None
    )  # fmt: skip
    assert (await store.check_password("Not A Username", PASSWORD))[0] is SignInOutcome.UNKNOWN
    today = AccountStore(nc, store._records.kv, Passwords(PasswordProfile.DEFAULT))
    outcome, account = await today.check_password(username, PASSWORD)
    assert outcome is SignInOutcome.OK and account is not None
    stored = await store.get(username)
    assert stored is not None and stored.password_hash == account.password_hash
    assert stored.password_hash is not None and "m=65536,t=3,p=4" in stored.password_hash


async def test_an_account_lists_its_own_tokens_only(store: AccountStore) -> None:
    username = a_username()
    dotted = f"{username}.ops"  # its tokens' keys must not fall under the first account's
    for name in (username, dotted):
        await store.create(name, password=PASSWORD)
    first, _ = await store.issue_token(username, "laptop")
    second, _ = await store.issue_token(username, "script")
    await store.issue_token(dotted, "other")
    await store.revoke_token(first.id)
    listed = await store.tokens_of(username)
    assert [t.id for t in listed] == [first.id, second.id]
    assert listed[0].revoked_at is not None and listed[1].revoked_at is None
    assert [t.name for t in await store.tokens_of(dotted)] == ["other"]


async def test_accounts_are_listed_a_page_at_a_time_in_username_order(
    store: AccountStore,
) -> None:
    prefix = a_username("page")
    names = [f"{prefix}-{n}" for n in ("c", "a", "b")]
    for name in names:
        await store.create(name, password=PASSWORD)
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await store.page(after=after, limit=2)
        assert len(page.accounts) <= 2
        seen += [a.id for a in page.accounts]
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    assert [s for s in seen if s.startswith(prefix)] == sorted(names)


async def test_refusals_name_what_is_missing(store: AccountStore) -> None:
    with pytest.raises(NoSuchAccount, match="no account ghost"):
        await store.issue_token("ghost", "laptop")
    with pytest.raises(NoSuchAccount):
        await store.disable("Not A Username")
    username = a_username()
    await store.create(username, password=PASSWORD)
    with pytest.raises(AccountExists):
        await store.create(username, password=PASSWORD)


async def test_a_principal_is_built_from_what_the_token_signs_in_as(store: AccountStore) -> None:
    username = a_username()
    await store.create(username, password=PASSWORD, grants=frozenset({AccessRole.REVIEWER}))
    _, secret = await store.issue_token(username, "laptop")
    account = await store.verify_token(secret)
    assert account is not None
    principal = principal_for(account, Via.TOKEN)
    assert principal.account == username and principal.grants == {AccessRole.REVIEWER}


async def test_a_sign_in_is_appended_to_the_audit_stream(migrated: str, nc: Client) -> None:
    js = nc.jetstream()
    event = SignInRecorded(
        account="dana.reyes", outcome=SignInOutcome.BAD_PASSWORD, via=Via.SESSION, at=utc_now()
    )
    seq = await record_sign_in(js, event)
    msg = await js.get_msg(AUDIT_STREAM, seq)
    assert msg.subject == "pw.audit.signin.bad_password"
    assert SignInRecorded.model_validate_json(msg.data or b"") == event
