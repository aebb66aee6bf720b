"""A whole Pathways on a nats-server of its own, with the notifier pointed at local receivers:
an SMTP server (aiosmtpd) and an HTTP server that verifies Standard Webhooks signatures. Events
the engine does not write yet (reminders, escalations) are appended by the tests themselves."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
import yaml
from nats.aio.client import Client
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from schemas import subjects
from schemas.base import incident_id_for, task_id_for, utc_now
from schemas.commands import ListInbox
from schemas.enums import Severity, TaskStatus, Tier
from schemas.events import Event, IncidentLogged, TaskCreated
from schemas.subjects import EVENTS_STREAM
from schemas.tasks import TaskNote, TaskSnapshot
from services.app import SERVICES, load_runtime
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.eventstore import Expect
from services.core.migrate import migrate
from services.core.rpc import ServiceUnavailable
from services.core.runtime import Runtime
from services.core.settings import Settings
from tests.integration.conftest import Caller
from tests.integration.receivers import HttpSink, Request, SmtpSink
from tests.support import ROOT, Serving, all_serving, eventually, free_port, request_id, with_key

HOOK_SECRET = "whsec_" + base64.b64encode(b"harbor survivors' own signing key").decode()
ESCALATION_SECRET = "whsec_" + base64.b64encode(b"the escalation chain's signing key").decode()
MAIL_FROM = "Pathways <pathways@pd.example.org>"
RETRY_DELAYS = (0.2, 0.2, 0.2)
NOTIFIER_CONSUMERS = ("notifier", "notifier-on-notice-failed", "notifier-on-timer")
DELAYED_EMAIL = {"lena.morales": "PT1S", "marcus.bell": "PT3S"}
# A type no playbook is for: an incident logged by hand here starts no run.
QUIET_TYPE = "notifier-drill"


def verifying() -> HttpSink:
    """Receives webhooks as their receivers would: 204 when the signature verifies with the
    receiver's own secret (the escalation chain's on /escalations, the partner's elsewhere),
    401 if not."""

    def respond(request: Request) -> int:
        secret = ESCALATION_SECRET if request.path == "/escalations" else HOOK_SECRET
        try:
            request.verified = Webhook(secret).verify(request.body, request.headers)
        except WebhookVerificationError as error:
            request.verified = error
            return 401
        return 204

    return HttpSink(respond).start()


def local_roster(
    directory: Path, hooks: HttpSink, coordinators: Mapping[str, Sequence[str]] | None = None
) -> Path:
    """The example roster, with the partner's webhook pointed at the local receiver, Lena's
    email coming a second after her other channels and Marcus's three seconds after, and no
    Apprise (it would leave the machine); `coordinators` names a role's coordinators."""
    roster = yaml.safe_load((ROOT / "rosters" / "example.yaml").read_text())
    for role in roster["roles"]:
        if coordinators and role["id"] in coordinators:
            role["coordinators"] = list(coordinators[role["id"]])
    for member in roster["members"]:
        member["channels"] = [c for c in member["channels"] if c["kind"] != "apprise"]
        for channel in member["channels"]:
            if channel["kind"] == "webhook":
                channel["address"] = f"{hooks.url}/pathways/tasks"
            if channel["kind"] == "email" and member["id"] in DELAYED_EMAIL:
                channel["after"] = DELAYED_EMAIL[member["id"]]
    path = directory / "roster.yaml"
    path.write_text(yaml.safe_dump(roster, sort_keys=False))
    return path


