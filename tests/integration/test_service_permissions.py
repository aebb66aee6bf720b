"""The real deploy/nats/accounts.conf: service users run, but cannot change a stream; the admin
user runs `pathways migrate`."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
from collections.abc import AsyncIterator, Awaitable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import nats
import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.accounts import SignInOutcome, SignInRecorded
from schemas.base import utc_now
from schemas.commands import GetTimeline, ListInbox
from schemas.metrics import GetMetrics
from schemas.principals import Via
from schemas.roster_versions import AWAY_KEY
from schemas.subjects import (
    ACCOUNTS_BUCKET,
    AUDIT_STREAM,
    EVENTS_STREAM,
    ROSTERS_BUCKET,
    SESSIONS_BUCKET,
    TIMERS_STREAM,
)
from services.app import load_runtime
from services.cli.migrating import run_migrate
from services.core.accounts import AccountStore
from services.core.audit import record_sign_in
from services.core.broker import NatsUnreachable, connect
from services.core.embedded import config_string, server_binary
from services.core.migrate import MigrationRefused, require_streams
from services.core.passwords import Passwords
from services.core.rpc import ServiceUnavailable, call
from services.core.runtime import Runtime
from services.core.settings import PasswordProfile, Settings
from tests.e2e.harness import PATHWAYS
from tests.integration.answering import QUERY, answering, big_reply, replying
from tests.integration.conftest import Caller
from tests.integration.helpers import log_incident, tasks_of
from tests.support import ROOT, Serving, all_serving, caller, eventually, free_port, with_key

pytestmark = pytest.mark.integration

T = TypeVar("T")

ACCOUNTS = ROOT / "deploy" / "nats" / "accounts.conf"
USERS = ("intake", "engine", "projector", "timeline", "notifier", "gateway", "cli", "admin")
SERVICES = ("intake", "engine", "projector", "timeline", "notifier")


def password(user: str) -> str:
    return f"pw-test-{user}"


class Secured:
    def __init__(self, port: int) -> None:
        self.port = port

    def url(self, user: str) -> str:
        return f"nats://{user}:{password(user)}@127.0.0.1:{self.port}"

    async def connect(self, user: str) -> Client:
        return await connect(self.url(user), name=f"tests-{user}")


def secured_config(port: int, directory: Path) -> str:
    return (
        f"listen: 127.0.0.1:{port}\n"
        f"jetstream {{ store_dir: {config_string(str(directory / 'js'))} }}\n"
        # nats-server reads an include relative to the including file, never absolute.
        f"include {config_string(os.path.relpath(ACCOUNTS, directory))}\n"
    )


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[Secured]:
    """A nats-server whose users and permissions are those of deploy/nats/accounts.conf."""
    port = free_port()
    config = tmp_path / "server.conf"
    config.write_text(secured_config(port, tmp_path))
    env = {f"PATHWAYS_{user.upper()}_PASSWORD": password(user) for user in USERS}
    with (tmp_path / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            str(server_binary()), "-c", str(config), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    server = Secured(port)

    async def up() -> bool:
        assert process.returncode is None, (tmp_path / "server.log").read_text()
        with contextlib.suppress(NatsUnreachable):
            await (await server.connect("admin")).close()
            return True
        return False

    try:
        await eventually(up, timeout=15)
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


async def test_migrate_as_admin_then_no_service_user_can_change_the_events_stream(
    secured: Secured,
) -> None:
    lines = await run_migrate(secured.url("admin"), 1)
    assert all(line.endswith(": created") for line in lines), lines
    engine = await secured.connect("engine")
    try:
        js = engine.jetstream(timeout=1)
        await require_streams(js, secured.url("engine"), attempts=1)  # a service may start
        await js.publish("pw.evt.INC-PERMS001.incident.logged", b"{}")  # and write events
        before = await js.stream_info(EVENTS_STREAM)
        with pytest.raises(nats.errors.TimeoutError):  # denied: never answered
            await js.update_stream(replace(before.config, max_age=60.0))
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_stream(EVENTS_STREAM)
        with pytest.raises(nats.errors.TimeoutError):
            await js.add_stream(name="PATHWAYS_ELSEWHERE", subjects=["elsewhere.>"])
        after = await js.stream_info(EVENTS_STREAM)
        assert not after.config.max_age
        assert after.state.messages == before.state.messages == 1
    finally:
        await engine.close()


@pytest.mark.parametrize("user", SERVICES)
async def test_pathways_migrate_as_a_service_user_is_refused_in_one_line(
    secured: Secured, user: str
) -> None:
    with pytest.raises(MigrationRefused) as refused:
        await run_migrate(secured.url(user), 1)
    message = str(refused.value)
    assert "may not manage streams" in message and "admin user" in message
    assert password(user) not in message
    admin = await secured.connect("admin")
    try:
        assert not await admin.jetstream().streams_info()  # nothing was created
    finally:
        await admin.close()


async def follow_ups_scheduled(secured: Secured, incident_id: str) -> bool:
    """The engine's follow-up schedules reached the timers stream."""
    admin = await secured.connect("admin")
    try:
        pending = f"pw.sched.{incident_id}.>"
        info = await admin.jetstream().stream_info(TIMERS_STREAM, subjects_filter=pending)
        return bool(info.state.subjects)
    finally:
        await admin.close()


