"""FastStream's Prometheus metrics for our broker (`faststream_received_messages_total`, …),
in the registry the gateway serves on `/metrics`.

FastStream's NATS middleware labels each received message with its subject. Event subjects
carry incident and task ids (`pw.evt.<incident>.task.<key>.<verb>`), so that would add time
series for every incident, without end. Here a JetStream message is labelled with the stream
and durable consumer that delivered it, and a request with its subject (a fixed list). Imported
only by a process that serves metrics: prometheus_client costs a tenth of a second to import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from faststream.message.message import StreamMessage
from faststream.prometheus import ConsumeAttrs, PrometheusMiddleware
from faststream.response import PublishCommand
from nats.aio.msg import Msg
from prometheus_client import CollectorRegistry

JETSTREAM_ACK_PREFIX = "$JS.ACK."


def handler_label(message: Msg) -> str:
    """`stream/consumer` for a JetStream delivery, else the subject (a request)."""
    if message.reply and message.reply.startswith(JETSTREAM_ACK_PREFIX):
        metadata = message.metadata
        return f"{metadata.stream}/{metadata.consumer}"
    return message.subject


class _SubscriptionNames:
    """FastStream's MetricsSettingsProvider for NATS, labelling by subscription."""

    __slots__ = ()
    messaging_system = "nats"

    def get_consume_attrs_from_message(self, msg: StreamMessage[Msg]) -> ConsumeAttrs:
        return {
            "destination_name": handler_label(msg.raw_message),
            "message_size": len(msg.body),
            "messages_count": 1,
        }

    def get_publish_destination_name_from_cmd(self, cmd: PublishCommand) -> str:
        # Replies are not counted, and events are published through nats-py, not the broker:
        # what reaches here is a fixed subject.
        return cmd.destination


_PROVIDER = _SubscriptionNames()


def _provider_for(message: Msg | Sequence[Msg] | None) -> _SubscriptionNames | None:
    # None is the publishing side; a sequence (batch subscribers) or a key-value watch entry
    # is never delivered to our subscribers, so they are left unmeasured.
    return _PROVIDER if message is None or isinstance(message, Msg) else None


def message_metrics(registry: CollectorRegistry) -> PrometheusMiddleware[Any, Any]:
    return PrometheusMiddleware(
        settings_provider_factory=_provider_for,
        registry=registry,
        app_name="pathways",
    )
