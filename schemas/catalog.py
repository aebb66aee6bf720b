"""Every NATS operation Pathways serves and every message family it publishes, in one place.

The AsyncAPI document (`pathways asyncapi`) is built from this catalog, and a unit test checks it
against the subjects the services' routers really serve and the events `AnyEvent` can hold.

An `Operation` is a request-reply subject: what the request is and what comes back. Each names
its own reply model, so giving an operation a typed reply is a change to its `reply=` line.
An `EventDoc` is a subject pattern and the model of what is published on it; a `{name}` in a
pattern is one subject token, described in `PARAMETERS`. Patterns are built with the functions
of schemas/subjects.py, so nothing here spells a subject of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from schemas import subjects
from schemas.availability import AwayRecords
from schemas.base import Contract
from schemas.commands import (
    ActOnTask,
    AssignTask,
    CancelPlaybook,
    ClaimTask,
    CloseIncident,
    GetIncident,
    GetPlaybook,
    GetTask,
    GetTimeline,
    ListInbox,
    ListIncidents,
    ListPlaybooks,
    ListTasks,
    LogIncident,
    NoteTask,
    Reply,
    TriggerPlaybook,
)
from schemas.deadletters import LetterRecord, ReplayRequested
from schemas.events import (
    DeadlineReached,
    FollowUpDue,
    IncidentClosed,
    IncidentLogged,
    NoticeEvent,
    NoticeFailed,
    NoticeSent,
    PlaybookCancelled,
    PlaybookTriggered,
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
from schemas.notifications import PendingSend
from schemas.roster_commands import EndAway, GetRoster, LoadRoster, RecordAway
from schemas.roster_versions import RosterVersion

OperationKind = Literal["command", "query"]


@dataclass(frozen=True, slots=True)
class Operation:
    subject: str
    request: type[BaseModel]
    reply: type[BaseModel]
    summary: str
    kind: OperationKind


@dataclass(frozen=True, slots=True)
class EventDoc:
    subject: str
    # A model class, or an annotated union of them when one subject carries several shapes
    # (a dead letter, then its resolution).
    model: Any
    summary: str


class ReconcileTick(Contract):
    """What the reconciler's repeating schedule carries: an empty object."""


# Subject tokens that vary, as they appear in the patterns below.
INCIDENT = "{incident_id}"
TASK = "{task_key}"
FOLLOW_UP = "{follow_up_key}"
TIMER = "{timer}"
NOTICE = "{notice}"
CHANNEL = "{channel_key}"
CONSUMER = "{consumer}"
LETTER = "{letter_id}"

PARAMETERS: dict[str, str] = {
    "incident_id": "The incident, INC- and eight characters (INC-7K3M9Q2X)",
    "task_key": "The task's key within its playbook run (a slug)",
    "follow_up_key": "A follow-up's key: its task's key, -follow-up-, and its number",
    "timer": "One reminder or escalation step: <assignment>-<kind>-<number>",
    "notice": "The notice id, its dots spelled `=`",
    "channel_key": "The recipient's channel, by the key the roster gives it",
    "consumer": "The durable consumer that could not handle the message",
    "letter_id": "The dead letter, DL- and eight characters",
}


def _command(
    subject: str, request: type[BaseModel], reply: type[BaseModel], summary: str
) -> Operation:
    return Operation(subject, request, reply, summary, "command")


def _query(
    subject: str, request: type[BaseModel], reply: type[BaseModel], summary: str
) -> Operation:
    return Operation(subject, request, reply, summary, "query")


