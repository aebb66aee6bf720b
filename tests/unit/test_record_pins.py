"""Periodic seals: what one pins, and what the check of a record makes of it — the deletion of
an incident's last events, which breaks no link between events, is named once a seal pinned
them; removing a seal breaks the next; what came after the latest seal is counted."""

from __future__ import annotations

import dataclasses

from schemas.events import AnyEvent, RecordSealed
from services.cli.timeline_verify import verdict_line
from services.core import access
from services.core.eventstore import Stored, Unrecognised
from services.core.record_pins import next_seal
from services.core.record_seal import HEADER, MSG_ID, Fault, Linked, Message, seal
from services.engine.record_sealing import incident_to_seal
from services.timeline.render import Reading
from services.timeline.service import shown_entries
from tests.support import AUDITOR, example_roster
from tests.unit.factories import T0, an_incident
from tests.unit.test_record_seal import INCIDENT, SIGNER, Ledger, checked, incident

INCIDENT_ID = INCIDENT.rsplit(".", 1)[1]
SEALS = f"{INCIDENT}.record.>"


def append_seal(ledger: Ledger, pinned: list[Message] | None = None) -> RecordSealed:
    """The engine's periodic seal of what it read (`pinned`, by default the whole record), as
    the server stores it: expecting the previous seal to be the last on the record subject."""
    made = next_seal(INCIDENT_ID, pinned if pinned is not None else ledger.messages, T0)
    assert made is not None
    subject, body = f"{INCIDENT}.record.sealed", made.model_dump_json().encode()
    linked = Linked(SEALS, made.previous_seal_seq)
    headers = {MSG_ID: made.event_id, HEADER: seal(SIGNER, subject, made.event_id, body, linked)}
    ledger.messages.append(Message(ledger.next_seq, subject, body, headers))
    ledger.next_seq += 3
    return made


def test_a_seal_pins_the_count_digest_and_every_sequence_so_far() -> None:
    ledger = Ledger()
    messages = incident(ledger)
    made = append_seal(ledger)
    assert made.events == 8 and made.through_seq == messages[7].seq
    assert made.previous_seal_seq == 0
    assert made.seqs == tuple(m.seq for m in messages[:8])
    assert made.digest == checked(messages[:8]).digest
    assert next_seal(INCIDENT_ID, ledger.messages, T0) is None  # nothing new since
    assert next_seal(INCIDENT_ID, [], T0) is None


def test_the_next_seal_links_to_the_previous_and_pins_what_came_since() -> None:
    ledger = Ledger()
    incident(ledger)
    first = append_seal(ledger)
    first_seq = ledger.messages[-1].seq
    ledger.append("task.t2.assigned")
    second = append_seal(ledger)
    assert second.previous_seal_seq == first_seq and second.events == 10
    assert second.seqs == (first_seq, ledger.messages[-2].seq)
    assert second.event_id != first.event_id
    verdict = checked(ledger.messages)
    assert verdict.intact and verdict.latest_seal == ledger.messages[-1].seq


def test_an_intact_record_counts_what_came_after_the_latest_seal() -> None:
    ledger = Ledger()
    incident(ledger)
    append_seal(ledger)
    sealed_at = ledger.messages[-1].seq
    ledger.append("task.t2.assigned")
    ledger.append("task.t2.acknowledged")
    verdict = checked(ledger.messages)
    assert verdict.intact and (verdict.latest_seal, verdict.unpinned) == (sealed_at, 2)
    line = verdict_line(INCIDENT_ID, verdict)
    assert f"11 events, 2 after the latest seal (seq {sealed_at}), digest " in line


