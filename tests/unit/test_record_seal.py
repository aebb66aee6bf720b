"""Seals on the record: an intact record verifies, and the first event deleted, altered, inserted
or moved is named, while events from before sealing began and a redelivered duplicate are not
held against it."""

from __future__ import annotations

import dataclasses

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.cli.timeline_verify import verdict_line
from services.core.assertions import Signer
from services.core.record_seal import (
    HEADER,
    MSG_ID,
    Fault,
    Linked,
    Message,
    Verdict,
    seal,
    subject_matches,
    verify,
)

INCIDENT = "pw.evt.INC-0000SEAL"
SIGNER = Signer(Ed25519PrivateKey.generate())


class Ledger:
    """Appends as the server takes them: each names the last sequence on its filter, which is
    what the server checks before it stores the message."""

    def __init__(self, start: int = 1) -> None:
        self.messages: list[Message] = []
        self.next_seq = start

    def append(self, tail: str, subject_filter: str | None = None, *, sealed: bool = True) -> None:
        subject = f"{INCIDENT}.{tail}"
        wanted = subject_filter or subject.rsplit(".", 1)[0] + ".>"
        last = max((m.seq for m in self.messages if subject_matches(m.subject, wanted)), default=0)
        body = f'{{"event":"{tail}","n":{self.next_seq}}}'.encode()
        msg_id = f"{tail}.{self.next_seq}"
        headers = {MSG_ID: msg_id}
        if sealed:
            headers[HEADER] = seal(SIGNER, subject, msg_id, body, Linked(wanted, last))
        self.messages.append(Message(self.next_seq, subject, body, headers))
        self.next_seq += 3  # other incidents' events fall in between


def incident(ledger: Ledger | None = None) -> list[Message]:
    ledger = ledger or Ledger()
    ledger.append("incident.logged", f"{INCIDENT}.incident.>")
    ledger.append("playbook.triggered")
    ledger.append("task.t1.created")
    ledger.append("task.t1.assigned")
    ledger.append("task.t2.created")
    ledger.append("task.t1.acknowledged")
    ledger.append("notice.n1.email.sent")
    ledger.append("task.t1.completed")
    return ledger.messages


def checked(messages: list[Message]) -> Verdict:
    return verify(messages, SIGNER.verifier)


def test_an_intact_record_verifies_with_its_digest() -> None:
    messages = incident()
    verdict = checked(messages)
    assert verdict.intact and verdict.events == 8 and verdict.before_sealing == 0
    assert len(verdict.digest) == 64
    assert checked(messages).digest == verdict.digest


def test_an_altered_body_is_named() -> None:
    messages = incident()
    changed = messages[3]
    messages[3] = dataclasses.replace(changed, body=changed.body.replace(b"}", b',"x":1}'))
    problem = checked(messages).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (changed.seq, Fault.ALTERED)
    assert "does not match" in problem.line()


def test_an_event_moved_to_another_subject_is_altered() -> None:
    messages = incident()
    moved = messages[4]
    messages[4] = dataclasses.replace(moved, subject=f"{INCIDENT}.task.t9.created")
    problem = checked(messages).problem
    assert problem is not None and (problem.seq, problem.fault) == (moved.seq, Fault.ALTERED)


def test_a_deleted_event_is_named_by_where_it_was() -> None:
    messages = incident()
    deleted = messages.pop(3)  # task.t1.assigned: task.t1.acknowledged was written after it
    problem = checked(messages).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (deleted.seq, Fault.DELETED)


def test_an_unsealed_event_published_onto_the_incident_is_inserted() -> None:
    ledger = Ledger()
    incident(ledger)
    ledger.append("task.t1.reopened", sealed=False)
    problem = checked(ledger.messages).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (ledger.messages[-1].seq, Fault.INSERTED)
    assert "no seal" in problem.line()


def test_an_event_sealed_with_another_key_is_named() -> None:
    messages = incident()
    other = Signer(Ed25519PrivateKey.generate())
    last = messages[-1]
    linked = Linked(f"{INCIDENT}.task.t1.>", last.seq)
    subject, body = f"{INCIDENT}.task.t1.reopened", b'{"event":"reopened"}'
    forged = Message(last.seq + 1, subject, body, {MSG_ID: "f", HEADER: ""})
    forged.headers[HEADER] = seal(other, subject, "f", body, linked)
    problem = checked([*messages, forged]).problem
    assert problem is not None and (problem.seq, problem.fault) == (forged.seq, Fault.ALTERED)