async def test_every_service_runs_as_its_own_user_after_migrate(secured: Secured) -> None:
    await run_migrate(secured.url("admin"), 1)
    stop = asyncio.Event()
    runtimes: list[Runtime] = []
    running: list[Serving] = []
    for name in SERVICES:
        settings = Settings(
            nats_url=secured.url(name),
            playbooks_dir=ROOT / "playbooks",
            roster=ROOT / "rosters" / "example.yaml",
        )
        runtimes.append(with_key(load_runtime(settings)))
        running.append(Serving(runtimes[-1], [name], stop))
    try:
        await all_serving(running)
        cli = await secured.connect("cli")
        try:
            caller = Caller(cli)

            async def answered(work: Awaitable[T]) -> T | None:
                """The reply, or None while the service's subscribers are still binding."""
                with contextlib.suppress(ServiceUnavailable):
                    return await work
                return None

            incident_id = await eventually(  # intake
                lambda: answered(log_incident(caller, "officer-involved-shooting")), timeout=20
            )

            async def fanned_out() -> bool:  # engine wrote them, projector listed them
                return bool(await answered(tasks_of(caller, incident_id)))

            await eventually(fanned_out, timeout=20, interval=0.2)
            query = GetTimeline(incident_id=incident_id)
            timeline = await eventually(
                lambda: answered(caller.ok(subjects.QRY_TIMELINE, query)), timeout=20
            )
            assert timeline.data
            since = utc_now() - timedelta(hours=1)

            async def counted() -> bool:  # projector wrote the metrics, timeline read them
                asked = caller.ok(subjects.QRY_REVIEW_METRICS, GetMetrics(since=since))
                reply = await answered(asked)
                return (
                    reply is not None
                    and isinstance(reply.data, dict)
                    and (reply.data["metrics"]["tasks"] > 0)
                )

            await eventually(counted, timeout=20, interval=0.2)
            await eventually(lambda: follow_ups_scheduled(secured, incident_id), timeout=20)

            tasks = await tasks_of(caller, incident_id)
            assignee = next(t.assignee for t in tasks.values() if t.status == "assigned")
            assert assignee is not None

            async def in_an_inbox() -> bool:  # notifier: wrote the inbox, answered the query
                reply = await answered(caller.ok(subjects.QRY_INBOX, ListInbox(person=assignee)))
                return (
                    reply is not None
                    and isinstance(reply.data, dict)
                    and any(item["incident_id"] == incident_id for item in reply.data["items"])
                )

            await eventually(in_an_inbox, timeout=20, interval=0.2)
        finally:
            await cli.close()
    finally:
        stop.set()
        await asyncio.gather(*(each.task for each in running), return_exceptions=True)


async def test_the_notifier_may_record_deliveries_but_no_other_event(secured: Secured) -> None:
    await run_migrate(secured.url("admin"), 1)
    notifier = await secured.connect("notifier")
    try:
        js = notifier.jetstream(timeout=1)
        await js.publish("pw.evt.INC-PERMS002.notice.n.inbox.sent", b"{}")
        await js.publish("pw.sched.INC-PERMS002.notice.n.email", b"{}")
        for denied in (
            "pw.evt.INC-PERMS002.task.family-contact.created",
            "pw.evt.INC-PERMS002.incident.logged",
            "pw.sched.INC-PERMS002.followup.family-contact-1",
        ):
            with pytest.raises(nats.errors.TimeoutError):  # denied: never answered
                await js.publish(denied, b"{}")
        with pytest.raises(nats.errors.TimeoutError):
            await js.purge_stream(TIMERS_STREAM)
    finally:
        await notifier.close()
    admin = await secured.connect("admin")
    try:
        info = await admin.jetstream().stream_info(EVENTS_STREAM)
        assert info.state.messages == 1
    finally:
        await admin.close()


@pytest.mark.parametrize("user", ["intake", "projector", "timeline", "notifier", "cli"])
async def test_only_the_engine_writes_the_live_roster(secured: Secured, user: str) -> None:
    await run_migrate(secured.url("admin"), 1)
    writer = await secured.connect("engine")
    other = await secured.connect(user)
    try:
        subject = f"$KV.{ROSTERS_BUCKET}.{AWAY_KEY}"
        await writer.jetstream(timeout=2).publish(subject, b'{"periods": []}')  # acknowledged
        with pytest.raises(nats.errors.TimeoutError):  # denied: never stored, never answered
            await other.jetstream(timeout=1).publish(subject, b'{"periods": []}')
        admin = await secured.connect("admin")
        try:
            info = await admin.jetstream().stream_info(f"KV_{ROSTERS_BUCKET}")
            assert info.state.messages == 1
        finally:
            await admin.close()
    finally:
        await writer.close()
        await other.close()