# (subject, request, reply, summary): the reply is `Reply`, the untyped envelope, until each
# operation gets a model of its own.
OPERATIONS: tuple[Operation, ...] = (
    _command(
        subjects.CMD_INCIDENT_LOG,
        LogIncident,
        Reply,
        "Log an incident; the reply suggests the playbooks that match it",
    ),
    _command(
        subjects.CMD_PLAYBOOK_TRIGGER, TriggerPlaybook, Reply, "Start a playbook run on an incident"
    ),
    _command(
        subjects.CMD_TASK_ACT, ActOnTask, Reply, "Acknowledge, start, complete or decline a task"
    ),
    _command(
        subjects.CMD_INCIDENT_CLOSE,
        CloseIncident,
        Reply,
        "End the response: open tasks are cancelled, nothing pending fires",
    ),
    _command(
        subjects.CMD_PLAYBOOK_CANCEL,
        CancelPlaybook,
        Reply,
        "Undo a playbook run triggered by mistake",
    ),
    _command(
        subjects.CMD_TASK_ASSIGN,
        AssignTask,
        Reply,
        "Give a task to an eligible person (command staff)",
    ),
    _command(
        subjects.CMD_TASK_CLAIM,
        ClaimTask,
        Reply,
        "Take a task nobody holds, as a holder of its role",
    ),
    _command(subjects.CMD_TASK_NOTE, NoteTask, Reply, "Add a note to a task"),
    _command(subjects.CMD_ROSTER_LOAD, LoadRoster, Reply, "Put a roster version in force"),
    _command(subjects.CMD_ROSTER_AWAY, RecordAway, Reply, "Record a period someone is away"),
    _command(subjects.CMD_ROSTER_BACK, EndAway, Reply, "End the away period someone is in now"),
    _query(subjects.QRY_INCIDENT_GET, GetIncident, Reply, "One incident's summary"),
    _query(subjects.QRY_INCIDENT_LIST, ListIncidents, Reply, "A page of incidents, newest first"),
    _query(
        subjects.QRY_TASK_LIST, ListTasks, Reply, "A page of tasks, by incident, assignee or status"
    ),
    _query(subjects.QRY_TASK_GET, GetTask, Reply, "One task as it stands"),
    _query(
        subjects.QRY_TIMELINE,
        GetTimeline,
        Reply,
        "An incident's events in order, replayed from the stream",
    ),
    _query(subjects.QRY_PLAYBOOK_LIST, ListPlaybooks, Reply, "The playbooks in the library"),
    _query(
        subjects.QRY_PLAYBOOK_GET,
        GetPlaybook,
        Reply,
        "One playbook, the current version or a pinned one",
    ),
    _query(
        subjects.QRY_INBOX, ListInbox, Reply, "A page of a person's in-app notices, newest first"
    ),
    _query(
        subjects.QRY_ROSTER_GET,
        GetRoster,
        Reply,
        "The roster in force, its version, and the away periods not over yet",
    ),
)


def _task_event(model: type[TaskEvent], summary: str) -> EventDoc:
    verb = str(model.model_fields["type"].default).rsplit(".", 1)[1]
    return EventDoc(subjects.task_event(INCIDENT, TASK, verb), model, summary)


def _notice_outcome(model: type[NoticeEvent], outcome: str, summary: str) -> EventDoc:
    return EventDoc(subjects.notice_outcome(INCIDENT, NOTICE, CHANNEL, outcome), model, summary)


