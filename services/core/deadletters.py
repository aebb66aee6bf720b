"""The dead-letter stream: storing, reading, resolving and asking to replay dead letters.

Every write names the last sequence it expects on the dead letter's subject, so each state
change happens once however often it is retried: a second dead-lettering of the same message,
or a replay answered twice, is refused by the server and taken as already done.
"""

from __future__ import annotations

from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from schemas import subjects
from schemas.base import utc_now
from schemas.deadletters import (
    LETTER_RECORD,
    DeadLetter,
    DeadLetterResolved,
    ReplayRequested,
)
from services.core.eventstore import WRONG_LAST_SEQUENCE
from services.core.readers import read_messages


@dataclass(frozen=True)
class Letter:
    """A dead letter's current record and its sequence in the dead-letter stream."""

    record: DeadLetter | DeadLetterResolved
    seq: int


class DeadLetterStore:
    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def _write(
        self, record: DeadLetter | DeadLetterResolved, msg_id: str, last_seq: int
    ) -> bool:
        """Append the record if the dead letter is still at `last_seq` (0: none yet); False if
        it moved on already."""
        headers = {"Nats-Msg-Id": msg_id, "Nats-Expected-Last-Subject-Sequence": str(last_seq)}
        try:
            await self._js.publish(
                subjects.dead_letter(record.consumer, record.id),
                record.model_dump_json().encode(),
                stream=subjects.DEAD_LETTERS_STREAM,
                headers=headers,
            )
        except APIError as exc:
            if exc.err_code == WRONG_LAST_SEQUENCE:
                return False
            raise
        return True

    async def bury(self, letter: DeadLetter) -> bool:
        """Store a message's first dead letter; False if it has one already (a redelivery of
        a message whose dead-lettering was not yet acknowledged)."""
        return await self._write(letter, f"{letter.id}.dead", 0)

    async def bury_again(self, letter: DeadLetter, replayed: int) -> bool:
        """A replay of the dead letter at sequence `replayed` failed too."""
        return await self._write(letter, f"{letter.id}.dead.{replayed}", replayed)

    async def resolve(self, letter: DeadLetter, replayed: int) -> bool:
        resolved = DeadLetterResolved(
            id=letter.id,
            consumer=letter.consumer,
            stream=letter.stream,
            stream_seq=letter.stream_seq,
            subject=letter.subject,
            at=utc_now(),
        )
        return await self._write(resolved, f"{letter.id}.resolved.{replayed}", replayed)

    async def find(self, letter_id: str) -> Letter | None:
        try:
            msg = await self._js.get_msg(
                subjects.DEAD_LETTERS_STREAM, subject=subjects.dead_letter_by_id(letter_id),
                direct=True,
            )  # fmt: skip
        except NotFoundError:
            return None
        assert msg.data is not None and msg.seq is not None
        return Letter(LETTER_RECORD.validate_json(msg.data), msg.seq)

    async def dead(self) -> list[Letter]:
        """Every dead letter not resolved yet, oldest first."""
        messages = await read_messages(
            self._js, subjects.DEAD_LETTERS_STREAM, subjects.LETTERS_ALL, last_per_subject=True
        )
        letters = [Letter(LETTER_RECORD.validate_json(m.data), m.metadata.sequence.stream)
                   for m in messages]  # fmt: skip
        return sorted(
            (letter for letter in letters if isinstance(letter.record, DeadLetter)),
            key=lambda letter: letter.record.at,
        )

    async def request_replay(self, letter: DeadLetter, seq: int, requested_by: str) -> None:
        """Ask the consumer that failed the message to run it again; asking twice for the same
        record is deduplicated, and a stale request is ignored by the consumer."""
        request = ReplayRequested(
            id=letter.id, letter_seq=seq, requested_by=requested_by, at=utc_now()
        )
        await self._js.publish(
            subjects.replay_request(letter.consumer, letter.id),
            request.model_dump_json().encode(),
            stream=subjects.DEAD_LETTERS_STREAM,
            headers={"Nats-Msg-Id": f"{letter.id}.replay.{seq}"},
        )