async def _messages(secured: Secured, stream: str) -> int:
    admin = await secured.connect("admin")
    try:
        return (await admin.jetstream().stream_info(stream)).state.messages
    finally:
        await admin.close()


@pytest.mark.parametrize("user", ["intake", "engine", "projector", "timeline", "notifier", "cli"])
async def test_only_the_gateway_keeps_accounts_and_the_sign_in_audit(
    secured: Secured, user: str
) -> None:
    await run_migrate(secured.url("admin"), 1)
    gateway = await secured.connect("gateway")
    other = await secured.connect(user)
    try:
        store = await AccountStore.open(
            gateway, Passwords(PasswordProfile.TEST), secured.url("gateway")
        )
        await store.create("dana.reyes", password="correct horse battery staple")
        _, secret = await store.issue_token("dana.reyes", "laptop")
        assert await store.verify_token(secret) is not None
        event = SignInRecorded(
            account="dana.reyes", outcome=SignInOutcome.OK, via=Via.SESSION, at=utc_now()
        )
        await record_sign_in(gateway.jetstream(timeout=2), event)
        await gateway.jetstream(timeout=2).publish(f"$KV.{SESSIONS_BUCKET}.s1", b"{}")
        written = await _messages(secured, f"KV_{ACCOUNTS_BUCKET}")
        js = other.jetstream(timeout=1)
        for subject in (f"$KV.{ACCOUNTS_BUCKET}.acct.mallory", "pw.audit.signin.ok"):
            with pytest.raises(nats.errors.TimeoutError):  # denied: never answered
                await js.publish(subject, b"{}")
        assert await _messages(secured, f"KV_{ACCOUNTS_BUCKET}") == written
        assert await _messages(secured, AUDIT_STREAM) == 1
    finally:
        await gateway.close()
        await other.close()


async def test_the_gateway_writes_no_event_and_removes_no_record(secured: Secured) -> None:
    await run_migrate(secured.url("admin"), 1)
    gateway = await secured.connect("gateway")
    try:
        js = gateway.jetstream(timeout=1)
        ack = await js.publish("pw.audit.signin.ok", b"{}")
        with pytest.raises(nats.errors.TimeoutError):
            await js.publish("pw.evt.INC-PERMS003.incident.logged", b"{}")
        for stream in (AUDIT_STREAM, f"KV_{ACCOUNTS_BUCKET}"):
            with pytest.raises(nats.errors.TimeoutError):
                await js.purge_stream(stream)
        with pytest.raises(nats.errors.TimeoutError):
            await js.delete_msg(AUDIT_STREAM, ack.seq)
    finally:
        await gateway.close()
    assert await _messages(secured, AUDIT_STREAM) == 1
    assert await _messages(secured, EVENTS_STREAM) == 0


async def test_pathways_user_as_the_cli_user_is_refused_in_one_line(secured: Secured) -> None:
    await run_migrate(secured.url("admin"), 1)
    process = await asyncio.create_subprocess_exec(
        str(PATHWAYS), "user", "list", "--nats-url", secured.url("cli"),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    lines = stderr.decode().splitlines()
    assert process.returncode == 1 and stdout == b"", lines
    assert len(lines) == 1 and "JetStream access, e.g. admin" in lines[0], lines
    assert password("cli") not in lines[0]


@pytest.mark.parametrize(
    ("service", "subject", "asking"),
    [
        ("intake", subjects.QRY_INCIDENT_LIST, "cli"),
        ("engine", subjects.QRY_TASK_LIST, "cli"),
        ("timeline", subjects.QRY_REVIEW_REPORT, "cli"),
        ("timeline", subjects.QRY_TIMELINE, "gateway"),
        ("notifier", subjects.QRY_INBOX, "cli"),
    ],
)
async def test_a_reply_in_parts_reaches_whoever_asked(
    secured: Secured, service: str, subject: str, asking: str
) -> None:
    """Each answering service's user may send every part of a reply too large for one
    message, and the cli and gateway users receive them all."""
    reply = big_reply(3 * 1024 * 1024)
    async with answering(secured.url(service), subject, replying(reply)):
        client = await secured.connect(asking)
        try:
            assert len(reply.model_dump_json()) > 2 * client.max_payload
            assert await call(client, subject, QUERY, caller(QUERY), timeout=5) == reply
        finally:
            await client.close()
