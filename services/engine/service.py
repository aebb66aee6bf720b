"""Wires the engine's commands, queries and reactions onto a router."""

from __future__ import annotations

from functools import partial

from faststream.nats import NatsRouter

from schemas import subjects
from schemas.commands import (
    ActOnTask,
    AssignTask,
    CancelPlaybook,
    ClaimTask,
    CloseIncident,
    GetPlaybook,
    GetTask,
    ListPlaybooks,
    ListTasks,
    NoteTask,
    TriggerPlaybook,
)
from schemas.events import (
    DeadlineReached,
    FollowUpDue,
    IncidentClosed,
    IncidentLogged,
    PlaybookCancelled,
    PlaybookTriggered,
    TaskCompleted,
    TaskDeclined,
)
from schemas.improvement import AddCorrectiveAction, AddFinding
from schemas.roster_commands import EndAway, GetRoster, LoadRoster, RecordAway
from services.core.broker import ROSTERS_JSTREAM, TIMERS_JSTREAM
from services.core.logging import get_logger
from services.core.reactors import consume, react
from services.core.rpc import Answering
from services.core.runtime import Runtime
from services.engine import (
    cancelling,
    closing,
    commands,
    escalating,
    queries,
    reactions,
    reconcile,
    record_sealing,
    review,
    roster_changes,
    roster_commands,
    task_commands,
)

QUEUE = "engine"
log = get_logger(__name__)


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    answer = Answering(router, QUEUE, rt.verifying_key)
    answer(subjects.CMD_TASK_ACT, ActOnTask, partial(commands.act_on_task, rt))
    answer(subjects.CMD_PLAYBOOK_TRIGGER, TriggerPlaybook, partial(commands.trigger_playbook, rt))
    answer(subjects.QRY_TASK_LIST, ListTasks, partial(queries.list_tasks, rt))
    answer(subjects.CMD_INCIDENT_CLOSE, CloseIncident, partial(closing.close_incident, rt))
    answer(subjects.CMD_PLAYBOOK_CANCEL, CancelPlaybook, partial(cancelling.cancel_playbook, rt))
    answer(subjects.QRY_TASK_GET, GetTask, partial(task_commands.get_task, rt))
    answer(subjects.CMD_TASK_ASSIGN, AssignTask, partial(task_commands.assign_task, rt))
    answer(subjects.CMD_TASK_CLAIM, ClaimTask, partial(task_commands.claim_task, rt))
    answer(subjects.CMD_TASK_NOTE, NoteTask, partial(task_commands.note_task, rt))
    answer(subjects.QRY_PLAYBOOK_LIST, ListPlaybooks, partial(queries.list_playbooks, rt))
    answer(subjects.QRY_PLAYBOOK_GET, GetPlaybook, partial(queries.get_playbook, rt))
    answer(subjects.CMD_ROSTER_LOAD, LoadRoster, partial(roster_commands.load_roster, rt))
    answer(subjects.CMD_ROSTER_AWAY, RecordAway, partial(roster_commands.record_away, rt))
    answer(subjects.CMD_ROSTER_BACK, EndAway, partial(roster_commands.end_away, rt))
    answer(subjects.QRY_ROSTER_GET, GetRoster, partial(roster_commands.get_roster, rt))
    answer(subjects.CMD_REVIEW_FINDING, AddFinding, partial(review.add_finding, rt))
    answer(subjects.CMD_REVIEW_ACTION, AddCorrectiveAction,
           partial(review.add_corrective_action, rt))  # fmt: skip

    # Durable consumers, shared by every engine replica: (filter, consumer name, handler).
    wait = rt.settings.ack_wait_seconds
    react(router, subjects.ON_INCIDENT_LOGGED, "engine-on-incident-logged", IncidentLogged,
          partial(reactions.on_incident_logged, rt), max_workers=8, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_PLAYBOOK_TRIGGERED, "engine-on-playbook-triggered", PlaybookTriggered,
          partial(reactions.on_playbook_triggered, rt), max_workers=8, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_TASK_COMPLETED, "engine-on-task-completed", TaskCompleted,
          partial(reactions.on_task_completed, rt), max_workers=8, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_TASK_DECLINED, "engine-on-task-declined", TaskDeclined,
          partial(reactions.on_task_declined, rt), max_workers=4, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_FOLLOW_UP_DUE, "engine-on-follow-up-due", FollowUpDue,
          partial(reactions.on_follow_up_due, rt), max_workers=4, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_FOLLOW_UP_TIMER, "engine-on-follow-up-timer", FollowUpDue,
          partial(reactions.on_follow_up_timer, rt), max_workers=4, ack_wait=wait,
          stream=TIMERS_JSTREAM)  # fmt: skip
    react(router, subjects.ON_INCIDENT_CLOSED, "engine-on-incident-closed", IncidentClosed,
          partial(closing.on_incident_closed, rt), max_workers=4, ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_PLAYBOOK_CANCELLED, "engine-on-playbook-cancelled",
          PlaybookCancelled, partial(cancelling.on_playbook_cancelled, rt), max_workers=4,
          ack_wait=wait)  # fmt: skip
    # Every change to a task sets its reminders and escalation steps; each fires on one replica.
    consume(router, subjects.ON_TASK_EVENTS, "engine-deadlines",
            partial(escalating.on_task_event, rt), max_workers=8, batch_size=64,
            ack_wait=wait)  # fmt: skip
    react(router, subjects.ON_DEADLINE_TIMER, "engine-on-deadline", DeadlineReached,
          partial(escalating.on_deadline, rt), max_workers=32, batch_size=128, ack_wait=wait,
          stream=TIMERS_JSTREAM)  # fmt: skip
    # Every event puts its incident's periodic seal off; the seal, once due, is written once.
    consume(router, subjects.ON_ANY_EVENT, "engine-record-seals",
            partial(record_sealing.on_event, rt), max_workers=4, batch_size=64,
            ack_wait=wait)  # fmt: skip
    consume(router, subjects.ON_SEAL_TIMER, "engine-on-seal-due",
            partial(record_sealing.on_seal_due, rt), max_workers=4, ack_wait=wait,
            stream=TIMERS_JSTREAM)  # fmt: skip
    consume(router, subjects.RECONCILE_TICK, "engine-reconcile", partial(reconcile.on_tick, rt),
            ack_wait=wait, stream=TIMERS_JSTREAM)  # fmt: skip
    consume(router, subjects.ON_ROSTER_LOADED, "engine-on-roster-loaded",
            partial(roster_changes.on_roster_loaded, rt), ack_wait=wait,
            stream=ROSTERS_JSTREAM)  # fmt: skip
    consume(router, subjects.ON_AWAY_CHANGED, "engine-on-away-changed",
            partial(roster_changes.on_away_changed, rt), ack_wait=wait,
            stream=ROSTERS_JSTREAM)  # fmt: skip
    return router


async def started(rt: Runtime) -> None:
    """Once connected: keep the reconciler's schedule, and sweep once now, so what a crash
    left unfinished is repaired without waiting for the first tick."""
    await reconcile.start_schedule(rt)
    await reconcile.sweep(rt)
