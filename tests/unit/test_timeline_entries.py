"""Timeline entries of every event type, for every kind of reader: each entry, built without
validating its values again, is the entry validation makes of them; and an event type the
timeline does not know is an error, never an entry shown to everyone."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest

from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    DeadlineReached,
    FindingAdded,
    FollowUpDue,
    IncidentClosed,
    NoticeEvent,
    NoticeFailed,
    NoticeSent,
    PlaybookCancelled,
    PlaybookTriggered,
    RecordSealed,
    ResponseCompleted,
    RunInPlace,
    TaskAcknowledged,
    TaskAssigned,
    TaskCancelled,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskEscalated,
    TaskEvent,
    TaskNoted,
    TaskReleased,
    TaskReminded,
    TaskSkipped,
    TaskStarted,
)
from schemas.principals import Principal, Via
from schemas.report import Audience
from schemas.sealed import Sealed
from schemas.tasks import TaskNote, TaskSnapshot, TaskTemplate
from schemas.views import TimelineEntry
from services.core import access
from services.timeline.render import Reading, entries, entry
from tests.unit.factories import T0, a_task, an_incident
from tests.unit.test_access_policy import READERS, roster

M = timedelta(minutes=1)
INC = "INC-AAAAAAAA"
SEALED = Sealed(scope="team.peer-support", key_id="k1ab", nonce="A" * 16, ciphertext="B" * 22)


def _task(key: str, tier: Tier, **changes: object) -> TaskSnapshot:
    return a_task(task_id=f"{INC}.{key}", key=key, tier=tier, assigned_at=T0, **changes)


def _event(
    model: type[AnyEvent], minutes: int, actor: str = "engine", /, **more: object
) -> AnyEvent:
    fields = {"event_id": f"e{minutes}", "incident_id": INC, "actor": actor, "at": T0 + minutes * M}
    return model.model_validate(fields | more)


def _noted(task: TaskSnapshot, author: str, tier: Tier, **note: object) -> AnyEvent:
    written = TaskNote(author=author, at=T0, tier=tier, **note)
    return _event(TaskNoted, 9, author, task=task.model_copy(update={"notes": (written,)}))


def _notices() -> list[AnyEvent]:
    notice = {"notice_id": "n1", "kind": "assigned", "task_id": f"{INC}.defusing"}
    where = {"channel": "email", "channel_key": "email", "target": "mail.example.org"}
    return [
        _event(NoticeSent, 3, "notifier", recipient="aisha.grant", attempt=1, **notice, **where),
        _event(
            NoticeSent, 4, "notifier", **notice, **where, recipient="escalation-webhook",
            attempt=1, restricted=True,
        ),
        _event(
            NoticeFailed, 5, "notifier", **notice, **where, recipient="dana.reyes", attempt=3,
            error="refused", permanent=True, restricted=True,
        ),
    ]  # fmt: skip


def _task_events() -> list[AnyEvent]:
    public = _task("statement", Tier.PUBLIC, role="public_information", assignee="kim.liu")
    command = _task("briefing", Tier.COMMAND, role="community_liaison", assignee="dana.reyes")
    restricted = _task("defusing", Tier.RESTRICTED, role="peer_support", assignee="aisha.grant")
    waiting = command.model_copy(update={"key": "debrief", "depends_on": ("statement", "press")})
    action = command.model_copy(update={"corrective_action": True, "due_by": T0 + 60 * M})
    unassigned = restricted.model_copy(update={"assignee": None, "status": TaskStatus.UNASSIGNED})
    done = public.model_copy(update={"status": TaskStatus.COMPLETED, "note": "Statement out"})
    return [
        *(_event(TaskCreated, 1, task=t) for t in (public, command, restricted, waiting, action)),
        _event(TaskSkipped, 1, task=_task("press", Tier.PUBLIC), reason="no media interest"),
        _event(TaskReleased, 2, task=command),
        _event(TaskAssigned, 2, "aisha.grant", task=restricted),
        _event(TaskAssigned, 2, "renee.alvarez", task=command),
        _event(TaskAssigned, 2, task=command, previous_assignee="sam.whitfield"),
        _event(TaskReminded, 3, task=command, due_by=T0 + 60 * M),
        *(
            _event(TaskEscalated, 4, task=command, deadline=d, step=1, action=a, notify=n)
            for d, a, n in (
                ("acknowledge", "remind", ("dana.reyes",)),
                ("due", "reassign", ()),
                ("due", "notify_coordinator", ()),
                ("due", "notify_command", ("renee.alvarez",)),
                ("due", "webhook", ()),
            )
        ),
        _event(TaskAcknowledged, 5, "aisha.grant", task=restricted),
        _event(TaskStarted, 6, "aisha.grant", task=restricted),
        _noted(public, "kim.liu", Tier.PUBLIC, text="Drafting"),
        _noted(command, "renee.alvarez", Tier.COMMAND, text="Call the chief first"),
        _noted(restricted, "aisha.grant", Tier.RESTRICTED, text="An older plain note"),
        _noted(restricted, "dana.reyes", Tier.RESTRICTED, text="Another team's plain note"),
        _noted(restricted, "aisha.grant", Tier.RESTRICTED, sealed=SEALED),
        _event(TaskNoted, 9, task=public),  # a note event without its note
        _event(TaskCompleted, 10, "kim.liu", task=done),
        _event(TaskCompleted, 10, "aisha.grant", task=restricted.model_copy(
            update={"status": TaskStatus.COMPLETED, "note_sealed": SEALED})),
        _event(TaskDeclined, 11, "dana.reyes", task=unassigned, reason="Knows the family"),
        _event(TaskDeclined, 11, "aisha.grant", task=unassigned, reason_sealed=SEALED),
        _event(TaskCancelled, 12, task=command, cause="playbook_cancelled"),
        _event(TaskCancelled, 12, task=public),
    ]  # fmt: skip


def _incident_events() -> list[AnyEvent]:
    template = TaskTemplate(
        key="statement", title="Statement", role="public_information",
        acknowledge_within=15 * M, due_within=60 * M,
    )  # fmt: skip
    return [
        an_incident(),
        _event(
            PlaybookTriggered, 0, playbook_id="ois", playbook_title="OIS", version="3",
            trigger="manual", incident_logged_at=T0, tasks=(template,),
        ),
        _event(RunInPlace, 1, playbook_id="ois", created=4, skipped=1, follow_ups=2),
        _event(FollowUpDue, 7, parent_key="statement", number=1, due_at=T0 + 7 * M),
        _event(DeadlineReached, 7, task_key="statement", kind="ack", assignment=1, number=1),
        _event(ResponseCompleted, 13, playbook_id="ois", completed_tasks=4),
        _event(FindingAdded, 14, "renee.alvarez", finding_id="f1", kind="strength", text="Fast"),
        _event(
            FindingAdded, 14, "renee.alvarez", finding_id="f2", kind="improvement",
            text="Slow press", phase="immediate",
        ),
        _event(PlaybookCancelled, 15, "renee.alvarez", playbook_id="ois", reason="Wrong one"),
        _event(IncidentClosed, 16, "renee.alvarez", reason="Resolved"),
        _event(
            RecordSealed, 17, through_seq=40, events=40, digest="ab" * 32, previous_seal_seq=0,
            seqs=(1, 2),
        ),
    ]  # fmt: skip


def events() -> list[AnyEvent]:
    return [*_incident_events(), *_task_events(), *_notices()]


def readings() -> dict[str, Reading | None]:
    found: dict[str, Reading | None] = {"none": None}
    operator = Principal(account="operator", person="aisha.grant", via=Via.OPERATOR)
    link = Principal(account="link", person="aisha.grant", via=Via.LINK, task=f"{INC}.defusing")
    principals = {**READERS, "operator": operator, "link": link}
    for name, principal in principals.items():
        found[name] = Reading(access.reader_of(principal, roster()), roster())
    for audience in Audience:
        found[f"{audience}"] = Reading(
            access.audience_reader(READERS["reviewer"], audience), roster()
        )
    return found


def test_the_sample_has_every_event_type() -> None:
    every = set(get_args(get_args(AnyEvent)[0]))
    assert {type(e) for e in events()} == every


@pytest.mark.parametrize("name", list(readings()))
def test_each_entry_is_the_entry_validation_makes(name: str) -> None:
    stream = events()
    shown = entries([(e, n) for n, e in enumerate(stream, 1)], readings()[name])
    assert len(shown) == len(stream)
    # Every field but `recognised` is given, as validating the entry's values gave it.
    given = set(TimelineEntry.model_fields) - {"recognised"}
    for built in shown:
        assert built.model_fields_set == given
        validated = TimelineEntry(
            **{field: getattr(built, field) for field in built.model_fields_set}
        )
        assert built == validated
        assert built.model_fields_set == validated.model_fields_set
        assert list(vars(built)) == list(vars(validated))
        assert repr(built) == repr(validated)
        assert built.model_dump_json() == validated.model_dump_json()


def _note_of(event: AnyEvent) -> tuple[str | None, Sealed | None]:
    if isinstance(event, TaskNoted) and event.task.notes:
        return event.task.notes[-1].text, event.task.notes[-1].sealed
    if isinstance(event, TaskCompleted):
        return event.task.note, event.task.note_sealed
    if isinstance(event, TaskDeclined):
        return event.reason, event.reason_sealed
    if isinstance(event, IncidentClosed | PlaybookCancelled):
        return event.reason, None
    return (event.text, None) if isinstance(event, FindingAdded) else (None, None)


def test_each_reader_sees_each_note_as_the_policy_says() -> None:
    """Asked of the policy note by note: a reading remembers its answers, never mixing up two
    notes' (the sample has restricted notes by authors of two teams on one task)."""
    stream = events()
    for name, reading in readings().items():
        if reading is None:
            continue
        shown = entries([(e, n) for n, e in enumerate(stream, 1)], reading)
        for event, got in zip(stream, shown, strict=True):
            note = _note_of(event)
            if not (note[0] or note[1]):
                continue
            task = event.task if isinstance(event, TaskEvent) else None
            tier, author = got.tier, got.note_by
            scope = note[1].scope if note[1] else None
            assignee = task.assignee if task else None
            if access.may_read(reading.reader, roster(), tier, author, assignee, scope):
                assert (got.note, got.note_sealed, got.redacted) == (*note, False), name
            elif tier is Tier.RESTRICTED:
                marker = access.withheld(roster(), author, scope)
                assert (got.note, got.note_sealed, got.redacted) == (marker, None, True), name
            else:
                assert (got.note, got.note_sealed, got.redacted) == (None, None, True), name


