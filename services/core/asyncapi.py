"""The AsyncAPI 3.0 document of Pathways' NATS interface, built from schemas/catalog.py.

FastStream writes the document from a broker's subscribers and publishers. The services'
subscribers take raw messages (each body is parsed once, by its own model), which FastStream can
only describe as an empty payload; so this module declares, on a broker that never connects, a
typed stand-in for each operation (the request model as its argument, the reply model as its
return) and a publisher with a schema for each message family.

FastStream 0.7 does not write a subscriber's return type into the document, nor channel
parameters, so the JSON it produces is completed here: each operation gets an AsyncAPI `reply`
whose channel has no fixed address (the requester's inbox), each `{token}` of an address is
described, and the correlation id FastStream assumes (Pathways sends none) is left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

from faststream.nats import NatsBroker
from faststream.specification import AsyncAPI

from schemas.catalog import EVENTS, OPERATIONS, PARAMETERS, EventDoc, Operation
from services.core.settings import DEFAULT_NATS_URL

DESCRIPTION = (
    "Pathways over NATS. Commands (pw.cmd.*) and queries (pw.qry.*) are NATS request-reply: "
    "publish the request with a reply subject, and one replica of the serving service answers. "
    "Events are appended to the JetStream stream PATHWAYS_EVENTS (pw.evt.>) and never change; "
    "timers, dead letters and roster changes are the other messages services publish."
)
_PARAMETER = re.compile(r"\{(\w+)\}")


def reply_channel(operation: Operation) -> str:
    return f"{operation.subject}:Reply"


def _stand_in(operation: Operation) -> Callable[..., Awaitable[Any]]:
    """A handler whose signature says what the operation takes and gives; never called."""

    async def stand_in(body: Any) -> Any:
        raise NotImplementedError

    # Real classes, not strings: FastStream reads the payload schema from these annotations.
    stand_in.__annotations__ = {"body": operation.request, "return": operation.reply}
    stand_in.__name__ = operation.request.__name__
    return stand_in


def _broker() -> NatsBroker:
    # Never connected: it exists to be described. The URL is the one Pathways uses by default.
    broker = NatsBroker(
        DEFAULT_NATS_URL,
        specification_url=DEFAULT_NATS_URL,
        description="Where `pathways up` serves by default (PATHWAYS_NATS_URL sets another)",
    )
    for operation in OPERATIONS:
        broker.subscriber(
            operation.subject, title=operation.subject, description=operation.summary
        )(_stand_in(operation))
        # Declared on the request's subject only so FastStream writes the reply's schema;
        # _add_reply takes the address away again.
        broker.publisher(
            operation.subject,
            title=reply_channel(operation),
            description="The reply, on the reply subject the request named",
            schema=operation.reply,
        )
    for event in EVENTS:
        broker.publisher(
            event.subject, title=event.subject, description=event.summary, schema=event.model
        )
    return broker


def _add_reply(document: dict[str, Any], operation: Operation) -> None:
    """Turn the reply's channel into the operation's AsyncAPI reply: its address is whatever
    reply subject the request carried, so it has none of its own."""
    key = reply_channel(operation)
    channel = document["channels"][key]
    channel.pop("address", None)
    channel.pop("bindings", None)
    del document["operations"][key]
    served = document["operations"][operation.subject]
    served["summary"] = operation.summary
    served["tags"] = [{"name": operation.kind}]
    served["reply"] = {
        "channel": {"$ref": f"#/channels/{key}"},
        "messages": [{"$ref": f"#/channels/{key}/messages/{name}"} for name in channel["messages"]],
    }


def _describe_event(document: dict[str, Any], event: EventDoc) -> None:
    published = document["operations"][event.subject]
    published["summary"] = event.summary
    published["tags"] = [{"name": "event"}]


def _add_parameters(channel: dict[str, Any]) -> None:
    names = _PARAMETER.findall(channel.get("address") or "")
    if names:
        channel["parameters"] = {name: {"description": PARAMETERS[name]} for name in names}


def _in_catalog_order(document: dict[str, Any]) -> None:
    """Channels and operations in the catalog's order, components by name: a change to the
    catalog shows as a small change to the document."""
    served = [operation.subject for operation in OPERATIONS]
    published = [event.subject for event in EVENTS]
    replies = [reply_channel(operation) for operation in OPERATIONS]
    channels, operations = document["channels"], document["operations"]
    document["channels"] = {key: channels[key] for key in served + replies + published}
    document["operations"] = {key: operations[key] for key in served + published}
    components = document["components"]
    for part in ("messages", "schemas"):
        components[part] = dict(sorted(components[part].items()))


def _completed(document: dict[str, Any]) -> dict[str, Any]:
    for operation in OPERATIONS:
        _add_reply(document, operation)
    for event in EVENTS:
        _describe_event(document, event)
    for channel in document["channels"].values():
        _add_parameters(channel)
    for message in document["components"]["messages"].values():
        message.pop("correlationId", None)
    _in_catalog_order(document)
    return document


def specification() -> str:
    """The AsyncAPI document, as JSON."""
    generated = AsyncAPI(
        _broker(),
        title="Pathways",
        version=metadata.version("pathways"),
        description=DESCRIPTION,
    ).to_specification()
    document = _completed(json.loads(generated.to_json()))
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
