"""Reading events written by other versions: newer ones (extra fields, unknown types) and older
ones (upcast to the current shape). Writing stays strict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from schemas.commands import ErrorCode, LogIncident
from schemas.enums import TaskStatus, Tier
from schemas.events import ANY_EVENT, SCHEMA_VERSION, IncidentLogged, TaskDeclined, TaskNoted
from schemas.evolution import (
    UnknownEventType,
    UnreadableEvent,
    Upcasters,
    read_event,
    read_event_for_replay,
    task_snapshot_of,
)
from schemas.principals import Principal
from schemas.sealed import Sealed
from schemas.tasks import TaskNote
from services.core.errors import Unprocessable
from services.core.reactors import read_as
from services.core.rpc import answer
from tests.support import AUDITOR
from tests.unit.factories import T0, a_task, an_incident


def newer(event: IncidentLogged | TaskDeclined, **extra: Any) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(event.model_dump_json())
    raw.update(extra)
    return raw


def declined() -> TaskDeclined:
    return TaskDeclined(
        event_id="INC-AAAAAAAA.family-contact.declined.r1",
        incident_id="INC-AAAAAAAA",
        actor="priya.nair",
        at=T0,
        task=a_task(status=TaskStatus.UNASSIGNED, assignee=None),
        reason="On leave",
    )


def test_every_event_is_written_with_its_schema_version() -> None:
    assert json.loads(an_incident().model_dump_json())["schema_version"] == SCHEMA_VERSION


def test_fields_a_newer_version_added_are_ignored_when_reading() -> None:
    raw = newer(an_incident(), priority_hint="elevated", schema_version=2)
    raw["involved"] = []
    body = json.dumps(raw)
    with pytest.raises(ValidationError):  # the strict shape refuses it...
        ANY_EVENT.validate_json(body)
    event = read_event(body)  # ...the reading path does not
    assert isinstance(event, IncidentLogged) and event.incident_id == "INC-AAAAAAAA"


def test_nested_fields_a_newer_version_added_are_ignored() -> None:
    raw = newer(declined())
    raw["task"]["escalation_level"] = 2
    event = read_event(json.dumps(raw))
    assert isinstance(event, TaskDeclined) and event.task.key == "family-contact"


def test_events_and_commands_we_build_stay_strict() -> None:
    with pytest.raises(ValidationError):
        IncidentLogged.model_validate({**newer(an_incident()), "priority_hint": "x"})
    with pytest.raises(ValidationError):
        LogIncident.model_validate_json(
            '{"request_id":"abcdefgh","actor":"a","incident_type":"x","title":"t","extra":1}'
        )


def test_events_stored_before_versions_existed_still_read() -> None:
    raw = newer(an_incident())
    del raw["schema_version"]
    assert read_event(json.dumps(raw)) == an_incident()


def test_an_unknown_type_is_reported_with_its_type_only() -> None:
    raw = {**newer(declined()), "type": "task.reassessed", "escalation_level": 2}
    with pytest.raises(UnknownEventType) as caught:
        read_event(json.dumps(raw))
    assert caught.value.event_type == "task.reassessed"
    # A task event of a kind we do not know still carries the task after it.
    snapshot = task_snapshot_of(caught.value)
    assert snapshot is not None and snapshot.task_id == "INC-AAAAAAAA.family-contact"


def test_what_cannot_be_read_even_tolerantly_is_unreadable() -> None:
    for body in ("not json", "[1, 2]", '{"type": "Robert\'); DROP TABLE"}'):
        with pytest.raises(UnreadableEvent) as caught:
            read_event(body)
        assert caught.value.event_type is None
    raw = newer(declined())
    raw["task"]["status"] = "escalated"  # a status this version does not have
    with pytest.raises(UnreadableEvent) as unreadable:
        read_event(json.dumps(raw))
    assert unreadable.value.event_type == "task.declined"
    assert not isinstance(unreadable.value, UnknownEventType)


# A hypothetical version 0 of task.declined, before two fields were renamed: the decline reason
# was `why` and the person who declined was `declined_by`.
V0_DECLINED: dict[str, Any] = {
    "schema_version": 0,
    "type": "task.declined",
    "event_id": "INC-AAAAAAAA.family-contact.declined.r1",
    "incident_id": "INC-AAAAAAAA",
    "declined_by": "priya.nair",
    "at": "2026-11-21T08:00:00Z",
    "task": json.loads(a_task(status=TaskStatus.UNASSIGNED, assignee=None).model_dump_json()),
    "why": "On leave",
}


def with_v0_upcaster() -> Upcasters:
    upcasters = Upcasters()

    @upcasters.register("task.declined", 0)
    def renamed_reason_and_actor(raw: dict[str, Any]) -> dict[str, Any]:
        raw["reason"] = raw.pop("why")
        raw["actor"] = raw.pop("declined_by")
        return raw

    return upcasters


def test_an_upcaster_brings_an_old_shape_to_the_current_one() -> None:
    event = read_event(json.dumps(V0_DECLINED), with_v0_upcaster())
    assert event == declined()
    assert event.schema_version == SCHEMA_VERSION
    with pytest.raises(UnreadableEvent):  # without it, the old shape cannot be read
        read_event(json.dumps(V0_DECLINED), Upcasters())


def test_upcasters_are_only_for_older_versions() -> None:
    with pytest.raises(ValueError, match="not older"):
        Upcasters().register("task.declined", SCHEMA_VERSION)(lambda raw: raw)


def test_a_reaction_refuses_what_it_cannot_read_instead_of_skipping_it() -> None:
    raw = {**newer(declined()), "type": "task.reassessed"}
    with pytest.raises(Unprocessable):
        read_as(TaskDeclined, json.dumps(raw).encode(), "test", seq=9)
    with pytest.raises(Unprocessable):  # readable, but not what this consumer handles
        read_as(TaskDeclined, an_incident().model_dump_json().encode(), "test", seq=9)
    extra = json.dumps(newer(declined(), reopen_hint=True)).encode()
    assert read_as(TaskDeclined, extra, "test", seq=9) == declined()


async def test_a_command_on_state_this_version_cannot_read_is_refused_clearly() -> None:
    async def handler(command: LogIncident, principal: Principal) -> object:
        raise Unprocessable("pw.evt.INC-AAAAAAAA.task.x.escalated (seq 9): cannot be read")

    raw = LogIncident(request_id="abcdefgh", actor="a", incident_type="x", title="t")
    reply = await answer(raw.model_dump_json().encode(), LogIncident, handler, AUDITOR)  # type: ignore[arg-type]
    assert reply.error is not None and reply.error.code is ErrorCode.CONFLICT
    assert "newer version" in reply.error.message


# Written before roles were the roster's own: `role` held one of five fixed values. The shape is
# unchanged (a string), so these read as they are, with no upcaster.
STORED_BEFORE_ROSTER_ROLES = """{
  "schema_version": 1,
  "type": "task.created",
  "event_id": "INC-AAAAAAAA.community-leader-briefing.created",
  "incident_id": "INC-AAAAAAAA",
  "actor": "engine",
  "at": "2026-03-02T08:00:00Z",
  "task": {
    "task_id": "INC-AAAAAAAA.community-leader-briefing",
    "incident_id": "INC-AAAAAAAA",
    "key": "community-leader-briefing",
    "title": "Brief faith and community leaders",
    "role": "community_liaison",
    "phase": "immediate",
    "instructions": "",
    "tier": "command",
    "required": true,
    "depends_on": [],
    "status": "assigned",
    "assignee": "dana.reyes",
    "declined_by": [],
    "acknowledge_by": "2026-03-02T10:00:00Z",
    "due_by": "2026-03-03T08:00:00Z",
    "note": null,
    "notes": [],
    "follow_up_of": null,
    "exercise": false
  }
}"""


def test_a_task_event_stored_with_a_classic_role_still_reads() -> None:
    event = read_event(STORED_BEFORE_ROSTER_ROLES)
    assert event.type == "task.created"
    assert event.task.role == "community_liaison"


def test_a_run_stored_with_classic_roles_still_reads() -> None:
    raw = json.loads(STORED_BEFORE_ROSTER_ROLES)
    run = {
        "type": "playbook.triggered",
        "event_id": "INC-AAAAAAAA.playbook.triggered",
        "incident_id": "INC-AAAAAAAA",
        "actor": "engine",
        "at": raw["at"],
        "playbook_id": "officer-involved-shooting",
        "playbook_title": "Officer-involved shooting",
        "version": "0123456789ab",
        "trigger": "automatic",
        "incident_logged_at": raw["at"],
        "tasks": [
            {
                "key": key,
                "title": key,
                "role": role,
                "acknowledge_within": "PT1H",
                "due_within": "P1D",
                "assignee": {"partner": True, "language": None},
            }
            for key, role in (("activation", "command_staff"), ("debriefing", "peer_support"))
        ],
    }  # no schema_version: stored before versions existed
    event = read_event(json.dumps(run))
    assert event.type == "playbook.triggered"
    assert [t.role for t in event.tasks] == ["command_staff", "peer_support"]


# Written before restricted text was sealed: the note and the reason in plain text.
STORED_BEFORE_SEALING = {
    "schema_version": 1,
    "type": "task.declined",
    "event_id": "INC-AAAAAAAA.family-contact.declined.priya.nair",
    "incident_id": "INC-AAAAAAAA",
    "actor": "priya.nair",
    "at": "2026-03-02T08:00:00Z",
    "task": {
        **json.loads(a_task(status=TaskStatus.UNASSIGNED, assignee=None).model_dump_json()),
        "notes": [
            {
                "author": "priya.nair",
                "at": "2026-03-02T07:00:00Z",
                "tier": "restricted",
                "text": "Knows the family",
            }
        ],
    },
    "reason": "Knows the family",
}


def test_restricted_text_stored_in_plain_before_sealing_still_reads() -> None:
    event = read_event(json.dumps(STORED_BEFORE_SEALING))
    assert isinstance(event, TaskDeclined)
    assert (event.reason, event.reason_sealed) == ("Knows the family", None)
    assert [(n.text, n.sealed) for n in event.task.notes] == [("Knows the family", None)]
    assert (event.task.note, event.task.note_sealed) == (None, None)


def test_a_sealed_decline_reads_back_as_it_was_written() -> None:
    sealed = Sealed(
        scope="team.victim-services", key_id="k1a2", nonce="A" * 16, ciphertext="B" * 40
    )
    written = declined().model_copy(update={"reason": None, "reason_sealed": sealed})
    assert read_event(written.model_dump_json()) == written


def noted(count: int) -> TaskNoted:
    notes = tuple(
        TaskNote(author="priya.nair", at=T0, tier=Tier.PUBLIC, text=f"note {n}")
        for n in range(count)
    )
    return TaskNoted(
        event_id=f"INC-AAAAAAAA.family-contact.noted.{count}",
        incident_id="INC-AAAAAAAA",
        actor="priya.nair",
        at=T0,
        task=a_task(notes=notes),
    )


def test_a_replay_reads_a_task_event_with_its_newest_note_only() -> None:
    event = noted(5)
    replayed = read_event_for_replay(event.model_dump_json())
    assert isinstance(replayed, TaskNoted)
    assert [n.text for n in replayed.task.notes] == ["note 4"]
    # Everything else is read as the full reading reads it.
    assert replayed.task.model_copy(update={"notes": event.task.notes}) == event.task
    assert read_event_for_replay(noted(1).model_dump_json()) == noted(1)
    assert read_event_for_replay(an_incident().model_dump_json()) == an_incident()


def with_newest_note(event: TaskNoted) -> TaskNoted:
    task = event.task.model_copy(update={"notes": event.task.notes[-1:]})
    return event.model_copy(update={"task": task})


def noted_with(texts: list[str]) -> TaskNoted:
    notes = tuple(TaskNote(author="priya.nair", at=T0, tier=Tier.PUBLIC, text=t) for t in texts)
    return noted(0).model_copy(update={"task": a_task(notes=notes)})


# Text that looks like the bytes the replay cuts by: inside a JSON string every quote is escaped.
TRICKY = [
    '"notes":[{',
    ',{"author":"omar.haddad"}',
    '}],"follow_up_of":"x"',
    '\\"}],',
    "Заметка\u2028 \x00 ملاحظة",
]


@given(st.lists(st.sampled_from(TRICKY) | st.text(max_size=40), min_size=1, max_size=6))
def test_a_replay_cuts_notes_only_where_the_full_reading_would(texts: list[str]) -> None:
    event = noted_with(texts)
    assert read_event_for_replay(event.model_dump_json()) == with_newest_note(event)


def test_a_body_not_shaped_as_the_services_write_it_is_read_in_full() -> None:
    event = noted_with(["first", "second", "third"])
    spaced = json.dumps(json.loads(event.model_dump_json()), indent=1)
    assert read_event_for_replay(spaced) == read_event(spaced) == event


def test_a_replay_reads_what_cannot_be_read_as_the_full_reading_does() -> None:
    for body in ("not json", "[1, 2]", json.dumps({"type": "task.renamed"})):
        with pytest.raises(UnreadableEvent) as full:
            read_event(body)
        with pytest.raises(UnreadableEvent) as replay:
            read_event_for_replay(body)
        assert (type(replay.value), replay.value.event_type, replay.value.reason) == (
            type(full.value),
            full.value.event_type,
            full.value.reason,
        )
