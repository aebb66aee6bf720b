"""Load for the cluster failover test: incidents logged and tasks acted on over request-reply,
as a client would. A command that is not answered (the stream has no leader for a moment, a
service is reconnecting) is sent again with the same request id until it is; every attempt is
timed, and what the services acknowledged is kept in a ledger to audit the stream against.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import nats.errors
from nats.aio.client import Client
from nats.js import JetStreamContext

from schemas import subjects
from schemas.base import incident_id_for, task_id_for
from schemas.commands import ActOnTask, Command, ErrorCode, LogIncident, Reply, TaskVerb
from schemas.events import ANY_EVENT, AnyTaskEvent
from schemas.principals import Principal
from schemas.tasks import TaskSnapshot
from tests.e2e.harness import playbook_tasks
from tests.support import principal_for, raw_request, request_id

INCIDENT_TYPE = "officer-involved-shooting"
COMMANDER = "renee.alvarez"
ATTEMPT_TIMEOUT = 6.0  # a little over the services' own 5 s JetStream timeout
COMMAND_DEADLINE = 60.0
FAN_OUT_DEADLINE = 60.0
# Answers that mean "not now", not "no": the client retries them with the same request id.
RETRYABLE = {ErrorCode.INTERNAL, ErrorCode.UNAVAILABLE, ErrorCode.CONFLICT}

# Per incident: acknowledge then complete one task, complete another (which releases the
# debriefing that depends on it), acknowledge a third. None of them waits on another task.
ACKED_THEN_COMPLETED = "command-activation"
COMPLETED = "peer-support-defusing"
RELEASED_BY_COMPLETED = "peer-support-debriefing"
ACKED = "community-leader-briefing"
PLAN = (
    (ACKED_THEN_COMPLETED, TaskVerb.ACKNOWLEDGE),
    (ACKED_THEN_COMPLETED, TaskVerb.COMPLETE),
    (COMPLETED, TaskVerb.COMPLETE),
    (ACKED, TaskVerb.ACKNOWLEDGE),
)


def playbook_keys() -> set[str]:
    return {task["key"] for task in playbook_tasks()}


@dataclass(frozen=True)
class Attempt:
    started: float
    ended: float
    answered: bool
    changed: bool


@dataclass(frozen=True)
class Acted:
    """A task command the services acknowledged, and the task as their reply gave it."""

    task_id: str
    verb: TaskVerb
    request_id: str
    task: TaskSnapshot
    attempts: int


@dataclass
class Ledger:
    incidents: dict[str, str] = field(default_factory=dict)  # incident id -> request id
    actions: list[Acted] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    retried: int = 0  # commands answered only after more than one attempt
    retried_unchanged: int = 0  # ... whose answer said the first attempt had already landed
    rounds: list[tuple[float, float]] = field(default_factory=list)  # (began, finished)
    answered: list[tuple[str, Command]] = field(default_factory=list)  # every command answered
    # Set each time an incident is logged: the engine is reacting to it right now.
    logged: asyncio.Event = field(default_factory=asyncio.Event)

    def rounds_begun_after(self, moment: float) -> int:
        """Rounds begun after `moment` and finished."""
        return sum(1 for began, _ in self.rounds if began > moment)

    def first_write_after(self, moment: float) -> float | None:
        """When the first attempt begun after `moment` was answered with a change."""
        ends = [a.ended for a in self.attempts if a.started >= moment and a.changed]
        return min(ends) if ends else None


class Driver:
    def __init__(self, nc: Client, ledger: Ledger) -> None:
        self.nc = nc
        self.js: JetStreamContext = nc.jetstream(timeout=2.0)
        self.ledger = ledger
        self.keys = playbook_keys()
        self._numbers = itertools.count(1)

    async def command(self, subject: str, command: Command) -> Reply:
        """Send until answered; the same body, so the same request id, every time."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + COMMAND_DEADLINE
        body = command.model_dump_json().encode()
        for attempt in itertools.count(1):
            started = loop.time()
            reply = await self._attempt(subject, body, principal_for(command))
            answered = reply is not None and reply.ok
            changed = answered and reply is not None and reply.changed
            self.ledger.attempts.append(Attempt(started, loop.time(), answered, changed))
            if reply is not None and reply.ok:
                self.ledger.answered.append((subject, command))
                if attempt > 1:
                    self.ledger.retried += 1
                    self.ledger.retried_unchanged += not reply.changed
                return reply
            if loop.time() > deadline:
                raise AssertionError(f"{subject} {command.request_id}: no answer in time")
            await asyncio.sleep(0.1)
        raise AssertionError("unreachable")

    async def _attempt(self, subject: str, body: bytes, principal: Principal) -> Reply | None:
        try:
            msg = await raw_request(self.nc, subject, body, principal, ATTEMPT_TIMEOUT)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            return None
        reply = Reply.model_validate_json(msg.data)
        if not reply.ok:
            assert reply.error is not None
            assert reply.error.code in RETRYABLE, f"{subject} refused: {reply.error}"
        return reply

    async def log_incident(self) -> str:
        rid = request_id()
        command = LogIncident(
            request_id=rid,
            actor=COMMANDER,
            incident_type=INCIDENT_TYPE,
            title=f"Cluster drill {next(self._numbers)}",
        )
        reply = await self.command(subjects.CMD_INCIDENT_LOG, command)
        assert isinstance(reply.data, dict)
        incident_id = incident_id_for(rid)
        assert reply.data["incident"]["incident_id"] == incident_id, reply
        self.ledger.incidents[incident_id] = rid
        self.ledger.logged.set()
        return incident_id

    async def fanned_out(self, incident_id: str) -> None:
        """Wait until every task of the playbook exists (created or skipped)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FAN_OUT_DEADLINE
        while loop.time() < deadline:
            try:
                info = await self.js.stream_info(
                    subjects.EVENTS_STREAM, subjects_filter=subjects.incident_tasks(incident_id)
                )
            except nats.errors.Error:  # no stream leader right now
                await asyncio.sleep(0.2)
                continue
            if {s.split(".")[4] for s in info.state.subjects or {}} >= self.keys:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{incident_id}: the playbook's tasks were not all created in time")

    async def task(self, incident_id: str, key: str) -> TaskSnapshot:
        """The task now, from its last event (a direct get: any replica answers)."""
        while True:
            try:
                msg = await self.js.get_msg(
                    subjects.EVENTS_STREAM,
                    subject=subjects.task_filter(incident_id, key),
                    direct=True,
                )
                break
            except nats.errors.Error:
                await asyncio.sleep(0.2)
        assert msg.data is not None
        event = ANY_EVENT.validate_json(msg.data)
        assert isinstance(event, AnyTaskEvent)
        return event.task

    async def act(self, incident_id: str, key: str, verb: TaskVerb) -> None:
        task = await self.task(incident_id, key)
        assert task.assignee is not None, task
        rid = request_id()
        command = ActOnTask(
            request_id=rid,
            actor=task.assignee,
            verb=verb,
            task_id=task_id_for(incident_id, key),
        )
        before = len(self.ledger.attempts)
        reply = await self.command(subjects.CMD_TASK_ACT, command)
        snapshot = TaskSnapshot.model_validate(reply.data)
        attempts = len(self.ledger.attempts) - before
        self.ledger.actions.append(Acted(command.task_id, verb, rid, snapshot, attempts))

    async def round(self) -> None:
        """One incident: logged, fanned out, and its planned task commands."""
        loop = asyncio.get_running_loop()
        began = loop.time()
        incident_id = await self.log_incident()
        await self.fanned_out(incident_id)
        for key, verb in PLAN:
            await self.act(incident_id, key, verb)
        self.ledger.rounds.append((began, loop.time()))

    async def replay(self) -> list[str]:
        """Send every answered command once more, as a client that never saw the answer
        would; each must change nothing. Returns the ones that did."""
        answered = list(self.ledger.answered)
        replies = await asyncio.gather(*(self.command(s, c) for s, c in answered))
        return [
            f"{s} {c.request_id}" for (s, c), r in zip(answered, replies, strict=True) if r.changed
        ]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.round()