def test_a_copy_of_a_sealed_event_published_again_is_inserted() -> None:
    messages = incident()
    copy = dataclasses.replace(messages[3], seq=messages[-1].seq + 1)
    problem = checked([*messages, copy]).problem
    assert problem is not None and (problem.seq, problem.fault) == (copy.seq, Fault.INSERTED)


def test_reordered_events_are_named() -> None:
    messages = incident()
    # A copied stream with two events of one task swapped: each keeps its seal, the numbers move.
    first, second = messages[3], messages[5]
    messages[3] = dataclasses.replace(second, seq=first.seq)
    messages[5] = dataclasses.replace(first, seq=second.seq)
    problem = checked(messages).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (first.seq, Fault.INSERTED)


def test_events_from_before_sealing_are_counted_not_failed() -> None:
    ledger = Ledger()
    ledger.append("incident.logged", f"{INCIDENT}.incident.>", sealed=False)
    ledger.append("playbook.triggered", sealed=False)
    ledger.append("task.t1.created")
    ledger.append("task.t1.assigned")
    verdict = checked(ledger.messages)
    assert verdict.intact and verdict.before_sealing == 2 and verdict.events == 4


def test_a_record_with_no_seal_at_all_is_all_before_sealing() -> None:
    ledger = Ledger()
    ledger.append("incident.logged", f"{INCIDENT}.incident.>", sealed=False)
    verdict = checked(ledger.messages)
    assert verdict.intact and verdict.before_sealing == 1


def test_an_unsealed_event_after_sealing_began_is_inserted() -> None:
    ledger = Ledger()
    ledger.append("incident.logged", f"{INCIDENT}.incident.>", sealed=False)
    ledger.append("playbook.triggered")
    ledger.append("task.t1.created", sealed=False)
    problem = checked(ledger.messages).problem
    assert problem is not None
    assert (problem.seq, problem.fault) == (ledger.messages[2].seq, Fault.INSERTED)


def test_a_redelivered_event_stored_again_verifies() -> None:
    """A reaction redelivered after a crash (past the dedup window) appends the same event, with
    the same message id, again: sealed afresh, expecting what the stream holds now. The record
    stays intact."""
    messages = incident()
    original = messages[6]  # notice.n1.email.sent
    msg_id = original.headers[MSG_ID]
    linked = Linked(original.subject.rsplit(".", 1)[0] + ".>", original.seq)
    again = Message(
        messages[-1].seq + 1,
        original.subject,
        original.body,
        {MSG_ID: msg_id, HEADER: seal(SIGNER, original.subject, msg_id, original.body, linked)},
    )
    verdict = checked([*messages, again])
    assert verdict.intact and verdict.events == 9


def test_the_digest_changes_with_any_event() -> None:
    messages = incident()
    before = checked(messages).digest
    assert checked(messages[:-1]).digest != before


def test_subject_matching() -> None:
    assert subject_matches("pw.evt.I.task.k.created", "pw.evt.I.task.k.>")
    assert subject_matches("pw.evt.I.task.k.created", "pw.evt.*.task.*.created")
    assert not subject_matches("pw.evt.I.task.k", "pw.evt.I.task.k.>")
    assert not subject_matches("pw.evt.I.task.kk.created", "pw.evt.I.task.k.>")
    assert not subject_matches("pw.evt.I.task.k.created.x", "pw.evt.*.task.*.created")


def test_the_verdict_is_one_line_that_says_what_was_verified() -> None:
    ledger = Ledger()
    ledger.append("incident.logged", f"{INCIDENT}.incident.>", sealed=False)
    unsealed = checked(ledger.messages)
    assert verdict_line("INC-0000SEAL", unsealed).startswith(
        "INC-0000SEAL: not sealed: 1 events, all before sealing began (nothing to verify), digest "
    )
    ledger.append("playbook.triggered")
    partly = verdict_line("INC-0000SEAL", checked(ledger.messages))
    assert partly.startswith(
        "INC-0000SEAL: intact: 2 events (1 before sealing began), no periodic seal yet "
        "(all 2 unpinned), digest "
    )
    messages = incident()
    deleted = messages.pop(3)
    line = verdict_line("INC-0000SEAL", checked(messages))
    assert line.startswith(f"INC-0000SEAL: deleted: event seq {deleted.seq} (")
    assert "\n" not in line
