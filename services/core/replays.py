"""Replaying a dead letter to the consumer that failed it, when an operator asks.

Every reactor has a second durable consumer on its own replay subject. A request names the
dead-letter record it replays; if that record is no longer the dead letter's latest (resolved,
or replayed already), the request is stale and only acknowledged. Otherwise the original
message is read from its stream by sequence and handed to the same handler: on success the
dead letter is resolved, on failure it is dead again, with the new error.
"""

from __future__ import annotations

from faststream.nats import NatsMessage
from pydantic import ValidationError

from schemas.base import utc_now
from schemas.deadletters import DeadLetter, ReplayRequested, describe_error
from services.core.deadletters import DeadLetterStore
from services.core.delivery import STORE_RETRY_CAP, Reactor, in_progress, log_exception
from services.core.logging import get_logger
from services.core.retries import error_text

log = get_logger(__name__)


async def replay(reactor: Reactor, message: NatsMessage) -> None:
    try:
        request = ReplayRequested.model_validate_json(message.body)
    except ValidationError:
        log.error("replay_request_unreadable", consumer=reactor.replay_durable)
        await message.reject()
        return
    store = DeadLetterStore(reactor.js)
    try:
        await _replay(reactor, store, request, message)
    except Exception as error:
        # The outcome could not be stored: ask again later; the request is idempotent.
        delay = min(max(reactor.delays, default=1.0), STORE_RETRY_CAP)
        log.error(
            "replay_not_recorded", consumer=reactor.durable, dead_letter=request.id,
            error_type=type(error).__name__, retry_in=delay,
        )  # fmt: skip
        await message.nack(delay=delay)
        return
    await message.ack()


async def _replay(
    reactor: Reactor, store: DeadLetterStore, request: ReplayRequested, message: NatsMessage
) -> None:
    found = await store.find(request.id)
    if found is None or found.seq != request.letter_seq or not isinstance(found.record, DeadLetter):
        log.info("replay_skipped", consumer=reactor.durable, dead_letter=request.id)
        return
    letter = found.record
    try:
        original = await reactor.js.get_msg(letter.stream, seq=letter.stream_seq)
        async with in_progress(message, reactor.ack_wait):
            await reactor.handler(original.data or b"", letter.stream_seq)
    except Exception as error:
        again = letter.model_copy(
            update={
                "deliveries": letter.deliveries + 1,
                "replays": letter.replays + 1,
                "error_type": type(error).__name__,
                "error": describe_error(type(error).__name__, error_text(error)),
                "at": utc_now(),
            }
        )
        if await store.bury_again(again, found.seq):
            log.error(
                "reaction_dead_lettered", consumer=reactor.durable, seq=letter.stream_seq,
                deliveries=again.deliveries, error_type=again.error_type, dead_letter=letter.id,
                replay=True, exc_info=log_exception(error),
            )  # fmt: skip
        return
    if await store.resolve(letter, found.seq):
        log.info("dead_letter_resolved", consumer=reactor.durable, dead_letter=letter.id)