def test_deleting_the_last_events_before_a_seal_names_the_first_missing() -> None:
    ledger = Ledger()
    messages = incident(ledger)
    # Without a periodic seal the deletion of an aggregate's last events breaks no link.
    assert checked(messages[:-2]).intact
    append_seal(ledger)
    sealed = ledger.messages[-1]
    tampered = [*ledger.messages[:6], sealed]  # notice.n1.email.sent and task.t1.completed gone
    verdict = checked(tampered)
    assert verdict.problem is not None
    assert (verdict.problem.seq, verdict.problem.fault) == (messages[6].seq, Fault.DELETED)
    line = verdict_line(INCIDENT_ID, verdict)
    assert line == (
        f"{INCIDENT_ID}: deleted: event seq {messages[6].seq} ({INCIDENT}.>): "
        f"8 events sealed at seq {sealed.seq}, 6 found"
    )


def test_removing_a_seal_breaks_the_next() -> None:
    ledger = Ledger()
    incident(ledger)
    append_seal(ledger)
    first = ledger.messages[-1]
    ledger.append("task.t2.assigned")
    append_seal(ledger)
    problem = checked([m for m in ledger.messages if m is not first]).problem
    assert problem is not None and (problem.seq, problem.fault) == (first.seq, Fault.DELETED)


def test_an_event_between_a_seals_read_and_its_append_is_pinned_by_the_next() -> None:
    ledger = Ledger()
    incident(ledger)
    read = list(ledger.messages)
    ledger.append("task.t2.assigned")  # lands after the engine read the record
    between = ledger.messages[-1]
    append_seal(ledger, read)
    assert checked(ledger.messages).intact
    ledger.append("task.t2.acknowledged")
    second = append_seal(ledger)
    assert between.seq in second.seqs
    without = [m for m in ledger.messages if m is not between]
    problem = checked(without).problem
    assert problem is not None and (problem.seq, problem.fault) == (between.seq, Fault.DELETED)


def test_an_event_inserted_before_a_seal_with_the_right_count_of_events_is_caught() -> None:
    ledger = Ledger()
    messages = incident(ledger)
    append_seal(ledger)
    # One pinned event swapped for another copy sealed afresh on its own (empty) filter.
    original = messages[4]
    swapped = dataclasses.replace(
        original, subject=f"{INCIDENT}.task.t7.created", headers=dict(original.headers)
    )
    subject, body, msg_id = swapped.subject, swapped.body, swapped.headers[MSG_ID]
    linked = Linked(f"{INCIDENT}.task.t7.>", 0)
    swapped.headers[HEADER] = seal(SIGNER, subject, msg_id, body, linked)
    tampered = [*ledger.messages[:4], swapped, *ledger.messages[5:]]
    problem = checked(tampered).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (ledger.messages[-1].seq, Fault.ALTERED)


def test_every_event_but_a_seal_puts_its_incidents_seal_off() -> None:
    ledger = Ledger()
    incident(ledger)
    made = append_seal(ledger)
    assert incident_to_seal(made.model_dump_json().encode()) is None  # no seal of a seal
    unknown = b'{"type":"task.reopened","incident_id":"INC-0000SEAL","later":1}'
    assert incident_to_seal(unknown) == INCIDENT_ID  # a newer version's event counts too
    for body in (b"not json", b"[1]", b'{"type":"x","incident_id":"nope"}'):
        assert incident_to_seal(body) is None


def test_the_timeline_leaves_a_periodic_seal_out() -> None:
    logged = an_incident(incident_id=INCIDENT_ID, event_id=f"{INCIDENT_ID}.logged")
    made = next_seal(INCIDENT_ID, incident(), T0)
    assert made is not None
    stored: list[Stored[AnyEvent] | Unrecognised] = [
        Stored(logged, 1, f"{INCIDENT}.incident.logged"),
        Stored(made, 2, f"{INCIDENT}.record.sealed"),
        Unrecognised("task.reopened", 3, f"{INCIDENT}.task.t1.reopened", T0),
    ]
    reading = Reading(access.reader_of(AUDITOR, example_roster()), example_roster())
    shown = shown_entries(stored, reading)
    assert [entry.seq for entry in shown] == [1, 3]
