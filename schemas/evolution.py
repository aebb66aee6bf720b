"""Reading stored events, whichever version wrote them.

Events are built strictly (a Contract forbids unknown fields), so this version never writes a field
it does not mean. Stored events are read tolerantly: a newer version may have added fields (they
are ignored, never fatal), and an older one may have written a shape that an upcaster brings up to
date before validation. An event whose type this version does not know, or whose body cannot be
read even tolerantly, raises UnreadableEvent, for the caller to decide: the timeline shows it as
unrecognised, reactions refuse it as unprocessable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import orjson
from pydantic import ValidationError

from schemas.events import ANY_EVENT, KNOWN_TYPES, SCHEMA_VERSION, AnyEvent
from schemas.tasks import TaskSnapshot

RawEvent = dict[str, Any]
Upcaster = Callable[[RawEvent], RawEvent]

# Events stored before versions existed carry no schema_version; their shape is version 1.
UNVERSIONED = 1
_PRINTABLE_TYPE = re.compile(r"^[a-z0-9._-]{1,64}$")


class UnreadableEvent(Exception):
    """A stored event this version cannot read. `event_type` is what it says it is (None when
    even that cannot be told); `raw` is its body as parsed JSON, when it parsed."""

    def __init__(self, event_type: str | None, reason: str, raw: RawEvent | None = None) -> None:
        super().__init__(f"{event_type or 'event'}: {reason}")
        self.event_type = event_type
        self.reason = reason
        self.raw = raw


class UnknownEventType(UnreadableEvent):
    """An event type this version does not know: written by a newer one."""


class Upcasters:
    """Pure functions keyed by (event type, schema version), each bringing a raw event one
    version forward. Applied in a chain until the event reaches the current shape."""

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, version: int) -> Callable[[Upcaster], Upcaster]:
        def add(step: Upcaster) -> Upcaster:
            if version >= SCHEMA_VERSION:
                raise ValueError(f"version {version} is not older than {SCHEMA_VERSION}")
            self._steps[(event_type, version)] = step
            return step

        return add

    def applies(self, event_type: str, version: int) -> bool:
        return (event_type, version) in self._steps

    def upcast(self, raw: RawEvent) -> RawEvent:
        while True:
            version = raw.get("schema_version", UNVERSIONED)
            step = (
                self._steps.get((str(raw.get("type")), version))
                if isinstance(version, int)
                else None
            )
            if step is None:
                return raw
            raw = {**step(dict(raw)), "schema_version": version + 1}


# Version 1 is the first versioned shape: nothing to upcast yet. Register steps here.
UPCASTERS = Upcasters()


def read_event(body: bytes | str, upcasters: Upcasters = UPCASTERS) -> AnyEvent:
    """A stored event, upcast to the current shape, unknown fields ignored."""
    try:
        event = ANY_EVENT.validate_json(body, extra="ignore")
    except ValidationError:
        return _read_slowly(body, upcasters)
    written = event.schema_version if "schema_version" in event.model_fields_set else UNVERSIONED
    if upcasters.applies(event.type, written):
        return _read_slowly(body, upcasters)
    return event


def read_event_for_replay(body: bytes | str, upcasters: Upcasters = UPCASTERS) -> AnyEvent:
    """`read_event`, keeping of each task snapshot's notes only the newest: all that a replay of
    the record (the timeline, the report) reads of them, since a `task.noted` event's note is its
    snapshot's last. Every task event carries the notes so far, so reading them all would read a
    task's first note again with each later event: quadratic in its notes, and most of the time
    and memory of replaying a long incident."""
    data = body.encode() if isinstance(body, str) else body
    shortened = _with_newest_note_only(data)
    if shortened is not None:
        try:
            return read_event(shortened, upcasters)
        except UnreadableEvent:
            pass  # Cutting made it unreadable: it was not shaped as the services write it.
    return read_event(data, upcasters)


# How the services write a task snapshot's notes (pydantic writes fields in their declared order,
# without spaces): `"notes":[{"author":…},…,{"author":…}],"follow_up_of":`. Inside a JSON string
# every quote is escaped, so none of these byte sequences can occur within a note's text.
_NOTES_OPEN = b'"notes":[{'
_NOTE_START = b',{"author":'
_NOTES_CLOSE = b'}],"follow_up_of":'


def _with_newest_note_only(body: bytes) -> bytes | None:
    """The body with every note but the newest cut out of its task snapshot, found by bytes
    rather than by parsing the notes (which is the cost this saves); None when the body holds
    fewer than two notes or is not shaped as the services write it. Such a body (an older
    version's, say) is read in full instead, as is one that cutting made unreadable. Each search
    is short: the notes open before the snapshot's long fields end, and close near the body's end.

    Only the services write events, always in this shape. A body written by anyone else and
    crafted to look like it (its notes closed early, say) could read differently cut than in
    full; `pathways timeline verify` names every such event, and the record's digest, printed
    on every timeline and report, covers its bytes as stored."""
    opened = body.find(_NOTES_OPEN)
    if opened < 0:
        return None
    closed = body.rfind(_NOTES_CLOSE, opened)
    newest = body.rfind(_NOTE_START, opened, closed) if closed > opened else -1
    if newest < 0:
        return None
    return body[: opened + len(_NOTES_OPEN) - 1] + body[newest + 1 :]


def _read_slowly(body: bytes | str, upcasters: Upcasters) -> AnyEvent:
    return _validated(upcasters.upcast(_parsed(body)))


def _parsed(body: bytes | str) -> RawEvent:
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise UnreadableEvent(None, "not JSON") from None
    if not isinstance(raw, dict):
        raise UnreadableEvent(None, "not a JSON object")
    return raw


def _validated(raw: RawEvent) -> AnyEvent:
    event_type = printable_type(raw.get("type"))
    if event_type not in KNOWN_TYPES:
        raise UnknownEventType(event_type, "an event type this version does not know", raw)
    try:
        return ANY_EVENT.validate_python(raw, extra="ignore")
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"][1:]) for e in exc.errors()})
        raise UnreadableEvent(event_type, f"cannot read {', '.join(fields)}", raw) from None


def printable_type(value: object) -> str | None:
    """The type an event says it has, if it is safe to show and log (never free text)."""
    return value if isinstance(value, str) and _PRINTABLE_TYPE.match(value) else None


def task_snapshot_of(unreadable: UnreadableEvent) -> TaskSnapshot | None:
    """The task as it stands after a task event this version does not know (`task.escalated`
    from a newer version), when the event carries a snapshot this version can read: every task
    event's `task` is the whole task after the transition, whatever the transition was."""
    raw = unreadable.raw
    if raw is None or not (unreadable.event_type or "").startswith("task."):
        return None
    try:
        return TaskSnapshot.model_validate(raw.get("task"), extra="ignore")
    except ValidationError:
        return None
