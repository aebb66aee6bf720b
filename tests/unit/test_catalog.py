"""The catalog names every subject the services serve and every event they store, and the
AsyncAPI document built from it gives each a real payload schema."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from typing import Any, get_args
from urllib.parse import unquote

import pytest
from faststream.nats import NatsRouter
from faststream.nats.subscriber.usecases import CoreSubscriber
from pydantic import BaseModel

from schemas import subjects
from schemas.catalog import BY_SUBJECT, EVENTS, OPERATIONS, PARAMETERS
from schemas.commands import Reply
from schemas.events import AnyEvent
from services.app import SERVICES, load_runtime
from services.core import rpc
from services.core.asyncapi import reply_channel, specification
from services.core.settings import Settings

Served = dict[str, type[BaseModel]]


def _recording(served: Served, real: Callable[..., None]) -> Callable[..., None]:
    """`rpc.serve`, noting each subject and its request model on the way through."""

    def serve(
        router: NatsRouter, subject: str, model: type[BaseModel], *args: Any, **kw: Any
    ) -> None:
        served[subject] = model
        real(router, subject, model, *args, **kw)

    return serve


@pytest.fixture(scope="module")
def served() -> tuple[Served, set[str]]:
    """What the services serve, from their routers built as `pathways up` builds them (nothing
    connects): the request model each passes to `serve`, and the subjects their routers answer
    on without a stream (request-reply, not a JetStream consumer)."""
    models: Served = {}
    with pytest.MonkeyPatch.context() as patch:
        recording = _recording(models, rpc.serve)
        # Services call `serve` directly or through `rpc.Answering`, which looks it up in rpc.
        patch.setattr(rpc, "serve", recording)
        for build in SERVICES.values():
            module = sys.modules[build.__module__]
            if hasattr(module, "serve"):
                patch.setattr(module, "serve", recording)
        rt = load_runtime(Settings())
        routers = [build(rt) for build in SERVICES.values()]
    answered = {
        sub.subject.template
        for router in routers
        for sub in router.subscribers
        if isinstance(sub, CoreSubscriber)
    }
    return models, answered


def test_the_catalog_lists_exactly_the_subjects_the_services_serve(
    served: tuple[Served, set[str]],
) -> None:
    _, answered = served
    assert {op.subject for op in OPERATIONS} == answered


def test_each_operation_takes_the_request_model_its_service_reads(
    served: tuple[Served, set[str]],
) -> None:
    models, answered = served
    assert set(models) == answered  # every served subject went through rpc.serve
    assert {op.subject: op.request for op in OPERATIONS} == models


def test_commands_and_queries_are_named_by_their_subjects() -> None:
    for op in OPERATIONS:
        prefix = {"command": "pw.cmd.", "query": "pw.qry."}[op.kind]
        assert op.subject.startswith(prefix), op.subject


def _models(documented: Any) -> set[type[BaseModel]]:
    """The models one EventDoc covers: itself, or each member of an (annotated) union."""
    if isinstance(documented, type):
        return {documented}
    return {model for arg in get_args(documented) for model in _models(arg)}


def test_every_event_type_is_documented() -> None:
    documented = {model for event in EVENTS for model in _models(event.model)}
    missing = {m.__name__ for m in _models(AnyEvent)} - {m.__name__ for m in documented}
    assert not missing


def _matches(subject: str, pattern: str) -> bool:
    tokens, wanted = subject.split("."), pattern.split(".")
    if wanted[-1] == ">":
        if len(tokens) < len(wanted):
            return False
        tokens, wanted = tokens[: len(wanted) - 1], wanted[:-1]
    if len(tokens) != len(wanted):
        return False
    return all(w in ("*", t) for t, w in zip(tokens, wanted, strict=True))


def test_every_documented_subject_is_kept_by_a_stream() -> None:
    kept = (
        *subjects.EVENTS.subjects,
        *subjects.TIMERS.subjects,
        *subjects.DEAD_LETTERS.subjects,
        f"$KV.{subjects.ROSTERS_BUCKET}.>",
    )
    for event in EVENTS:
        example = re.sub(r"\{\w+\}", "x", event.subject)
        assert any(_matches(example, stored) for stored in kept), event.subject


def test_every_subject_token_that_varies_is_described_once() -> None:
    used = {name for e in EVENTS for name in re.findall(r"\{(\w+)\}", e.subject)}
    assert used == set(PARAMETERS)
    every = [op.subject for op in OPERATIONS] + [e.subject for e in EVENTS]
    assert len(every) == len(set(every))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return dict(json.loads(specification()))


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    found: Any = document
    for part in ref[2:].split("/"):
        found = found[unquote(part).replace("~1", "/").replace("~0", "~")]
    return found


def _payload(document: dict[str, Any], message_ref: str) -> Any:
    message = _resolve(document, message_ref)
    while "$ref" in message:
        message = _resolve(document, message["$ref"])
    return _resolve(document, message["payload"]["$ref"])


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_the_document_has_no_empty_payload(document: dict[str, Any]) -> None:
    assert "EmptyPayload" not in json.dumps(document)


def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    for ref in _refs(document):
        _resolve(document, ref)


def test_each_operation_shows_its_request_and_reply_schemas(document: dict[str, Any]) -> None:
    for op in OPERATIONS:
        described = document["operations"][op.subject]
        assert described["action"] == "receive"
        channel = document["channels"][op.subject]
        assert channel["address"] == op.subject
        [request] = described["messages"]
        assert _payload(document, request["$ref"])["title"] == op.request.__name__
        reply = described["reply"]
        assert reply["channel"] == {"$ref": f"#/channels/{reply_channel(op)}"}
        [answer] = reply["messages"]
        assert _payload(document, answer["$ref"])["title"] == op.reply.__name__
        assert set(_payload(document, request["$ref"])["properties"]) == set(
            op.request.model_fields
        )


def test_each_event_shows_its_schema(document: dict[str, Any]) -> None:
    for event in EVENTS:
        described = document["operations"][event.subject]
        assert described["action"] == "send"
        assert document["channels"][event.subject]["address"] == event.subject
        [message] = described["messages"]
        payload = _payload(document, message["$ref"])
        if isinstance(event.model, type) and issubclass(event.model, BaseModel):
            assert payload["title"] == event.model.__name__
            assert set(payload.get("properties", {})) == set(event.model.model_fields)
        else:
            members = {_resolve(document, one["$ref"])["title"] for one in payload["oneOf"]}
            assert members == {m.__name__ for m in _models(event.model)}


def test_every_reply_carries_a_typed_model(document: dict[str, Any]) -> None:
    """No operation answers with the untyped envelope: its data has a schema of its own."""
    for op in OPERATIONS:
        assert op.reply is not Reply, op.subject
        described = document["operations"][op.subject]
        [answer] = described["reply"]["messages"]
        data = _payload(document, answer["$ref"])["properties"]["data"]
        assert any(_refs(data)), (op.subject, data)


def test_each_operation_has_one_http_route_made_of_its_request_fields() -> None:
    routes = [(op.http.method, op.http.path) for op in OPERATIONS]
    assert len(routes) == len(set(routes))
    for op in OPERATIONS:
        assert op.http.method == {"command": "POST", "query": "GET"}[op.kind], op.subject
        assert op.http.path.startswith("/"), op.subject
        fields = set(op.request.model_fields)
        assert set(re.findall(r"\{(\w+)\}", op.http.path)) <= fields, op.subject
        assert set(op.http.query) <= fields, op.subject
        assert BY_SUBJECT[op.subject] is op
