"""Connecting to NATS (the streams and buckets are set up by services.core.migrate)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import nats
from faststream.nats import JStream, NatsBroker, NatsMessage
from faststream.types import BrokerMiddleware
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.kv import KeyValue

from schemas.subjects import EVENTS, INCIDENTS_BUCKET, ROSTERS_STREAM, TASKS_BUCKET, TIMERS
from services.core.logging import BROKER_LOGGER

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

# Subscribers bind to the streams `pathways migrate` declares; FastStream must not re-declare
# them with its own idea of the configuration (nor may a service user change one).
EVENTS_JSTREAM = JStream(EVENTS.name, declare=False)
TIMERS_JSTREAM = JStream(TIMERS.name, declare=False)
# The roster bucket's stream: the engine reacts to a new version put in force.
ROSTERS_JSTREAM = JStream(ROSTERS_STREAM, declare=False)


async def undecoded(message: NatsMessage) -> NatsMessage:
    """Hand handlers the message itself: our bodies are parsed once, by the pydantic model that
    owns them, not first by FastStream's JSON decoder."""
    return message


def without_credentials(url: str) -> str:
    """The server list as it may be printed: no user name or password."""
    shown = []
    for server in url.split(","):
        userinfo_end = server.rfind("@")
        if userinfo_end != -1:
            scheme, has_scheme, _ = server.partition("://")
            host = server[userinfo_end + 1 :]
            server = f"{scheme}://{host}" if has_scheme else host
        shown.append(server)
    return ",".join(shown)


class NatsUnreachable(Exception):
    def __init__(self, url: str) -> None:
        super().__init__(f"cannot reach NATS at {without_credentials(url)}")
        self.url = without_credentials(url)


def new_broker(url: str, metrics: CollectorRegistry | None = None) -> NatsBroker:
    """A broker for the services; with `metrics`, FastStream counts and times every message
    there (the gateway serves them)."""
    middlewares: tuple[BrokerMiddleware[Any, Any], ...] = ()
    if metrics is not None:
        from services.core.broker_metrics import message_metrics

        middlewares = (message_metrics(metrics),)
    return NatsBroker(
        servers=url.split(","),
        # FastStream's per-message lines are debug-level: a busy engine handles thousands of
        # messages a second. Its logger is quietened in services.core.logging.
        logger=logging.getLogger(BROKER_LOGGER),
        log_level=logging.DEBUG,
        connect_timeout=2,
        max_reconnect_attempts=-1,
        allow_reconnect=True,
        graceful_timeout=10.0,
        # Handlers take the raw message and validate it themselves; FastStream's per-call
        # dependency resolution ran in a worker thread and cost more than the work.
        apply_types=False,
        middlewares=middlewares,
    )


ErrorCallback = Callable[[Exception], Awaitable[None]]


async def quiet(_: Exception) -> None:
    """nats-py logs every failed attempt with a traceback; callers report failures themselves."""


class InvalidNatsUrl(ValueError):
    pass


URL_SCHEMES = ("nats", "tls", "ws", "wss")


def check_url(url: str) -> None:
    """Raise InvalidNatsUrl unless every comma-separated server is scheme://host[:port]."""
    for server in url.split(","):
        parsed = urlsplit(server.strip())
        try:
            port = parsed.port
        except ValueError:
            port = -1
        if parsed.scheme not in URL_SCHEMES or not parsed.hostname or port == -1:
            raise InvalidNatsUrl(
                f"invalid NATS URL {without_credentials(server)!r}: expected nats://HOST:PORT "
                "(several separated by commas)"
            )


async def connect(url: str, name: str = "pathways-cli", on_error: ErrorCallback = quiet) -> Client:
    """A plain client for short-lived callers (CLI, benchmarks); one clear error if unreachable.
    `on_error` hears what the server reports asynchronously, such as a permissions violation."""
    check_url(url)
    try:
        return await nats.connect(
            servers=url.split(","),
            name=name,
            connect_timeout=2,
            # nats-py reads 0 as "retry forever"; 1 means two quick tries, then a clear error.
            max_reconnect_attempts=1,
            reconnect_time_wait=0.2,
            allow_reconnect=False,
            error_cb=on_error,
        )
    except (OSError, nats.errors.NoServersError, nats.errors.TimeoutError) as exc:
        raise NatsUnreachable(url) from exc


async def tasks_bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(TASKS_BUCKET)


async def incidents_bucket(js: JetStreamContext) -> KeyValue:
    return await js.key_value(INCIDENTS_BUCKET)
