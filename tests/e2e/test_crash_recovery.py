"""An engine SIGKILLed in the middle of a fan-out, then started again, leaves the incident with
exactly the playbook's tasks: none lost, none duplicated."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from schemas import subjects
from schemas.base import incident_id_for
from schemas.commands import Reply
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.migrate import migrate
from tests.e2e.harness import ROSTER, Cli, Service, process_env, unexpected_tracebacks
from tests.support import free_port, raw_request, request_id

pytestmark = pytest.mark.e2e

TASKS = 600
ROLES = ("community_liaison", "victim_advocate", "peer_support")
INCIDENT_TYPE = "mass-drill"
RECOVERY_TIMEOUT = 30.0


def task_key(index: int) -> str:
    return f"drill-task-{index:04d}"


def write_playbook(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    playbook = {
        "id": "mass-drill",
        "title": f"Mass drill with {TASKS} tasks",
        "triggers": {"incident_types": [INCIDENT_TYPE], "auto": True},
        "tasks": [
            {
                "key": task_key(i),
                "title": f"Drill task {i}",
                "role": ROLES[i % len(ROLES)],
                "acknowledge_within": "PT1H",
                "due_within": "PT2H",
            }
            for i in range(TASKS)
        ],
    }
    (directory / "mass-drill.yaml").write_text(yaml.safe_dump(playbook, sort_keys=False))


@dataclass
class Cluster:
    """A bare nats-server and the environment for `pathways run` processes against it."""

    nats_url: str
    env: dict[str, str]
    log_dir: Path
    nc: Client
    services: list[Service]

    def run(self, name: str, label: str) -> Service:
        service = Service(label, ["run", name], self.env, self.log_dir)
        self.services.append(service)
        return service


@pytest.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    services: list[Service] = []
    try:
        playbooks = tmp_path / "playbooks"
        write_playbook(playbooks)
        env = process_env(
            PATHWAYS_NATS_URL=server.url,
            PATHWAYS_PLAYBOOKS_DIR=str(playbooks),
            PATHWAYS_ROSTER=str(ROSTER),
            PATHWAYS_ACK_WAIT_SECONDS="2",
        )
        nc = await connect(server.url, name="e2e-crash-recovery")
        try:
            await migrate(nc.jetstream())
            yield Cluster(server.url, env, tmp_path, nc, services)
        finally:
            await nc.close()
    finally:
        for service in services:
            await asyncio.to_thread(service.stop)
        await server.stop()


async def answers(nc: Client, subject: str, timeout: float = 30.0) -> Reply:
    """Wait until some service answers `subject`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            msg = await raw_request(nc, subject, b"{}", timeout=1.0)
            return Reply.model_validate_json(msg.data)
        except (NoRespondersError, NatsTimeout):
            if loop.time() > deadline:
                raise AssertionError(f"no service answers {subject} within {timeout:g}s") from None
            await asyncio.sleep(0.05)


async def created_per_subject(nc: Client, incident_id: str) -> dict[str, int]:
    """task.created messages persisted in the stream for the incident, by subject."""
    info = await nc.jetstream().stream_info(
        subjects.EVENTS_STREAM, subjects_filter=f"pw.evt.{incident_id}.task.*.created"
    )
    return dict(info.state.subjects or {})


async def test_engine_killed_mid_fan_out_and_restarted_creates_every_task_exactly_once(
    cluster: Cluster,
) -> None:
    nc = cluster.nc
    intake = cluster.run("intake", "intake")
    engine = cluster.run("engine", "engine-1")
    await intake.started()
    await engine.started()
    books = await answers(nc, subjects.QRY_PLAYBOOK_LIST)
    assert isinstance(books.data, list)
    assert [b["id"] for b in books.data] == ["mass-drill"]
    assert [b["task_count"] for b in books.data] == [TASKS]
    await answers(nc, subjects.QRY_INCIDENT_LIST)

    rid = request_id()
    incident_id = incident_id_for(rid)
    first_created = asyncio.Event()

    async def on_created(msg: Msg) -> None:
        if not first_created.is_set():
            engine.process.kill()  # SIGKILL, the moment the fan-out is seen to have begun
            first_created.set()

    sub = await nc.subscribe(f"pw.evt.{incident_id}.task.*.created", cb=on_created)
    try:
        logged = await Cli(cluster.nats_url).run_async(
            "incident",
            "log",
            "--type",
            INCIDENT_TYPE,
            "--title",
            "Drill",
            "--request-id",
            rid,
            "--as",
            "renee.alvarez",
        )
        logged_ok = logged.returncode == 0 and incident_id in logged.stdout
        assert logged_ok, str(logged)
        try:
            await asyncio.wait_for(first_created.wait(), 20)
        except TimeoutError:
            raise AssertionError(f"no task was created; {engine.describe()}") from None
    finally:
        await sub.unsubscribe()
    await asyncio.to_thread(engine.kill)
    assert engine.process.returncode == -9, engine.describe()
    await asyncio.sleep(0.5)  # let the server finish whatever the engine had already sent

    before = await created_per_subject(nc, incident_id)
    assert 0 < len(before) < TASKS, (
        f"the kill did not land mid fan-out: {len(before)} of {TASKS} tasks created"
    )
    assert set(before.values()) == {1}, {s: n for s, n in before.items() if n != 1}
    assert not engine.logged("run_in_place"), "the fan-out finished before the kill"

    restarted = cluster.run("engine", "engine-2")
    await restarted.started()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_TIMEOUT
    while not restarted.logged("run_in_place"):
        assert loop.time() < deadline, (
            f"the fan-out did not resume within {RECOVERY_TIMEOUT:g}s: "
            f"{len(await created_per_subject(nc, incident_id))} of {TASKS} tasks; "
            f"{restarted.describe()}"
        )
        await asyncio.sleep(0.1)
    # Both redelivered reactions (incident.logged and playbook.triggered) may resume the
    # fan-out; whichever runs, the stream must end with each task exactly once.
    finished = restarted.logged("run_in_place")
    assert {(f["incident_id"], f["created"]) for f in finished} == {(incident_id, TASKS)}

    after = await created_per_subject(nc, incident_id)
    expected = {subjects.task_event(incident_id, task_key(i), "created") for i in range(TASKS)}
    missing, unexpected = sorted(expected - set(after)), sorted(set(after) - expected)
    assert not missing, f"{len(missing)} tasks lost: {missing[:5]}"
    assert not unexpected, f"tasks not in the playbook: {unexpected[:5]}"
    duplicated = {s: n for s, n in after.items() if n != 1}
    assert not duplicated, f"{len(duplicated)} tasks created more than once: {duplicated}"
    for subject in before:
        assert after[subject] == 1

    # Every task of the incident has exactly one event so far: its creation.
    everything = await nc.jetstream().stream_info(
        subjects.EVENTS_STREAM, subjects_filter=f"pw.evt.{incident_id}.>"
    )
    per_subject = everything.state.subjects or {}
    assert sum(per_subject.values()) == TASKS + 3, (
        "expected incident.logged, one trigger, the tasks and the run recorded in place"
    )
    assert per_subject[subjects.playbook_triggered(incident_id)] == 1
    assert not unexpected_tracebacks(restarted.log_text()), restarted.describe()