def _expected(event: AnyEvent) -> tuple[Tier, str | None, str | None, str | None]:
    """Tier, task id, role and note author as the entry must have them (the author with a note)."""
    if isinstance(event, TaskNoted) and event.task.notes:
        task, note = event.task, event.task.notes[-1]
        return note.tier, task.task_id, task.role, note.author
    if isinstance(event, TaskEvent):
        task = event.task
        noted = isinstance(event, TaskCompleted | TaskDeclined)
        return task.tier, task.task_id, task.role, event.actor if noted else None
    if isinstance(event, NoticeEvent):
        return Tier.RESTRICTED if event.restricted else Tier.COMMAND, event.task_id, None, None
    if isinstance(event, IncidentClosed | PlaybookCancelled | FindingAdded):
        return Tier.COMMAND, None, None, event.actor
    return Tier.PUBLIC, None, None, None


def test_each_entry_has_its_events_tier_task_and_note_author() -> None:
    stream = events()
    for event, shown in zip(stream, entries([(e, 1) for e in stream]), strict=True):
        assert (shown.tier, shown.task_id, shown.role, shown.note_by) == _expected(event), event
        task = event.task if isinstance(event, TaskEvent) else None
        assert shown.assignee == (task.assignee if task else None)
        phase = event.phase if isinstance(event, FindingAdded) else task.phase if task else None
        assert shown.phase == phase


def test_an_event_type_the_timeline_does_not_know_is_an_error() -> None:
    class Unlisted(TaskNoted):
        pass

    noted = _noted(_task("defusing", Tier.RESTRICTED), "aisha.grant", Tier.PUBLIC, text="x")
    unlisted = Unlisted.model_validate(noted.model_dump())
    with pytest.raises(AssertionError, match="unhandled event Unlisted"):
        entry(unlisted, 1)
