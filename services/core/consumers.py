"""Durable consumers with the configuration the reactors need, on new and existing servers.

nats-py binds to a durable consumer that exists without looking at its configuration, so a
consumer created by an older Pathways would keep its old settings for ever: a `backoff` list,
whose first step the server uses as the ack wait, and a `max_deliver` after which the server
drops a message. Each consumer is checked at start and updated in place. Should a server
refuse the update, the consumer is deleted and created again from where it stood (its ack
floor): what was not acknowledged is redelivered, and reactions are idempotent.
"""

from __future__ import annotations

import math
from dataclasses import replace

from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, ConsumerInfo, DeliverPolicy
from nats.js.errors import APIError, NotFoundError

from services.core.logging import get_logger

log = get_logger(__name__)

# Redeliveries are counted by the reactor, which dead-letters after the last one; the server
# must never stop delivering on its own, or a message whose dead-lettering failed would be lost.
UNLIMITED = -1


def wanted(durable: str, subject_filter: str, ack_wait: float) -> ConsumerConfig:
    return ConsumerConfig(
        durable_name=durable,
        filter_subject=subject_filter,
        ack_policy=AckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ack_wait,
        max_deliver=UNLIMITED,
    )


def _as_wanted(current: ConsumerConfig, config: ConsumerConfig) -> bool:
    return (
        not current.backoff
        and current.max_deliver == UNLIMITED
        and math.isclose(current.ack_wait or 0, config.ack_wait or 0, rel_tol=1e-6)
        and current.filter_subject == config.filter_subject
    )


async def ensure_consumer(js: JetStreamContext, stream: str, config: ConsumerConfig) -> None:
    durable = config.durable_name or ""
    try:
        info = await js.consumer_info(stream, durable)
    except NotFoundError:
        await js.add_consumer(stream, config)
        return
    if _as_wanted(info.config, config):
        return
    updated = replace(
        info.config,
        backoff=None,
        max_deliver=UNLIMITED,
        ack_wait=config.ack_wait,
        filter_subject=config.filter_subject,
    )
    try:
        await js.add_consumer(stream, updated)
    except APIError as exc:
        log.warning("consumer_update_refused", consumer=durable, code=exc.err_code)
        await _recreate(js, stream, info, config)
        return
    log.info("consumer_updated", consumer=durable, ack_wait=config.ack_wait)


async def _recreate(
    js: JetStreamContext, stream: str, info: ConsumerInfo, config: ConsumerConfig
) -> None:
    start = (info.ack_floor.stream_seq if info.ack_floor else 0) + 1
    await js.delete_consumer(stream, info.name)
    await js.add_consumer(
        stream,
        replace(config, deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=start),
    )
    log.warning("consumer_recreated", consumer=info.name, from_seq=start)
