"""The lifecycle of one task in the review benchmark's incident, step by step: each event made
by the engine's own pure functions where there is one (`lifecycle.decide`, `lifecycle.release`,
`lifecycle.reassign`, `handoffs.note`), restricted text sealed for its author's team as the
gateway seals it (`services.core.confidential.seal_text`), and after each assignment, reminder
and escalation what the notifier records (`notice.sent`, inbox and email)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import subjects
from schemas.commands import ActOnTask, NoteTask, TaskVerb
from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyTaskEvent,
    Event,
    IncidentLogged,
    NoticeSent,
    TaskEscalated,
    TaskReminded,
)
from schemas.notifications import Channel, NoticeKind
from schemas.playbook import PinnedPlaybook
from schemas.roster import Roster
from schemas.tasks import TaskSnapshot
from services.core.confidential import TextField, seal_text
from services.core.sealing import Keyring
from services.engine import handoffs, lifecycle
from services.engine.deadlines import done_key

PLAYBOOK = "mass-casualty"
COMMAND = "renee.alvarez"  # command staff in rosters/example.yaml
DONE = 9  # the stage after completion
NOTES_PER_TASK = 40  # of the 100 a task may hold
TIERS = (Tier.PUBLIC, Tier.COMMAND, Tier.RESTRICTED)
NOTE_TEXT = (
    "Spoke with the family assistance centre lead; next check-in arranged, interpreter booked, "
    "transport confirmed for tomorrow morning."
)

Item = tuple[str, Event, str]  # subject, event, the filter its expectation names


@dataclass
class Clock:
    """Event times: evenly spread from `start`, one `step` apart, all in the past."""

    at: datetime
    step: timedelta

    def tick(self) -> datetime:
        self.at += self.step
        return self.at


@dataclass
class Script:
    """Where one task is in its lifecycle."""

    task: TaskSnapshot
    ordinal: int
    stage: int = 0
    notes: int = 0


@dataclass
class Response:
    """What the generator needs to make events: the roster, the keys, the clock."""

    incident: IncidentLogged
    pinned: PinnedPlaybook
    roster: Roster
    keyring: Keyring
    clock: Clock
    requests: Iterator[int] = field(default_factory=itertools.count)

    def request_id(self) -> str:
        return f"bench-{next(self.requests):08d}"


def task_item(event: AnyTaskEvent) -> Item:
    """A task event, on its task's subject, expecting the task's last event."""
    task, verb = event.task, event.type.split(".", 1)[1]
    subject = subjects.task_event(task.incident_id, task.key, verb)
    return subject, event, subjects.task_filter(task.incident_id, task.key)


def notices(r: Response, task: TaskSnapshot, kind: NoticeKind, to: tuple[str, ...]) -> list[Item]:
    found: list[Item] = []
    for person in to:
        notice_id = f"{task.task_id}.{kind.value}.{r.request_id()}"
        for channel in (Channel.INBOX, Channel.EMAIL):
            event = NoticeSent(
                event_id=f"{notice_id}.{channel.value}.sent",
                incident_id=task.incident_id,
                actor="notifier",
                at=r.clock.tick(),
                notice_id=notice_id,
                kind=kind,
                recipient=person,
                task_id=task.task_id,
                channel=channel,
                channel_key=channel.value,
                target="inbox" if channel is Channel.INBOX else f"{person}@example.org",
                attempt=1,
                restricted=task.tier is Tier.RESTRICTED,
            )
            subject = subjects.notice_outcome(task.incident_id, notice_id, channel.value, "sent")
            found.append(
                (subject, event, subjects.notice_outcomes(task.incident_id, notice_id, channel))
            )
    return found


def act(r: Response, task: TaskSnapshot, verb: TaskVerb, **text: object) -> Item | None:
    assert task.assignee is not None
    command = ActOnTask(
        request_id=r.request_id(), actor=task.assignee, verb=verb, task_id=task.task_id, **text
    )
    event = lifecycle.decide(task, command, r.clock.tick())
    return None if event is None else task_item(event)


def sealed_or_plain(
    r: Response, task: TaskSnapshot, tier: Tier, kind: TextField, text: str
) -> dict[str, object]:
    assert task.assignee is not None
    if tier is not Tier.RESTRICTED:
        return {"text": text}
    return {"sealed": seal_text(r.keyring, r.roster, task.task_id, task.assignee, kind, text)}


def note(r: Response, task: TaskSnapshot, number: int) -> Item | None:
    assert task.assignee is not None
    tier = TIERS[number % len(TIERS)]
    body = sealed_or_plain(r, task, tier, TextField.NOTE, f"{NOTE_TEXT} ({number + 1})")
    command = NoteTask(
        request_id=r.request_id(), actor=task.assignee, task_id=task.task_id, tier=tier, **body
    )
    event = handoffs.note(task, command, r.clock.tick())
    return None if event is None else task_item(event)


def reminded(r: Response, task: TaskSnapshot) -> list[Item]:
    if task.due_by is None or task.assignee is None:
        return []
    key = done_key("remind", task.assignment, 1)
    event = TaskReminded(
        event_id=f"{task.task_id}.escalated.{key}",
        incident_id=task.incident_id,
        actor="engine",
        at=r.clock.tick(),
        task=task.model_copy(update={"escalated": (*task.escalated, key)}),
        due_by=task.due_by,
    )
    return [task_item(event), *notices(r, task, NoticeKind.REMINDER, (task.assignee,))]


def escalated(r: Response, task: TaskSnapshot) -> list[Item]:
    """The acknowledge deadline passed: the chain's first step tells the role's coordinators."""
    key = done_key("ack", task.assignment, 1)
    told = r.roster.coordinators_of(task.role)
    event = TaskEscalated(
        event_id=f"{task.task_id}.escalated.{key}",
        incident_id=task.incident_id,
        actor="engine",
        at=r.clock.tick(),
        task=task.model_copy(update={"escalated": (*task.escalated, key)}),
        deadline="acknowledge",
        step=1,
        action="notify_coordinator",
        notify=told,
        missed_by=task.assignee,
    )
    return [task_item(event), *notices(r, task, NoticeKind.ESCALATION, told)]


def declined(r: Response, task: TaskSnapshot) -> list[Item]:
    reason = sealed_or_plain(r, task, task.tier, TextField.DECLINE_REASON, "On leave this week")
    text = {"reason_sealed": reason["sealed"]} if "sealed" in reason else {"reason": reason["text"]}
    first = act(r, task, TaskVerb.DECLINE, **text)
    assert first is not None
    after = first[1].task  # type: ignore[attr-defined]
    holders = r.roster.holders(task.role)
    handed = lifecycle.reassign(after, holders, r.clock.tick())
    if handed is None:
        return [first]
    assert handed.task.assignee is not None
    return [
        first,
        task_item(handed),
        *notices(r, handed.task, NoticeKind.ASSIGNED, (handed.task.assignee,)),
    ]


def opened(r: Response, s: Script, done: set[str]) -> list[Item]:
    """A waiting task is released once its prerequisites are done; one nobody could be given
    goes to the next holder of its role."""
    task = s.task
    if task.status is TaskStatus.WAITING:
        if not set(task.depends_on) <= done:
            s.stage -= 1  # not yet: try again next round
            return []
        released = lifecycle.release(task, r.clock.tick())
        return [] if released is None else [task_item(released)]
    if task.assignee is None:
        handed = lifecycle.reassign(task, r.roster.holders(task.role), r.clock.tick(), COMMAND)
        return [] if handed is None else [task_item(handed)]
    return []


def completed(r: Response, task: TaskSnapshot) -> Item | None:
    text = "Done; hand-over notes filed with the family assistance centre."
    body = sealed_or_plain(r, task, task.tier, TextField.COMPLETION_NOTE, text)
    given = {"note_sealed": body["sealed"]} if "sealed" in body else {"note": body["text"]}
    return act(r, task, TaskVerb.COMPLETE, **given)


def step(r: Response, s: Script, done: set[str]) -> list[Item]:
    """The next thing that happens to one task (nothing once it is done)."""
    task, s.stage = s.task, s.stage + 1
    if task.assignee is None and s.stage > 1:
        return []  # nobody holds the role: the task stays open, as in life
    match s.stage:
        case 1:
            return opened(r, s, done)
        case 2:
            return notices(r, task, NoticeKind.ASSIGNED, (task.assignee,)) if task.assignee else []
        case 3:
            return reminded(r, task)
        case 4:
            return escalated(r, task) if s.ordinal % 3 == 0 else []
        case 5:
            return declined(r, task) if s.ordinal % 4 == 1 else []
        case 6:
            return [item] if (item := act(r, task, TaskVerb.ACKNOWLEDGE)) else []
        case 7:
            return [item] if (item := act(r, task, TaskVerb.START)) else []
        case 8 if s.notes < NOTES_PER_TASK:
            s.stage, s.notes = 7, s.notes + 1
            return [item] if (item := note(r, task, s.notes)) else []
        case 8:
            done.add(task.key)
            return [item] if (item := completed(r, task)) else []
    return []


def advance(r: Response, s: Script, done: set[str]) -> list[Item]:
    items = step(r, s, done)
    for _, event, _ in items:
        snapshot = getattr(event, "task", None)
        if isinstance(snapshot, TaskSnapshot) and snapshot.task_id == s.task.task_id:
            s.task = snapshot
    return items
