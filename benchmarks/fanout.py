"""Phase (a), fan-out: log an incident whose playbook assigns 30 tasks at once, and time on the
server clock how long the stored events took, from incident.logged to the 30th task.created."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.errors import NotFoundError

from benchmarks.bench import Bench
from benchmarks.common import (
    ACTOR,
    FANOUT_TIMEOUT,
    INCIDENT_TYPE,
    PLAYBOOK_ID,
    REQUEST_TIMEOUT,
    TASKS_PER_PLAYBOOK,
    say,
)
from schemas import subjects
from schemas.commands import LogIncident
from services.core.rpc import call
from tests.support import caller

CREATED_SUBJECTS = "pw.evt.*.task.*.created"


class CreatedWatch:
    """Counts `task.*.created` events per incident as the server publishes them (a plain core
    subscription; the timing itself comes from the stored messages' server timestamps)."""

    def __init__(self) -> None:
        self._counts: dict[str, int] = {}
        self._complete: dict[str, float] = {}
        self._waiters: dict[str, asyncio.Future[float]] = {}

    def complete(self, incident_id: str) -> asyncio.Future[float]:
        """Resolves with the perf_counter() at which the incident's last task was seen."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        if incident_id in self._complete:
            future.set_result(self._complete.pop(incident_id))
        else:
            self._waiters[incident_id] = future
        return future

    async def on_message(self, msg: Msg) -> None:
        incident_id = msg.subject.split(".")[2]
        count = self._counts.get(incident_id, 0) + 1
        self._counts[incident_id] = count
        if count != TASKS_PER_PLAYBOOK:
            return
        seen = time.perf_counter()
        waiter = self._waiters.pop(incident_id, None)
        if waiter is None:
            self._complete[incident_id] = seen
        elif not waiter.done():
            waiter.set_result(seen)


@dataclass(frozen=True)
class FanOut:
    incident_id: str
    total_ms: float  # incident.logged stored -> last task.created stored (server clock)
    to_triggered_ms: float  # incident.logged -> playbook.triggered
    to_first_task_ms: float  # playbook.triggered -> first task.created
    tasks_span_ms: float  # first task.created -> last task.created
    client_ms: float  # client: command sent -> 30th task.created seen


def fan_out_subjects(incident_id: str) -> list[str]:
    """The incident's logged event, its playbook run, then each of its 30 task creations."""
    return [
        subjects.incident_logged(incident_id),
        subjects.playbook_triggered(incident_id),
        *(
            subjects.task_event(incident_id, f"task-{i + 1:02d}", "created")
            for i in range(TASKS_PER_PLAYBOOK)
        ),
    ]


class FanOutPhase:
    """Logs incidents one at a time; each waits until all its tasks have been created.
    Subscribe before the first incident (the watch counts the task creations)."""

    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.watch = CreatedWatch()
        self._subscription: Subscription | None = None

    async def subscribe(self) -> None:
        self._subscription = await self.bench.nc.subscribe(
            CREATED_SUBJECTS, cb=self.watch.on_message
        )

    async def unsubscribe(self) -> None:
        if self._subscription is not None:
            await self._subscription.unsubscribe()
            self._subscription = None

    async def log_incident(self, index: int) -> tuple[str, float]:
        request_id = f"bench-{self.bench.run_id}-{index:06d}"
        command = LogIncident(
            request_id=request_id,
            actor=ACTOR,
            incident_type=INCIDENT_TYPE,
            title=f"Benchmark incident {index}",
        )
        signed = caller(command)
        sent = time.perf_counter()
        reply = await call(
            self.bench.nc, subjects.CMD_INCIDENT_LOG, command, signed, timeout=REQUEST_TIMEOUT
        )
        if not reply.ok or not isinstance(reply.data, dict):
            raise RuntimeError(f"log incident refused: {reply.error}")
        if reply.data.get("automatic_playbook") != PLAYBOOK_ID:
            raise RuntimeError(f"{PLAYBOOK_ID} was not triggered automatically: {reply.data}")
        incident_id: str = reply.data["incident"]["incident_id"]
        return incident_id, sent

    async def once(self, index: int) -> FanOut:
        incident_id, sent = await self.log_incident(index)
        seen = await asyncio.wait_for(self.watch.complete(incident_id), FANOUT_TIMEOUT)
        self.bench.incidents.append(incident_id)
        logged, triggered, created = await self.times(incident_id)
        return FanOut(
            incident_id=incident_id,
            total_ms=(max(created) - logged) / 1e6,
            to_triggered_ms=(triggered - logged) / 1e6,
            to_first_task_ms=(min(created) - triggered) / 1e6,
            tasks_span_ms=(max(created) - min(created)) / 1e6,
            client_ms=(seen - sent) * 1000,
        )

    async def times(self, incident_id: str) -> tuple[int, int, list[int]]:
        """Server timestamps of the incident, its run and each of its 30 task creations."""
        wanted = fan_out_subjects(incident_id)
        found: dict[str, int] = {}
        for _ in range(500):
            await self._read_missing(wanted, found)
            if len(found) == len(wanted):
                return found[wanted[0]], found[wanted[1]], [found[s] for s in wanted[2:]]
            await asyncio.sleep(0.002)  # seen by the core subscription, not yet readable
        raise RuntimeError(f"events of {incident_id} never all became readable")

    async def _read_missing(self, wanted: list[str], found: dict[str, int]) -> None:
        """Direct-get the stored timestamps not yet in `found`; not-yet-stored ones stay out."""
        missing = [s for s in wanted if s not in found]
        results = await asyncio.gather(
            *(self.bench.get(subjects.EVENTS_STREAM, subject=s) for s in missing),
            return_exceptions=True,
        )
        for subject, result in zip(missing, results, strict=True):
            if isinstance(result, int):
                found[subject] = result
            elif not isinstance(result, NotFoundError):
                raise result

    async def run(self, count: int, label: str) -> list[FanOut]:
        results: list[FanOut] = []
        for index in range(count):
            results.append(await self.once(len(self.bench.incidents)))
            if (index + 1) % 50 == 0:
                say(f"{label}: {index + 1}/{count} incidents")
        return results
