"""The notifier against real servers: nats-server, aiosmtpd and an HTTP receiver that verifies
Standard Webhooks signatures. What the engine will append (reminders, escalations) is appended
here by hand."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from schemas import subjects
from schemas.base import task_id_for, utc_now
from schemas.commands import GetTimeline, ListInbox
from schemas.enums import TaskStatus, Tier
from schemas.events import NoticeEvent, RunInPlace, TaskAcknowledged, TaskEscalated, TaskReminded
from schemas.notifications import NoticeKind
from schemas.roster import Member
from services.core.readers import read_messages
from services.notifier.channels.email import message_id
from services.notifier.notices import ESCALATION_WEBHOOK, notice_id_for, notices_for
from services.notifier.policy import max_attempts
from services.notifier.settings import NotifierSettings
from tests.integration.helpers import log_incident, tasks_of
from tests.integration.notifier_stack import (
    RETRY_DELAYS,
    NotifierStack,
    a_note,
    notifier_stack,
)
from tests.integration.receivers import SmtpSink, start_smtp
from tests.support import eventually, free_port

pytestmark = pytest.mark.integration

SECRET_TITLE = "Meet the Okafor family at 12 Elm Street"
SECRET_NOTE = "The widow asked that her son not be told yet"


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[SmtpSink, int]]:
    sink = SmtpSink()
    controller = start_smtp(sink)
    yield sink, controller.port
    controller.stop()


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, mail: tuple[SmtpSink, int]
) -> AsyncIterator[NotifierStack]:
    sink, port = mail
    directory = tmp_path_factory.mktemp("notifier")
    async with notifier_stack(directory, sink, f"smtp://127.0.0.1:{port}") as running:
        yield running


def emails_at_once(member: Member | None) -> list[str]:
    channels = member.channels if member is not None else ()
    return [c.address for c in channels if c.kind == "email" and c.address and not c.after]


def mails_about(stack: NotifierStack, address: str, incident_id: str) -> list[Any]:
    return [m for m in stack.mails_to(address) if incident_id in str(m["Message-ID"])]


async def run_in_place(stack: NotifierStack, incident_id: str) -> bool:
    found = await stack.rt.store.last_of(subjects.run_in_place(incident_id), RunInPlace)
    return found is not None


async def in_inbox(stack: NotifierStack, person: str, task_id: str, kind: str) -> bool:
    entries = await stack.inbox(person)
    return any(e["task_id"] == task_id and e["kind"] == kind for e in entries)


async def test_logging_an_incident_fills_the_assignees_inboxes_and_emails_them(
    stack: NotifierStack,
) -> None:
    incident_id = await log_incident(stack.caller, "officer-involved-shooting")
    await eventually(lambda: run_in_place(stack, incident_id), timeout=20)
    tasks = (await tasks_of(stack.caller, incident_id)).values()
    assigned = [(t.task_id, t.assignee) for t in tasks if t.status is TaskStatus.ASSIGNED]
    assert assigned
    for task_id, person in assigned:
        assert person is not None
        await eventually(partial(in_inbox, stack, person, task_id, "assigned"), timeout=15)
    roster = stack.rt.roster
    expected = Counter(a for _, p in assigned for a in emails_at_once(roster.member(p or "")))
    assert len(expected) >= 3

    async def emailed() -> bool:
        return all(
            len(mails_about(stack, address, incident_id)) >= count
            for address, count in expected.items()
        )

    await eventually(emailed, timeout=15)
    await stack.settle()
    for address, count in expected.items():
        assert len(mails_about(stack, address, incident_id)) == count
    recorded = await stack.outcomes(incident_id)
    assert recorded and set(recorded.values()) == {1}  # one record per notice and channel
    assert all(subject.endswith(".sent") for subject in recorded), recorded
    assert {subject.split(".")[-2] for subject in recorded} >= {"inbox", "email"}


async def test_a_restricted_tasks_title_and_notes_are_in_no_message_and_no_inbox_entry(
    stack: NotifierStack,
) -> None:
    incident_id = await stack.quiet_incident()
    created = await stack.create_task(
        incident_id, "widow-visit", tier=Tier.RESTRICTED, title=SECRET_TITLE,
        assignee="lena.morales", notes=(a_note(SECRET_NOTE),), instructions=SECRET_NOTE,
    )  # fmt: skip
    notice_id = notice_id_for(created.event_id, "lena.morales")
    task_id = created.task.task_id
    await eventually(lambda: in_inbox(stack, "lena.morales", task_id, "assigned"), timeout=15)

    async def delivered() -> list[Any] | None:  # her email comes a second after the rest
        hooks = [r for r in stack.hooks.requests if r.headers.get("webhook-id") == notice_id]
        mails = mails_about(stack, "lena.morales@example.org", incident_id)
        return [*hooks, *mails] if hooks and mails else None

    hook, mail = await eventually(delivered, timeout=15)
    assert isinstance(hook.verified, dict), hook.verified
    assert hook.verified["data"]["task_title"] is None and hook.verified["data"]["restricted"]
    plain, html = mail.get_body(("plain",)), mail.get_body(("html",))
    assert plain is not None and html is not None
    entries = [e for e in await stack.inbox("lena.morales") if e["task_id"] == task_id]
    # The delayed email waited in the timers stream: not even there.
    waited = await read_messages(stack.nc.jetstream(), subjects.TIMERS_STREAM,
                                 f"pw.*.{incident_id}.notice.>")  # fmt: skip
    assert waited
    shown = [hook.body.decode(), str(mail["Subject"]), plain.get_content(), html.get_content(),
             repr(entries), *(m.data.decode() for m in waited)]  # fmt: skip
    for text in shown:
        for secret in (SECRET_TITLE, "Okafor", SECRET_NOTE, "widow asked"):
            assert secret not in text
    assert entries and entries[0]["restricted"] and entries[0]["task_title"] is None


async def test_a_delayed_channel_is_not_sent_once_the_task_is_acknowledged(
    stack: NotifierStack,
) -> None:
    incident_id = await stack.quiet_incident()
    created = await stack.create_task(incident_id, "briefing", assignee="marcus.bell",
                                      role="community_liaison")  # fmt: skip
    notice_id = notice_id_for(created.event_id, "marcus.bell")
    email = subjects.notice_schedule(incident_id, notice_id, "email")

    async def waiting() -> bool:  # his email waits three seconds in the timers stream
        info = await stack.nc.jetstream().stream_info(subjects.TIMERS_STREAM, subjects_filter=email)
        return bool(info.state.subjects)

    await eventually(waiting, timeout=5)
    task = created.task.model_copy(update={"status": TaskStatus.ACKNOWLEDGED})
    acknowledged = TaskAcknowledged(
        event_id=f"{task.task_id}.acknowledged",
        task=task,
        incident_id=incident_id,
        actor="marcus.bell",
        at=utc_now(),
    )
    await stack.append(subjects.task_event(incident_id, "briefing", "acknowledged"), acknowledged)
    await stack.settle()
    assert mails_about(stack, "marcus.bell@example.org", incident_id) == []
    assert set(await stack.outcomes(incident_id)) == {
        subjects.notice_outcome(incident_id, notice_id, "inbox", "sent")
    }


async def test_an_escalation_webhook_step_is_signed_and_verifies(stack: NotifierStack) -> None:
    incident_id = await stack.quiet_incident()
    created = await stack.create_task(incident_id, "family-contact")
    escalation = TaskEscalated(
        event_id=f"{created.task.task_id}.escalated.acknowledge.1", incident_id=incident_id,
        actor="engine", at=utc_now(), task=created.task, deadline="acknowledge", step=1,
        action="webhook", missed_by="priya.nair", webhook_url=f"{stack.hooks.url}/escalations",
    )  # fmt: skip
    await stack.append(subjects.task_event(incident_id, "family-contact", "escalated"), escalation)
    notice_id = notice_id_for(escalation.event_id, ESCALATION_WEBHOOK)

    async def called() -> Any:
        found = [r for r in stack.hooks.requests if r.path == "/escalations"
                 and r.headers.get("webhook-id") == notice_id]  # fmt: skip
        return found[0] if found else None

    request = await eventually(called, timeout=15)
    assert isinstance(request.verified, dict), request.verified  # the signature verifies
    assert request.verified["type"] == "pathways.notice.escalation"
    data = request.verified["data"]
    assert (data["task_id"], data["step"], data["missed_by"]) == (
        created.task.task_id, 1, "priya.nair",
    )  # fmt: skip
    sent = subjects.notice_outcome(incident_id, notice_id, "escalation-webhook", "sent")
    await eventually(lambda: _has(stack, incident_id, sent), timeout=10)


async def _has(stack: NotifierStack, incident_id: str, subject: str) -> bool:
    return subject in await stack.outcomes(incident_id)


async def test_reminders_and_escalations_reach_the_people_they_name(
    stack: NotifierStack,
) -> None:
    incident_id = await stack.quiet_incident()
    created = await stack.create_task(incident_id, "family-contact")
    task, key, now = created.task, "family-contact", utc_now()
    common: dict[str, Any] = {"incident_id": incident_id, "actor": "engine", "at": now}
    events = [
        ("reminded", TaskReminded(event_id=f"{task.task_id}.reminded", task=task, due_by=now,
                                  **common)),
        ("escalated", TaskEscalated(event_id=f"{task.task_id}.escalated.1", task=task,
                                    deadline="acknowledge", step=1, action="remind",
                                    notify=("priya.nair",), **common)),
        ("escalated-2", TaskEscalated(event_id=f"{task.task_id}.escalated.2", task=task,
                                      deadline="acknowledge", step=2, action="notify_command",
                                      notify=("renee.alvarez", "james.thornton"),
                                      missed_by="priya.nair", **common)),
        ("escalated-3", TaskEscalated(event_id=f"{task.task_id}.escalated.3",
                                      task=task.model_copy(update={"assignee": "sam.whitfield"}),
                                      deadline="acknowledge", step=3, action="reassign",
                                      missed_by="priya.nair", **common)),
    ]  # fmt: skip
    for verb, event in events:
        await stack.append(subjects.task_event(incident_id, key, verb), event)
    for person, kind in (
        ("priya.nair", "reminder"),
        ("priya.nair", "acknowledge_overdue"),
        ("renee.alvarez", "escalation"),
        ("james.thornton", "escalation"),
        ("sam.whitfield", "escalated_to_you"),
    ):
        await eventually(partial(in_inbox, stack, person, task.task_id, kind), timeout=15)
    [escalation] = [e for e in await stack.inbox("renee.alvarez") if e["task_id"] == task.task_id]
    assert (escalation["missed_by"], escalation["step"], escalation["urgent"]) == (
        "priya.nair", 2, True,
    )  # fmt: skip


async def test_a_redelivered_event_sends_nothing_twice(stack: NotifierStack) -> None:
    incident_id = await stack.quiet_incident()
    created = await stack.create_task(incident_id, "family-contact")
    notice_id = notice_id_for(created.event_id, "priya.nair")
    both = {
        subjects.notice_outcome(incident_id, notice_id, key, "sent") for key in ("inbox", "email")
    }

    async def recorded() -> bool:
        return both <= set(await stack.outcomes(incident_id))

    await eventually(recorded, timeout=15)
    # The same event again, past the server's dedup: what a redelivery after a crash, or a
    # replayed dead letter, hands the notifier.
    body = created.model_dump_json().encode()
    subject = subjects.task_event(incident_id, "family-contact", "created")
    for _ in range(2):
        await stack.nc.jetstream().publish(subject, body)
    await stack.settle()
    assert await stack.outcomes(incident_id) == dict.fromkeys(both, 1)
    expected_id = message_id(_notice_of(stack, created, notice_id), "pd.example.org")
    # A long Message-ID is folded onto a line of its own: compare without the fold.
    to_priya = stack.mails_to("priya.nair@example.org")
    mails = [m for m in to_priya if str(m["Message-ID"]).strip() == expected_id]
    assert len(mails) == 1
    entries = [e for e in await stack.inbox("priya.nair") if e["notice_id"] == notice_id]
    assert len(entries) == 1


def _notice_of(stack: NotifierStack, created: Any, notice_id: str) -> Any:
    [notice] = notices_for(created, stack.rt.roster, NotifierSettings(), incident_type="x")
    assert notice.notice_id == notice_id
    return notice


async def test_an_smtp_server_that_is_down_is_retried_then_failed_and_told_to_command_staff(
    tmp_path: Path,
) -> None:
    closed = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    async with notifier_stack(tmp_path, SmtpSink(), closed) as down:
        incident_id = await down.quiet_incident()
        created = await down.create_task(incident_id, "family-contact")
        notice_id = notice_id_for(created.event_id, "priya.nair")
        failed = subjects.notice_outcome(incident_id, notice_id, "email", "failed")
        await eventually(lambda: _has(down, incident_id, failed), timeout=20)
        record = await down.rt.store.last(failed)
        assert record is not None
        event: Any = record.event
        assert event.attempt == max_attempts(RETRY_DELAYS) == len(RETRY_DELAYS) + 1
        assert not event.permanent and "SMTPConnectError" in event.error
        task_id = task_id_for(incident_id, "family-contact")
        for person in ("renee.alvarez", "james.thornton"):
            await eventually(partial(in_inbox, down, person, task_id, "delivery_failed"), 15)
        await down.settle()
        [told] = [e for e in await down.inbox("renee.alvarez") if e["task_id"] == task_id]
        assert told["missed_by"] == "priya.nair"
        # Their own emails fail too: recorded, and told to nobody else (no cascade). Priya's
        # assignment and the two command staff's notices: an inbox entry and a failed email each.
        recorded = await down.outcomes(incident_id)
        channels = Counter(".".join(subject.rsplit(".", 2)[1:]) for subject in recorded)
        assert channels == {"inbox.sent": 3, "email.failed": 3}, recorded


async def test_a_failed_delivery_is_told_to_the_coordinators_the_role_names_not_command_staff(
    tmp_path: Path,
) -> None:
    closed = f"smtp://127.0.0.1:{free_port()}"  # nothing listens there
    coordinators = {"victim_advocate": ["sam.whitfield"]}
    async with notifier_stack(tmp_path, SmtpSink(), closed, coordinators) as down:
        assert down.rt.roster.coordinators_of("victim_advocate") == ("sam.whitfield",)
        incident_id = await down.quiet_incident()
        created = await down.create_task(incident_id, "family-contact")  # Priya's
        task_id = created.task.task_id
        notice_id = notice_id_for(created.event_id, "priya.nair")
        failed = subjects.notice_outcome(incident_id, notice_id, "email", "failed")
        await eventually(lambda: _has(down, incident_id, failed), timeout=20)
        await eventually(
            partial(in_inbox, down, "sam.whitfield", task_id, "delivery_failed"), timeout=15
        )
        await down.settle()
        [told] = [e for e in await down.inbox("sam.whitfield") if e["task_id"] == task_id]
        assert (told["kind"], told["missed_by"]) == ("delivery_failed", "priya.nair")
        for person in down.rt.roster.command_staff():
            assert [e for e in await down.inbox(person) if e["task_id"] == task_id] == []
        # Priya's assignment and Sam's notice: an inbox entry and a failed email each; nobody
        # else was told.
        records = [
            s.event for s in await down.rt.store.read(subjects.incident_notices(incident_id))
        ]
        told_to = Counter(
            (e.recipient, e.channel_key)
            for e in records
            if isinstance(e, NoticeEvent) and e.kind is NoticeKind.DELIVERY_FAILED
        )
        assert told_to == {("sam.whitfield", "inbox"): 1, ("sam.whitfield", "email"): 1}, told_to
        recorded = await down.outcomes(incident_id)
        channels = Counter(".".join(subject.rsplit(".", 2)[1:]) for subject in recorded)
        assert channels == {"inbox.sent": 2, "email.failed": 2}, recorded
        # The timeline shows the failure, and whom it was told to.
        reply = await down.caller.ok(subjects.QRY_TIMELINE, GetTimeline(incident_id=incident_id))
        assert isinstance(reply.data, dict)
        lines = [e["text"] for e in reply.data["entries"]]
        tries = max_attempts(RETRY_DELAYS)
        assert any(
            line.startswith(f"Could not email priya.nair about family-contact after {tries} tries")
            for line in lines
        ), lines
        shown = "Notified sam.whitfield in the inbox about family-contact (someone could not be"
        assert any(line.startswith(shown) for line in lines), lines


async def test_an_inbox_pages_newest_first_and_refuses_a_stranger(stack: NotifierStack) -> None:
    incident_id = await stack.quiet_incident()
    keys = [f"check-in-{n}" for n in range(5)]
    for key in keys:
        await stack.create_task(incident_id, key, assignee="kim.liu", role="public_information")
    wanted = {task_id_for(incident_id, key) for key in keys}

    async def all_in() -> bool:
        return wanted <= {e["task_id"] for e in await stack.inbox("kim.liu")}

    await eventually(all_in, timeout=15)
    whole = await stack.inbox("kim.liu")
    assert [e["at"] for e in whole] == sorted((e["at"] for e in whole), reverse=True)
    paged: list[str] = []
    cursor = None
    while True:
        reply = await stack.caller.ok(
            subjects.QRY_INBOX, ListInbox(person="kim.liu", limit=2, cursor=cursor)
        )
        assert isinstance(reply.data, dict)
        paged += [e["notice_id"] for e in reply.data["items"]]
        cursor = reply.data.get("next_cursor")
        if cursor is None:
            break
        assert reply.data["remaining"] == len(whole) - len(paged)
    assert paged == [e["notice_id"] for e in whole]
    refused = await stack.caller(subjects.QRY_INBOX, ListInbox(person="kim.lui"))
    assert not refused.ok and refused.error is not None
    assert "did you mean kim.liu" in refused.error.message
