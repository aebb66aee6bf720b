"""The live roster on a real nats-server, with two engine replicas: a loaded version reaches every
running service without a restart; tasks nobody could take are offered again when a roster adds
a holder; someone away is skipped; a run keeps the version it pinned for its follow-ups."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from nats.aio.client import Client

from schemas import subjects
from schemas.availability import AwayPeriod
from schemas.base import task_id_for, utc_now
from schemas.enums import TaskStatus
from schemas.events import FollowUpDue
from schemas.roster import Roster
from schemas.roster_commands import EndAway, LoadRoster, RecordAway
from schemas.roster_versions import canonical_json, roster_version
from schemas.subjects import INDEX_BUCKET
from services.app import load_runtime
from services.core import indexes, listing
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.library import load_roster, read_playbook
from services.core.migrate import migrate
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.engine import reactions, reconcile, runs
from services.engine.choosing import Availability
from services.engine.tasks import load_run, load_task
from tests.integration.conftest import Caller, _answering
from tests.integration.helpers import log_incident, wait_for_tasks
from tests.support import ROOT, Serving, all_serving, eventually, free_port, request_id, with_key

pytestmark = pytest.mark.integration

EXAMPLE = ROOT / "rosters" / "example.yaml"
OIS_TASKS = len(read_playbook(ROOT / "playbooks" / "officer-involved-shooting.yaml").playbook.tasks)


@dataclass
class Live:
    caller: Caller
    engines: list[Runtime]
    others: Runtime  # intake, projector, timeline

    @property
    def everyone(self) -> list[Runtime]:
        return [*self.engines, self.others]


@pytest.fixture(scope="module")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    """A server of its own (the versions loaded here must not reach other tests), two engines
    and the other services, each started from the example roster file."""
    server = EmbeddedNats(tmp_path_factory.mktemp("live-roster"), free_port())
    await server.start()
    admin = await connect(server.url, name="tests-migrate")
    await migrate(admin.jetstream())
    await admin.close()
    settings = Settings(
        nats_url=server.url,
        playbooks_dir=ROOT / "playbooks",
        roster=EXAMPLE,
        ack_wait_seconds=2,
    )
    layout = [["engine"], ["engine"], ["intake", "projector", "timeline"]]
    runtimes = [with_key(load_runtime(settings)) for _ in layout]
    stop = asyncio.Event()
    running = [Serving(rt, names, stop) for rt, names in zip(runtimes, layout, strict=True)]
    nc: Client = await connect(server.url, name="tests-live-roster")
    try:
        await all_serving(running)
        await eventually(partial(_answering, server.url), timeout=30)
        yield Live(Caller(nc), runtimes[:2], runtimes[2])
    finally:
        stop.set()
        await asyncio.gather(*(each.task for each in running), return_exceptions=True)
        await nc.close()
        await server.stop()


def variant(tmp_path: Path, name: str, edit: str, replacement: str) -> Roster:
    """The example roster with one edit, as `pathways roster load` would read it."""
    text = EXAMPLE.read_text()
    assert edit in text, edit
    file = tmp_path / f"{name}.yaml"
    file.write_text(text.replace(edit, replacement, 1))
    return load_roster(file)


def inactive(tmp_path: Path, person: str) -> Roster:
    return variant(
        tmp_path,
        f"without-{person}",
        f"  - id: {person}\n",
        f"  - id: {person}\n    active: false\n",
    )


async def put_in_force(live: Live, roster: Roster) -> str:
    command = LoadRoster(
        request_id=request_id(),
        actor="renee.alvarez",
        source="test.yaml",
        roster=json.loads(canonical_json(roster)),
    )
    reply = await live.caller.ok(subjects.CMD_ROSTER_LOAD, command)
    assert isinstance(reply.data, dict)
    version = str(reply.data["version"])
    assert version == roster_version(roster)

    async def everywhere() -> bool:
        return all(rt.roster_version == version for rt in live.everyone)

    await eventually(everywhere, timeout=10)
    return version


async def test_a_loaded_version_reaches_every_running_service_without_a_restart(
    live: Live, tmp_path: Path
) -> None:
    renamed = variant(tmp_path, "renamed", "name: Dana Reyes", "name: Dana Reyes-Ortiz")
    version = await put_in_force(live, renamed)
    assert all(rt.roster == renamed and rt.roster_loaded is not None for rt in live.everyone)
    assert {rt.roster_loaded.loaded_by for rt in live.everyone if rt.roster_loaded} == {
        "renee.alvarez"
    }
    incident_id = await log_incident(live.caller, "officer-involved-shooting")
    await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
    run = await load_run(live.engines[0], incident_id)
    assert run is not None and run.roster_version == version
    again = await live.caller.ok(
        subjects.CMD_ROSTER_LOAD,
        LoadRoster(
            request_id=request_id(),
            actor="renee.alvarez",
            roster=json.loads(canonical_json(renamed)),
        ),
    )
    assert again.changed is False  # the same content is the same version


async def test_a_roster_refused_by_the_engine_changes_nothing(live: Live, tmp_path: Path) -> None:
    before = live.engines[0].roster_version
    text = json.loads(canonical_json(load_roster(EXAMPLE)))
    for role in text["roles"]:
        role["id"] = "interpreter-gone" if role["id"] == "interpreter" else role["id"]
    for member in text["members"]:
        member["roles"] = ["interpreter-gone" if r == "interpreter" else r for r in member["roles"]]
    refused = await live.caller(
        subjects.CMD_ROSTER_LOAD,
        LoadRoster(request_id=request_id(), actor="renee.alvarez", roster=text),
    )
    assert refused.error is not None
    assert "roles it does not declare: interpreter (hate-crime" in refused.error.message
    stranger = await live.caller(
        subjects.CMD_ROSTER_LOAD,
        LoadRoster(
            request_id=request_id(),
            actor="dana.reyes",
            roster=json.loads(canonical_json(load_roster(EXAMPLE))),
        ),
    )
    assert stranger.error is not None and "only command staff" in stranger.error.message
    await asyncio.sleep(0.5)
    assert all(rt.roster_version == before for rt in live.everyone)


async def nobody_index_lists(live: Live, task_id: str) -> bool:
    keys = await listing.keys(
        live.others.nc, INDEX_BUCKET, indexes.assignee_prefix(indexes.NOBODY) + ">"
    )
    return task_id in {indexes.task_of_assignee_key(k)[1] for k in keys}


async def test_a_task_nobody_could_take_is_assigned_once_a_roster_adds_a_holder(
    live: Live, tmp_path: Path
) -> None:
    nobody = variant(
        tmp_path,
        "no-pio",
        "    roles: [public_information]\n",
        "    roles: [command_staff]\n",
    )
    nobody = variant_of(nobody, tmp_path, "no-pio-at-all", "omar.haddad", "command_staff")
    await put_in_force(live, nobody)
    assert not live.engines[0].roster.holders("public_information")
    incident_id = await log_incident(live.caller, "officer-involved-shooting")
    tasks = await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
    statement = tasks["public-initial-statement"]
    assert (statement.status, statement.assignee) == (TaskStatus.UNASSIGNED, None)
    await eventually(partial(nobody_index_lists, live, statement.task_id))

    await put_in_force(live, load_roster(EXAMPLE))

    async def assigned() -> str | None:
        loaded = await load_task(live.engines[0].store, statement.task_id)
        return loaded.task.assignee if loaded else None

    holder = await eventually(assigned, timeout=15)
    assert holder in ("kim.liu", "omar.haddad")
    after = await load_task(live.engines[0].store, statement.task_id)
    assert after is not None and after.task.status is TaskStatus.ASSIGNED


def variant_of(roster: Roster, tmp_path: Path, name: str, person: str, role: str) -> Roster:
    """`roster` with `person` holding only `role`."""
    data = json.loads(canonical_json(roster))
    for member in data["members"]:
        if member["id"] == person:
            member["roles"] = [role]
    file = tmp_path / f"{name}.json"
    file.write_text(json.dumps(data))
    return Roster.model_validate(data)


async def test_someone_recorded_away_is_skipped_by_the_rotation(live: Live) -> None:
    example = load_roster(EXAMPLE)
    await put_in_force(live, example)
    now = utc_now()
    away = RecordAway(
        request_id=request_id(),
        actor="dana.reyes",
        person="dana.reyes",
        starts=now - timedelta(minutes=1),
        until=now + timedelta(hours=1),
    )
    recorded = await live.caller.ok(subjects.CMD_ROSTER_AWAY, away)
    assert recorded.changed and not (await live.caller.ok(subjects.CMD_ROSTER_AWAY, away)).changed
    # Log incidents until one whose rotation would have started with dana.reyes.
    for _ in range(12):
        incident_id = await log_incident(live.caller, "officer-involved-shooting")
        tasks = await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
        liaisons = [t for t in tasks.values() if t.role == "community_liaison" and t.assignee]
        assert all(t.assignee != "dana.reyes" for t in liaisons), liaisons
        run = await load_run(live.engines[0], incident_id)
        assert run is not None
        if "dana.reyes" in runs.assignees(run, example).values():
            break
    else:
        pytest.fail("no incident's rotation started with dana.reyes")
    # Each liaison task went to whom the rotation gives it with dana.reyes away: the next in turn.
    gone = AwayPeriod(
        person="dana.reyes",
        starts=away.starts,
        until=away.until,
        recorded_by="dana.reyes",
        recorded_at=now,
    )
    expected = runs.assignees(run, example, Availability(utc_now(), (gone,), example))
    for task in tasks.values():
        if task.role == "community_liaison" and task.status is not TaskStatus.SKIPPED:
            assert task.assignee == expected[task.key] != "dana.reyes", task


async def test_a_run_keeps_its_pinned_roster_for_follow_ups_after_another_is_loaded(
    live: Live, tmp_path: Path
) -> None:
    first = await put_in_force(live, load_roster(EXAMPLE))
    incident_id = await log_incident(live.caller, "officer-involved-shooting")
    tasks = await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
    parent = tasks["peer-support-defusing"]
    assert parent.assignee is not None
    second = inactive(tmp_path, parent.assignee)
    await put_in_force(live, second)
    engine = live.engines[1]
    engine.pinned_rosters.clear()  # read the pinned version back from the bucket
    run = await load_run(engine, incident_id)
    assert run is not None and run.roster_version == first
    due = FollowUpDue(
        event_id=f"{incident_id}.peer-support-defusing.follow-up-1.due",
        incident_id=incident_id,
        actor="engine",
        at=utc_now(),
        parent_key="peer-support-defusing",
        number=1,
        due_at=utc_now(),
        run=run.run,
    )
    await reactions.on_follow_up_due(engine, due)
    created = await load_task(
        engine.store, task_id_for(incident_id, runs.follow_up_key("peer-support-defusing", 1))
    )
    assert created is not None and created.task.assignee == parent.assignee
    # Under the version now in force, the follow-up would have gone to someone else.
    other = runs.follow_up_task(run, due, parent, second, utc_now())
    assert other is not None and other.task.assignee != parent.assignee
    assert re.fullmatch(r"[0-9a-f]{12}", first)


async def everyone_away(live: Live, role: str, until: datetime) -> tuple[str, ...]:
    """Under the example roster, record every holder of `role` away from a minute ago until
    `until` (as command staff); who they are."""
    await put_in_force(live, load_roster(EXAMPLE))
    holders = live.engines[0].roster.holders(role)
    now = utc_now()
    for person in holders:
        away = RecordAway(request_id=request_id(), actor="renee.alvarez", person=person,
                          starts=now - timedelta(minutes=1), until=until)  # fmt: skip
        assert (await live.caller.ok(subjects.CMD_ROSTER_AWAY, away)).changed
    return holders


async def test_a_task_nobody_could_take_while_they_were_away_is_assigned_when_one_is_back(
    live: Live,
) -> None:
    holders = await everyone_away(live, "public_information", utc_now() + timedelta(hours=1))
    try:
        incident_id = await log_incident(live.caller, "officer-involved-shooting")
        tasks = await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
        statement = tasks["public-initial-statement"]
        assert (statement.status, statement.assignee) == (TaskStatus.UNASSIGNED, None)

        back = EndAway(request_id=request_id(), actor=holders[0], person=holders[0])
        assert (await live.caller.ok(subjects.CMD_ROSTER_BACK, back)).changed
        assert not (await live.caller.ok(subjects.CMD_ROSTER_BACK, back)).changed

        async def assigned() -> str | None:
            loaded = await load_task(live.engines[0].store, statement.task_id)
            return loaded.task.assignee if loaded else None

        assert await eventually(assigned, timeout=15) == holders[0]
    finally:
        for person in holders:
            back = EndAway(request_id=request_id(), actor="renee.alvarez", person=person)
            await live.caller.ok(subjects.CMD_ROSTER_BACK, back)


async def test_only_the_person_or_command_staff_may_record_someone_back(live: Live) -> None:
    back = EndAway(request_id=request_id(), actor="dana.reyes", person="kim.liu")
    reply = await live.caller(subjects.CMD_ROSTER_BACK, back)
    assert not reply.ok and reply.error is not None
    assert "may not record kim.liu's availability" in reply.error.message


async def test_the_reconciler_offers_a_task_again_once_an_away_period_has_ended(
    live: Live,
) -> None:
    ends = utc_now() + timedelta(seconds=3)
    holders = await everyone_away(live, "public_information", ends)
    incident_id = await log_incident(live.caller, "officer-involved-shooting")
    tasks = await wait_for_tasks(live.caller, incident_id, OIS_TASKS)
    statement = tasks["public-initial-statement"]
    assert statement.status is TaskStatus.UNASSIGNED
    await asyncio.sleep(max(0.0, (ends - utc_now()).total_seconds()) + 0.2)

    swept = await reconcile.sweep(live.engines[0])

    loaded = await load_task(live.engines[0].store, statement.task_id)
    assert loaded is not None and loaded.task.assignee in holders
    assert swept.offered >= 1