# The events stream: every fact about an incident, in the order it happened.
INCIDENT_EVENTS: tuple[EventDoc, ...] = (
    EventDoc(subjects.incident_logged(INCIDENT), IncidentLogged, "An incident was logged"),
    EventDoc(
        subjects.incident_closed(INCIDENT), IncidentClosed, "Command staff closed the incident"
    ),
    EventDoc(subjects.playbook_triggered(INCIDENT), PlaybookTriggered, "A playbook run began"),
    EventDoc(
        subjects.run_in_place(INCIDENT),
        RunInPlace,
        "Everything a playbook run sets up is in place",
    ),
    EventDoc(subjects.playbook_cancelled(INCIDENT), PlaybookCancelled, "A playbook run was undone"),
    _task_event(TaskCreated, "A task of the run was created"),
    _task_event(TaskSkipped, "A task's condition did not hold; it was never assigned"),
    _task_event(TaskReleased, "Every prerequisite completed; the task goes to its assignee"),
    _task_event(TaskAssigned, "The task changed hands"),
    _task_event(TaskReminded, "The task is due soon; its assignee is reminded"),
    _task_event(TaskEscalated, "A deadline passed and one escalation step ran"),
    _task_event(TaskNoted, "Someone added a note to the task"),
    _task_event(TaskCancelled, "The incident closed or the run was undone first"),
    _task_event(TaskAcknowledged, "The assignee acknowledged the task"),
    _task_event(TaskStarted, "The assignee started the task"),
    _task_event(TaskCompleted, "The assignee completed the task"),
    _task_event(TaskDeclined, "The assignee declined the task"),
    EventDoc(
        subjects.follow_up_due(INCIDENT, FOLLOW_UP),
        FollowUpDue,
        "A follow-up came due; the engine creates it as a task",
    ),
    EventDoc(
        subjects.response_completed(INCIDENT),
        ResponseCompleted,
        "Every task of the run is done",
    ),
    _notice_outcome(NoticeSent, "sent", "A notice went out on one of its recipient's channels"),
    _notice_outcome(NoticeFailed, "failed", "A notice could not be delivered on a channel"),
)

# The timers stream: the engine and the notifier schedule a message on pw.sched.…, and the
# server publishes its body on the matching pw.timer.… subject when it comes due.
TIMERS: tuple[EventDoc, ...] = (
    EventDoc(
        subjects.follow_up_schedule(INCIDENT, FOLLOW_UP),
        FollowUpDue,
        "A follow-up waiting for its time",
    ),
    EventDoc(subjects.follow_up_timer(INCIDENT, FOLLOW_UP), FollowUpDue, "A follow-up's time came"),
    EventDoc(
        subjects.deadline_schedule(INCIDENT, TASK, TIMER),
        DeadlineReached,
        "A task's reminder or escalation step waiting for its time",
    ),
    EventDoc(
        subjects.deadline_timer(INCIDENT, TASK, TIMER),
        DeadlineReached,
        "A task's reminder or escalation step is due",
    ),
    EventDoc(
        subjects.notice_schedule(INCIDENT, NOTICE, CHANNEL),
        PendingSend,
        "A delayed send, or another try, waiting for its time",
    ),
    EventDoc(
        subjects.notice_timer(INCIDENT, NOTICE, CHANNEL),
        PendingSend,
        "A delayed send or another try is due",
    ),
    EventDoc(subjects.RECONCILE_SCHEDULE, ReconcileTick, "The reconciler's repeating schedule"),
    EventDoc(subjects.RECONCILE_TICK, ReconcileTick, "Time for the reconciler to sweep"),
)

# Dead letters, and an operator's requests to replay them (`pathways admin dead-letters retry`).
DEAD_LETTERS: tuple[EventDoc, ...] = (
    EventDoc(
        subjects.dead_letter(CONSUMER, LETTER),
        Annotated[LetterRecord, Field(title="DeadLetterRecord")],
        "A message a consumer could not handle, then its resolution by a replay",
    ),
    EventDoc(
        subjects.replay_request(CONSUMER, LETTER),
        ReplayRequested,
        "An operator asks the consumer to run a dead letter again",
    ),
)

# The live roster's bucket, whose changes the engine consumes.
ROSTER_CHANGES: tuple[EventDoc, ...] = (
    EventDoc(subjects.ON_ROSTER_LOADED, RosterVersion, "A roster version was put in force"),
    EventDoc(subjects.ON_AWAY_CHANGED, AwayRecords, "The away periods changed"),
)

EVENTS: tuple[EventDoc, ...] = INCIDENT_EVENTS + TIMERS + DEAD_LETTERS + ROSTER_CHANGES
