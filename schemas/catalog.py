"""Every NATS operation Pathways serves and every message family it publishes, in one place.

The AsyncAPI document (`pathways asyncapi`) is built from this catalog, and a unit test checks it
against the subjects the services' routers really serve and the events `AnyEvent` can hold.

An `Operation` is a request-reply subject: what the request is, what the reply's data is
(schemas/replies.py), and where the HTTP API serves it, so the command line's HTTP client and the
gateway's routes agree on one table.
An `EventDoc` is a subject pattern and the model of what is published on it; a `{name}` in a
pattern is one subject token, described in `PARAMETERS`. Patterns are built with the functions
of schemas/subjects.py, so nothing here spells a subject of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from schemas import subjects
from schemas.availability import AwayPeriod, AwayRecords
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
    TriggerPlaybook,
)
from schemas.deadletters import LetterRecord, ReplayRequested
from schemas.events import (
    DeadlineReached,
    FindingAdded,
    FollowUpDue,
    IncidentClosed,
    IncidentLogged,
    NoticeEvent,
    NoticeFailed,
    NoticeSent,
    PlaybookCancelled,
    PlaybookTriggered,
    RecordSealDue,
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
from schemas.improvement import (
    AddCorrectiveAction,
    AddFinding,
    CorrectiveAction,
    Finding,
    GetCorrectiveActions,
    GetFindings,
)
from schemas.metrics import GetMetrics, MetricsReply
from schemas.notifications import InboxEntry, PendingSend
from schemas.replies import (
    Answer,
    BackRecorded,
    IncidentClosedResult,
    LogIncidentResult,
    Page,
    PlaybookCancelledResult,
    PlaybookDetail,
    PlaybookStarted,
    RosterLoaded,
    RosterReply,
)
from schemas.report import GetReviewReport, ReportDocument, ReviewReport
from schemas.roster_commands import EndAway, GetRoster, LoadRoster, RecordAway
from schemas.roster_versions import RosterVersion
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentListItem, IncidentSummary, PlaybookInfo, Timeline

OperationKind = Literal["command", "query"]
HttpMethod = Literal["GET", "POST"]


@dataclass(frozen=True, slots=True)
class HttpRoute:
    """Where the HTTP API serves an operation (under /api/v1). Each `{name}` of the path is the
    request's field of that name; a command's other fields are its JSON body (without `actor`
    and `request_id`: the caller is the token's account, the request id its Idempotency-Key);
    a query's are query parameters, named as `query` renames them."""

    method: HttpMethod
    path: str
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Operation:
    subject: str
    request: type[BaseModel]
    # What the reply's `data` holds (schemas/replies.py), and the whole reply as NATS carries it.
    data: Any
    reply: type[BaseModel]
    summary: str
    kind: OperationKind
    http: HttpRoute


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
FINDING = "{finding_id}"

PARAMETERS: dict[str, str] = {
    "incident_id": "The incident, INC- and eight characters (INC-7K3M9Q2X)",
    "task_key": "The task's key within its playbook run (a slug)",
    "follow_up_key": "A follow-up's key: its task's key, -follow-up-, and its number",
    "timer": "One reminder or escalation step: <assignment>-<kind>-<number>",
    "notice": "The notice id, its dots spelled `=`",
    "channel_key": "The recipient's channel, by the key the roster gives it",
    "consumer": "The durable consumer that could not handle the message",
    "letter_id": "The dead letter, DL- and eight characters",
    "finding_id": "A finding of the incident's review: f- and eight characters",
}


def _command(
    subject: str, request: type[BaseModel], data: Any, summary: str, http: HttpRoute
) -> Operation:
    return Operation(subject, request, data, Answer[data], summary, "command", http)


def _query(
    subject: str, request: type[BaseModel], data: Any, summary: str, http: HttpRoute
) -> Operation:
    return Operation(subject, request, data, Answer[data], summary, "query", http)


def _post(path: str) -> HttpRoute:
    return HttpRoute("POST", path)


def _get(path: str, **query: str) -> HttpRoute:
    return HttpRoute("GET", path, query)


# (subject, request, what the reply's data is, summary, where the HTTP API serves it)
OPERATIONS: tuple[Operation, ...] = (
    _command(
        subjects.CMD_INCIDENT_LOG,
        LogIncident,
        LogIncidentResult,
        "Log an incident; the reply suggests the playbooks that match it",
        _post("/incidents"),
    ),
    _command(
        subjects.CMD_PLAYBOOK_TRIGGER,
        TriggerPlaybook,
        PlaybookStarted,
        "Start a playbook run on an incident",
        _post("/incidents/{incident_id}/playbook"),
    ),
    _command(
        subjects.CMD_TASK_ACT,
        ActOnTask,
        TaskSnapshot,
        "Acknowledge, start, complete or decline a task",
        _post("/tasks/{task_id}/{verb}"),
    ),
    _command(
        subjects.CMD_INCIDENT_CLOSE,
        CloseIncident,
        IncidentClosedResult,
        "End the response: open tasks are cancelled, nothing pending fires",
        _post("/incidents/{incident_id}/close"),
    ),
    _command(
        subjects.CMD_PLAYBOOK_CANCEL,
        CancelPlaybook,
        PlaybookCancelledResult,
        "Undo a playbook run triggered by mistake",
        _post("/incidents/{incident_id}/playbook/cancel"),
    ),
    _command(
        subjects.CMD_TASK_ASSIGN,
        AssignTask,
        TaskSnapshot,
        "Give a task to an eligible person (command staff)",
        _post("/tasks/{task_id}/assign"),
    ),
    _command(
        subjects.CMD_TASK_CLAIM,
        ClaimTask,
        TaskSnapshot,
        "Take a task nobody holds, as a holder of its role",
        _post("/tasks/{task_id}/claim"),
    ),
    _command(
        subjects.CMD_TASK_NOTE,
        NoteTask,
        TaskSnapshot,
        "Add a note to a task",
        _post("/tasks/{task_id}/notes"),
    ),
    _command(
        subjects.CMD_ROSTER_LOAD,
        LoadRoster,
        RosterLoaded,
        "Put a roster version in force",
        _post("/roster"),
    ),
    _command(
        subjects.CMD_ROSTER_AWAY,
        RecordAway,
        AwayPeriod,
        "Record a period someone is away",
        _post("/roster/away"),
    ),
    _command(
        subjects.CMD_ROSTER_BACK,
        EndAway,
        BackRecorded,
        "End the away period someone is in now",
        _post("/roster/back"),
    ),
    _command(
        subjects.CMD_REVIEW_FINDING,
        AddFinding,
        Finding,
        "Record a finding of an incident's after-action review",
        _post("/incidents/{incident_id}/findings"),
    ),
    _command(
        subjects.CMD_REVIEW_ACTION,
        AddCorrectiveAction,
        TaskSnapshot,
        "Give a corrective action to its owner, as a task due by a date",
        _post("/incidents/{incident_id}/actions"),
    ),
    _query(
        subjects.QRY_INCIDENT_GET,
        GetIncident,
        IncidentSummary,
        "One incident's summary",
        _get("/incidents/{incident_id}"),
    ),
    _query(
        subjects.QRY_INCIDENT_LIST,
        ListIncidents,
        Page[IncidentListItem],
        "A page of incidents, newest first",
        _get("/incidents"),
    ),
    _query(
        subjects.QRY_TASK_LIST,
        ListTasks,
        Page[TaskSnapshot],
        "A page of tasks, by incident, assignee or status",
        _get("/tasks", incident_id="incident"),
    ),
    _query(
        subjects.QRY_TASK_GET,
        GetTask,
        TaskSnapshot,
        "One task as it stands",
        _get("/tasks/{task_id}"),
    ),
    _query(
        subjects.QRY_TIMELINE,
        GetTimeline,
        Timeline,
        "An incident's events in order, replayed from the stream",
        _get(
            "/incidents/{incident_id}/timeline",
            roles="role",
            phases="phase",
            people="person",
            types="type",
        ),
    ),
    _query(
        subjects.QRY_REVIEW_REPORT,
        GetReviewReport,
        # The document when the query names a format. Tried first: a report's data lacks its
        # required fields, so telling the two apart costs nothing.
        Annotated[ReportDocument | ReviewReport, Field(union_mode="left_to_right")],
        "An incident's after-action report for one audience (public, command or full), as "
        "data or rendered as HTML or Markdown",
        _get("/incidents/{incident_id}/report", audience="audience"),
    ),
    _query(
        subjects.QRY_REVIEW_FINDINGS,
        GetFindings,
        list[Finding],
        "The findings of an incident's after-action review, in the order they were recorded",
        _get("/incidents/{incident_id}/findings"),
    ),
    _query(
        subjects.QRY_REVIEW_ACTIONS,
        GetCorrectiveActions,
        list[CorrectiveAction],
        "The corrective actions of an incident's improvement plan, each as it stands",
        _get("/incidents/{incident_id}/actions"),
    ),
    _query(
        subjects.QRY_REVIEW_METRICS,
        GetMetrics,
        MetricsReply,
        "Response metrics across incidents: per role, family and phase, and follow-ups",
        _get("/review/metrics", incident_type="type"),
    ),
    _query(
        subjects.QRY_PLAYBOOK_LIST,
        ListPlaybooks,
        list[PlaybookInfo],
        "The playbooks in the library",
        _get("/playbooks"),
    ),
    _query(
        subjects.QRY_PLAYBOOK_GET,
        GetPlaybook,
        PlaybookDetail,
        "One playbook, the current version or a pinned one",
        _get("/playbooks/{playbook_id}"),
    ),
    _query(
        subjects.QRY_INBOX,
        ListInbox,
        Page[InboxEntry],
        "A page of a person's in-app notices, newest first",
        _get("/me/inbox"),
    ),
    _query(
        subjects.QRY_ROSTER_GET,
        GetRoster,
        RosterReply,
        "The roster in force, its version, and the away periods not over yet",
        _get("/roster"),
    ),
)

BY_SUBJECT: dict[str, Operation] = {operation.subject: operation for operation in OPERATIONS}


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
    EventDoc(
        subjects.finding_added(INCIDENT, FINDING),
        FindingAdded,
        "A finding of the incident's after-action review was recorded",
    ),
    _notice_outcome(NoticeSent, "sent", "A notice went out on one of its recipient's channels"),
    _notice_outcome(NoticeFailed, "failed", "A notice could not be delivered on a channel"),
    EventDoc(
        subjects.record_sealed(INCIDENT),
        RecordSealed,
        "A periodic seal pinned the incident's record so far",
    ),
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
    EventDoc(
        subjects.seal_schedule(INCIDENT),
        RecordSealDue,
        "An incident's periodic seal waiting for a quiet time",
    ),
    EventDoc(subjects.seal_timer(INCIDENT), RecordSealDue, "An incident's periodic seal is due"),
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