@dataclass
class NotifierStack:
    rt: Runtime
    nc: Client
    mail: SmtpSink
    hooks: HttpSink

    @property
    def caller(self) -> Caller:
        return Caller(self.nc)

    async def append(self, subject: str, event: Event) -> None:
        await self.rt.store.append(subject, event, Expect(subject, 0))

    async def quiet_incident(self) -> str:
        """An incident that starts no playbook: its tasks are the ones a test appends."""
        incident_id = incident_id_for(request_id())
        logged = IncidentLogged(
            event_id=f"{incident_id}.logged", incident_id=incident_id, actor="renee.alvarez",
            at=utc_now(), incident_type=QUIET_TYPE, title="Drill", severity=Severity.HIGH,
            auto_trigger=False,
        )  # fmt: skip
        await self.append(subjects.incident_logged(incident_id), logged)
        return incident_id

    async def create_task(self, incident_id: str, key: str, **fields: Any) -> TaskCreated:
        now = utc_now()
        snapshot: dict[str, Any] = {
            "task_id": task_id_for(incident_id, key), "incident_id": incident_id, "key": key,
            "title": "Family contact", "role": "victim_advocate", "tier": Tier.COMMAND,
            "required": True, "status": TaskStatus.ASSIGNED, "assignee": "priya.nair",
            "acknowledge_by": now, "due_by": now,
        }  # fmt: skip
        task = TaskSnapshot.model_validate(snapshot | fields)
        event = TaskCreated(event_id=f"{task.task_id}.created", incident_id=incident_id,
                            actor="engine", at=now, task=task)  # fmt: skip
        await self.append(subjects.task_event(incident_id, key, "created"), event)
        return event

    async def inbox(self, person: str) -> list[dict[str, Any]]:
        reply = await self.caller.ok(subjects.QRY_INBOX, ListInbox(person=person, limit=500))
        assert isinstance(reply.data, dict)
        items: list[dict[str, Any]] = reply.data["items"]
        return items

    async def outcomes(self, incident_id: str) -> dict[str, int]:
        """Every delivery record of an incident: subject -> how many messages it holds."""
        info = await self.nc.jetstream().stream_info(
            EVENTS_STREAM, subjects_filter=subjects.incident_notices(incident_id)
        )
        return dict(info.state.subjects or {})

    async def settled(self) -> bool:
        """The notifier has no send scheduled, and its consumers nothing waiting or in hand."""
        js = self.nc.jetstream()
        pending = await js.stream_info(
            subjects.TIMERS_STREAM, subjects_filter="pw.sched.*.notice.>"
        )
        if pending.state.subjects:
            return False
        for stream, durable in zip(
            (EVENTS_STREAM, EVENTS_STREAM, subjects.TIMERS_STREAM), NOTIFIER_CONSUMERS, strict=True
        ):
            info = await js.consumer_info(stream, durable)
            if info.num_pending or info.num_ack_pending:
                return False
        return True

    async def settle(self, timeout: float = 20.0) -> None:
        # Twice, a moment apart: a send can schedule another (a retry, a failure's notices).
        for _ in range(2):
            await eventually(self.settled, timeout=timeout, interval=0.1)
            await asyncio.sleep(0.3)

    def mails_to(self, address: str) -> list[EmailMessage]:
        return [parsed(r.content) for r in self.mail.received if address in r.rcpt_tos]


def parsed(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def a_note(text: str) -> TaskNote:
    return TaskNote(author="priya.nair", at=utc_now(), tier=Tier.RESTRICTED, text=text)


@contextlib.asynccontextmanager
async def notifier_stack(
    directory: Path,
    mail: SmtpSink,
    smtp_url: str,
    coordinators: Mapping[str, Sequence[str]] | None = None,
) -> AsyncIterator[NotifierStack]:
    """Every service in this process on a new nats-server, the notifier reading its settings
    from the environment as it does in production."""
    hooks = verifying()
    server = EmbeddedNats(directory / "nats", free_port())
    await server.start()
    stop = asyncio.Event()
    running: Serving | None = None
    nc = await connect(server.url, name="tests-notifier")
    try:
        await migrate(nc.jetstream())
        settings = Settings(nats_url=server.url, playbooks_dir=ROOT / "playbooks",
                            roster=local_roster(directory, hooks, coordinators),
                            ack_wait_seconds=2, retry_delays=RETRY_DELAYS)  # fmt: skip
        rt = with_key(load_runtime(settings))
        with pytest.MonkeyPatch.context() as env:
            env.setenv("PATHWAYS_SMTP_URL", smtp_url)
            env.setenv("PATHWAYS_MAIL_FROM", MAIL_FROM)
            env.setenv("HARBOR_WEBHOOK_SECRET", HOOK_SECRET)
            env.setenv("PATHWAYS_ESCALATION_WEBHOOK_SECRET", ESCALATION_SECRET)
            running = Serving(rt, list(SERVICES), stop)
            await all_serving([running])
        stack = NotifierStack(rt, nc, mail, hooks)

        async def answering() -> bool:
            with contextlib.suppress(ServiceUnavailable):
                await stack.inbox("renee.alvarez")
                return True
            return False

        await eventually(answering, timeout=20)
        yield stack
    finally:
        stop.set()
        if running is not None:
            await asyncio.gather(running.task, return_exceptions=True)
        await nc.close()
        await server.stop()
        hooks.stop()
