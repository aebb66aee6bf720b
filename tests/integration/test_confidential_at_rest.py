"""Restricted text is ciphertext wherever NATS keeps it: a raw read of every stream, every bucket
and every file of the server's store finds none of it. Its author's team opens it with their
key; command staff, reviewers, administrators and other teams see the marker and never the
envelope; once the team's key is erased, nobody reads it again."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest
from nats.aio.client import Client
from pydantic import BaseModel

from schemas import subjects
from schemas.base import split_task_id
from schemas.commands import (
    ActOnTask,
    AssignTask,
    GetTask,
    GetTimeline,
    NoteTask,
    Reply,
    TaskVerb,
)
from schemas.enums import TaskStatus, Tier
from schemas.events import AnyEvent, TaskCompleted
from schemas.principals import AccessRole, Principal, Via
from schemas.tasks import TaskSnapshot
from schemas.views import Timeline, TimelineEntry
from services.core import access
from services.core.confidential import ERASED, open_view, seal_command
from services.core.embedded import EmbeddedNats
from services.core.eventstore import Stored
from services.core.rpc import Caller as Signed
from services.core.rpc import call
from services.core.runtime import Runtime
from services.core.sealing import Keyring
from services.timeline.render import Reading, entries
from tests.integration.conftest import Caller
from tests.integration.helpers import log_incident, tasks_of, wait_for_tasks
from tests.raw_reads import every_message, files_holding
from tests.support import AUDITOR, eventually, request_id, signing

pytestmark = pytest.mark.integration

AISHA, TOM, PRIYA = "aisha.grant", "tom.kowalski", "priya.nair"  # peer support ×2; victim services
HIDDEN = "[restricted: visible to Peer Support Team only]"


def person(who: str, via: Via = Via.TOKEN) -> Principal:
    return Principal(account=who, person=who, via=via)


ADMIN = Principal(account="root", via=Via.TOKEN, grants=frozenset({AccessRole.ADMIN}))
# Everyone who must not read Aisha's restricted text, whatever else they may see: command staff,
# a reviewer, an administrator, another team, a partner, an operator typing `--as aisha.grant`.
OUTSIDERS = (
    person("renee.alvarez"),
    AUDITOR,
    ADMIN,
    person("dana.reyes"),
    person("helen.park"),
    person(AISHA, Via.OPERATOR),
)


@dataclass(frozen=True)
class Written:
    incident_id: str
    defusing: str  # noted and completed by Aisha
    debriefing: str  # declined by Aisha
    family: str  # noted by Priya, of another team
    canary: str  # in every restricted text Aisha wrote
    public: str  # in a public note: what a raw read must find, so finding nothing means something
    other_team: str  # in Priya's restricted note


@dataclass(frozen=True)
class Edge:
    """Sends commands as the gateway and the command line do: restricted text sealed first."""

    caller: Caller
    runtime: Runtime
    ring: Keyring

    async def send(self, command: NoteTask | ActOnTask, task_tier: Tier) -> None:
        sealed = seal_command(self.ring, self.runtime.roster, command, task_tier=task_tier)
        subject = subjects.CMD_TASK_NOTE if isinstance(command, NoteTask) else subjects.CMD_TASK_ACT
        await self.caller.ok(subject, sealed)

    async def note(self, author: str, task_id: str, text: str, tier: Tier) -> None:
        note = NoteTask(
            request_id=request_id(), actor=author, task_id=task_id, text=text, tier=tier
        )
        await self.send(note, tier)

    async def act(self, actor: str, task: TaskSnapshot, verb: TaskVerb, **text: str) -> None:
        command = ActOnTask(
            request_id=request_id(), actor=actor, verb=verb, task_id=task.task_id, **text
        )
        await self.send(command, task.tier)

    async def assign(self, task: TaskSnapshot, to: str) -> None:
        command = AssignTask(
            request_id=request_id(), actor="renee.alvarez", task_id=task.task_id, to=to
        )
        await self.caller.ok(subjects.CMD_TASK_ASSIGN, command)


async def write_everything(edge: Edge) -> Written:
    incident_id = await log_incident(edge.caller, "drill-chain")
    tasks = await wait_for_tasks(edge.caller, incident_id, 5)
    defusing, debriefing, family = tasks["defusing"], tasks["debriefing"], tasks["family-contact"]
    # Tom declines the defusing first: having declined it, he may still read it later.
    await edge.assign(defusing, TOM)
    await edge.act(TOM, defusing, TaskVerb.DECLINE, reason="On another call")
    for task, to in ((defusing, AISHA), (debriefing, AISHA), (family, PRIYA)):
        await edge.assign(task, to)
    uid = uuid.uuid4()
    written = Written(
        incident_id,
        defusing.task_id,
        debriefing.task_id,
        family.task_id,
        f"CANARY-{uid}",
        f"PUBLIC-{uid}",
        f"OTHER-TEAM-{uid}",
    )
    canary = written.canary
    await edge.note(AISHA, defusing.task_id, f"note {canary}", Tier.RESTRICTED)
    await edge.note(AISHA, defusing.task_id, f"public {written.public}", Tier.PUBLIC)
    await edge.act(AISHA, debriefing, TaskVerb.DECLINE, reason=f"reason {canary}")
    await edge.act(AISHA, defusing, TaskVerb.COMPLETE, note=f"done {canary}")
    await edge.note(PRIYA, family.task_id, f"family {written.other_team}", Tier.RESTRICTED)
    await projected(edge.caller, written)
    return written


async def projected(caller: Caller, written: Written) -> None:
    """Wait until the projections hold all of it, so the buckets are read with it."""

    async def settled() -> bool:
        tasks = await tasks_of(caller, written.incident_id)
        return (
            tasks["defusing"].status is TaskStatus.COMPLETED
            and AISHA in tasks["debriefing"].declined_by
            and bool(tasks["family-contact"].notes)
        )

    await eventually(settled, what="the projections to catch up")


@pytest.fixture
def edge(caller: Caller, runtime: Runtime, tmp_path: Path) -> Edge:
    return Edge(caller, runtime, Keyring(tmp_path / "keys", create_missing=True))


async def test_a_raw_read_of_every_stream_bucket_and_file_finds_no_restricted_text(
    edge: Edge, nc: Client, nats_server: EmbeddedNats
) -> None:
    written = await write_everything(edge)
    stored = await every_message(nc.jetstream())
    read = {m.stream for m in stored}
    assert {subjects.EVENTS_STREAM, subjects.TIMERS_STREAM, f"KV_{subjects.TASKS_BUCKET}"} <= read
    # What was written in plain is there to be found, in the events and the task records...
    public = {m.stream for m in stored if m.holds(written.public)}
    assert {subjects.EVENTS_STREAM, f"KV_{subjects.TASKS_BUCKET}"} <= public
    # ...what was restricted is in no stream, bucket or dead letter, whoever wrote it.
    for secret in (written.canary, written.other_team):
        assert [(m.stream, m.seq, m.subject) for m in stored if m.holds(secret)] == []

    store = nats_server.data_dir

    async def on_disk() -> bool:
        return bool(files_holding(store, written.public))

    await eventually(on_disk, what="the public note in the store's files")
    assert files_holding(store, written.canary) == []
    assert files_holding(store, written.other_team) == []


async def ask(nc: Client, subject: str, query: BaseModel, principal: Principal) -> Reply:
    return await call(nc, subject, query, Signed(signing()[0], principal), timeout=10)


async def test_the_team_opens_it_others_get_the_marker_and_after_an_erase_nobody_reads_it(
    edge: Edge, nc: Client
) -> None:
    written = await write_everything(edge)
    canary, ring = written.canary, edge.ring
    get = GetTask(task_id=written.defusing)

    # Tom, of Aisha's team, gets her texts sealed and opens them with the team's key.
    as_tom = TaskSnapshot.model_validate(
        (await ask(nc, subjects.QRY_TASK_GET, get, person(TOM))).data
    )
    assert as_tom.notes[0].sealed is not None and as_tom.note_sealed is not None
    opened = open_view(ring, as_tom)
    assert [n.text for n in opened.notes] == [f"note {canary}", f"public {written.public}"]
    assert opened.note == f"done {canary}"
    reason = open_view(ring, declined_by_aisha(await timeline_for(edge, written, person(TOM))))
    assert reason.note == f"reason {canary}"

    # Command staff and reviewers read the task and the timeline: the marker, never the envelope.
    for principal in (person("renee.alvarez"), AUDITOR):
        task = await ask(nc, subjects.QRY_TASK_GET, get, principal)
        timeline = await ask(
            nc, subjects.QRY_TIMELINE, GetTimeline(incident_id=written.incident_id), principal
        )
        assert_only_markers(TaskSnapshot.model_validate(task.data))
        entries_shown = Timeline.model_validate(timeline.data).entries
        assert declined_by_aisha(entries_shown).note == HIDDEN
        for answer in (task, timeline):
            assert canary not in answer.model_dump_json()
            assert '"ciphertext"' not in answer.model_dump_json()
    # An administrator and another team may not even read the task.
    for principal in (ADMIN, person("dana.reyes")):
        refused = await ask(nc, subjects.QRY_TASK_GET, get, principal)
        assert refused.error is not None and refused.data is None
    # Nor would any outsider get more from the views, were they given the task or the timeline.
    stored = await edge.runtime.store.last(subjects.task_filter(*split_task_id(written.defusing)))
    assert stored is not None and isinstance(stored.event, TaskCompleted)
    roster = edge.runtime.roster
    for principal in OUTSIDERS:
        reader = access.reader_of(principal, roster)
        assert_only_markers(access.task_view(reader, roster, stored.event.task))
        assert declined_by_aisha(await timeline_for(edge, written, principal)).note == HIDDEN

    # Erasing the team's key erases its notes for everyone; another team's still open.
    ring.erase("team.peer-support")
    after = open_view(ring, as_tom)
    assert [n.text for n in after.notes] == [ERASED, f"public {written.public}"]
    assert after.note == ERASED
    reason = open_view(ring, declined_by_aisha(await timeline_for(edge, written, person(TOM))))
    assert reason.note == ERASED
    as_priya = await ask(nc, subjects.QRY_TASK_GET, GetTask(task_id=written.family), person(PRIYA))
    family = open_view(ring, TaskSnapshot.model_validate(as_priya.data))
    assert family.notes[0].text == f"family {written.other_team}"


def assert_only_markers(task: TaskSnapshot) -> None:
    restricted = [n for n in task.notes if n.tier is Tier.RESTRICTED]
    assert [(n.text, n.sealed) for n in restricted] == [(HIDDEN, None)]
    assert (task.note, task.note_sealed) == (HIDDEN, None)


async def timeline_for(edge: Edge, written: Written, principal: Principal) -> list[TimelineEntry]:
    """The timeline as the view functions give it to `principal` (the query itself is for
    command staff and reviewers only)."""
    history = await edge.runtime.store.history(subjects.incident_events(written.incident_id))
    events: list[tuple[AnyEvent, int]] = [
        (s.event, s.seq) for s in history if isinstance(s, Stored)
    ]
    roster = edge.runtime.roster
    return list(entries(events, Reading(access.reader_of(principal, roster), roster)))


def declined_by_aisha(shown: list[TimelineEntry] | tuple[TimelineEntry, ...]) -> TimelineEntry:
    return next(e for e in shown if e.type == "task.declined" and e.actor == AISHA)
