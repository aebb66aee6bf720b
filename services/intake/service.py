"""Incident commands and queries."""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

from faststream.nats import NatsRouter
from nats.js.errors import KeyNotFoundError

from schemas import attributes, subjects
from schemas.base import incident_id_for, utc_now
from schemas.commands import ErrorCode, GetIncident, ListIncidents, LogIncident, Reply
from schemas.events import IncidentLogged
from schemas.playbook import declared_for
from schemas.principals import Principal
from schemas.replies import LogIncidentResult
from schemas.views import IncidentListItem, IncidentSummary, TaskRecord
from services.core import access, indexes, listing
from services.core.access import Action, Target
from services.core.bounded import bounded_incident
from services.core.errors import Refused
from services.core.eventstore import ConcurrencyConflict, Expect
from services.core.logging import get_logger
from services.core.paging import ITEM_BYTES_MAX, PageBuilder, budget_for, decode_cursor, item_size
from services.core.projections import readable
from services.core.rpc import ok, serve
from services.core.runtime import Runtime

log = get_logger(__name__)
QUEUE = "intake"


def suggestions(rt: Runtime, event: IncidentLogged) -> list[str]:
    return sorted(
        p.playbook.id
        for p in rt.library.values()
        if p.playbook.matches(event.incident_type, event.severity)
    )


def _check_people(rt: Runtime, command: LogIncident) -> None:
    for person in (command.actor, *command.involved):
        problem = rt.roster.unknown_person(person)
        if problem is not None:
            field = "--as" if person == command.actor else "--involved"
            raise Refused(ErrorCode.INVALID_REQUEST, f"{field}: {problem}")


def _same_request(event: IncidentLogged, again: IncidentLogged) -> bool:
    """Whether a retried request asks for what the first one logged (its time aside)."""
    ignored = {"at"}
    return event.model_dump(exclude=ignored) == again.model_dump(exclude=ignored)


def below_min_severity(rt: Runtime, event: IncidentLogged) -> dict[str, str]:
    """Playbooks for this incident type that did not match only because of its severity, with
    the severity each needs."""
    return {
        p.playbook.id: p.playbook.triggers.min_severity.value
        for p in sorted(rt.library.values(), key=lambda p: p.playbook.id)
        if event.incident_type in p.playbook.triggers.incident_types
        and not p.playbook.matches(event.incident_type, event.severity)
    }


async def log_incident(rt: Runtime, command: LogIncident, principal: Principal) -> Reply:
    access.check(principal, rt.roster, Action.LOG_INCIDENT, Target(exercise=command.exercise))
    if command.time_scale != 1.0 and not command.exercise:
        raise Refused(ErrorCode.INVALID_REQUEST, "a time scale is only for exercises (--exercise)")
    _check_people(rt, command)
    declared = declared_for((p.playbook for p in rt.library.values()), command.incident_type)
    try:
        checked = attributes.checked(command.attributes, declared, command.incident_type)
    except attributes.AttributeRefused as exc:
        raise Refused(ErrorCode.INVALID_REQUEST, str(exc)) from None
    incident_id = incident_id_for(command.request_id)
    event = IncidentLogged(
        event_id=f"{incident_id}.logged",
        incident_id=incident_id,
        actor=command.actor,
        at=utc_now(),
        incident_type=command.incident_type,
        title=command.title,
        severity=command.severity,
        attributes=checked,
        auto_trigger=command.auto_trigger,
        involved=command.involved,
        exercise=command.exercise,
        time_scale=command.time_scale if command.exercise else 1.0,
    )
    changed = True
    try:
        await rt.store.append(
            subjects.incident_logged(incident_id),
            event,
            Expect(subjects.incident_filter(incident_id), 0),
        )
        log.info(
            "incident_logged",
            exercise=command.exercise,
            incident_id=incident_id,
            incident_type=command.incident_type,
            severity=command.severity,
        )
    except ConcurrencyConflict:
        # The same request again: answer with the incident it logged the first time.
        found = await rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
        if found is None:
            raise
        if not _same_request(found.event, event):
            raise Refused(
                ErrorCode.CONFLICT,
                f"request id {command.request_id} was already used to log {incident_id} "
                f"({found.event.incident_type}, {found.event.at:%Y-%m-%d %H:%M} UTC) with "
                "different content; use a new request id",
            ) from None
        event, changed = found.event, False
    automatic = [
        p
        for p in suggestions(rt, event)
        if rt.library[p].playbook.triggers.auto and event.auto_trigger
    ]
    result = LogIncidentResult(
        incident=IncidentSummary.from_logged(event),
        suggested_playbooks=suggestions(rt, event),
        below_min_severity=below_min_severity(rt, event),
        automatic_playbook=automatic[0] if automatic else None,
    )
    return ok(result, changed=changed)


async def get_incident(rt: Runtime, query: GetIncident, principal: Principal) -> Reply:
    summary = await _summary(rt, query.incident_id)
    reader = access.reader_of(principal, rt.roster)
    everything = bool(reader.roles & access.READS_EVERY_INCIDENT)
    target = Target(
        exercise=summary.exercise,
        holds_task=not everything and await holds_task(rt, query.incident_id, reader.person),
    )
    access.require(access.decide(reader, Action.READ_INCIDENT, target))
    return ok(access.incident_view(reader, summary), changed=False)


async def holds_task(rt: Runtime, incident_id: str, person: str | None) -> bool:
    """Whether `person` holds a task of the incident, or declined one: an incident has a few
    dozen tasks at most, so its records are read."""
    if person is None:
        return False
    found = await listing.values(rt.nc, subjects.TASKS_BUCKET, [f"{incident_id}.*"])
    for raw in found.values():
        record = readable(TaskRecord, raw)
        if record is not None and person in (record.task.assignee, *record.task.declined_by):
            return True
    return False


async def _summary(rt: Runtime, incident_id: str) -> IncidentSummary:
    try:
        entry = await rt.incidents.get(incident_id)
    except KeyNotFoundError:
        entry = None
    summary = readable(IncidentSummary, entry.value if entry is not None else None)
    if summary is not None:
        return summary
    # Not projected yet (it was logged a moment ago): the stream has the fact.
    found = await rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
    if found is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no incident {incident_id}")
    return IncidentSummary.from_logged(found.event)


def _listed(summary: IncidentSummary, unassigned: int) -> tuple[dict[str, Any], int]:
    if item_size(summary.model_dump(mode="json")) > ITEM_BYTES_MAX:
        summary = bounded_incident(summary)
    listed = IncidentListItem(**dict(summary), unassigned_tasks=unassigned)
    item = listed.model_dump(mode="json")
    return item, item_size(item)


async def _unassigned_counts(rt: Runtime, window: list[str]) -> Counter[str]:
    """How many tasks nobody holds, per incident of the page: one listing per partition the
    page spans, of the tasks indexed under nobody (few, however many incidents there are)."""
    prefix = indexes.assignee_prefix(indexes.NOBODY)
    counts: Counter[str] = Counter()
    for part in sorted({indexes.part_of(position) for position in window}):
        for key in await listing.keys(rt.nc, subjects.INDEX_BUCKET, f"{prefix}{part}.>"):
            group, _ = indexes.task_of_assignee_key(key)
            counts[indexes.incident_of_position(group)] += 1
    return counts


async def list_incidents(rt: Runtime, query: ListIncidents, principal: Principal) -> Reply:
    """A page of incidents, newest first: the index's keys give the order, and only the
    partitions and summaries the page needs are read."""
    access.check(principal, rt.roster, Action.LIST_INCIDENTS)
    start = decode_cursor(query.cursor)
    begin = listing.after_group(start.after) if start else ""
    run = await listing.keys_from(
        rt.nc, subjects.INDEX_BUCKET, indexes.incidents_prefix(), begin, query.limit
    )
    window = run.positions[: query.limit]
    summaries = await listing.values(
        rt.nc, subjects.INCIDENTS_BUCKET, [indexes.incident_of_position(p) for p in window]
    )
    unassigned = await _unassigned_counts(rt, window)
    page = PageBuilder(query.limit, budget_for(rt.max_payload), start)
    for position in window:
        key = indexes.incident_of_position(position)
        summary = readable(IncidentSummary, summaries.get(key))
        if summary is None:  # indexed a moment before its summary was readable, or damaged
            if key in summaries:
                log.warning("projection_record_unreadable", bucket="pw_incidents", key=key)
            page.pass_over(position)
            continue
        if not page.take(position, *_listed(summary, unassigned[key])):
            break
    last = page.last
    after = len(run.positions) if last is None else sum(p > last for p in run.positions)
    return ok(page.page(after + run.unlisted), changed=False)


def build(rt: Runtime) -> NatsRouter:
    router = NatsRouter()
    serve(router, subjects.CMD_INCIDENT_LOG, LogIncident, partial(log_incident, rt),
          queue=QUEUE, verifier=rt.verifying_key)  # fmt: skip
    serve(router, subjects.QRY_INCIDENT_GET, GetIncident, partial(get_incident, rt),
          queue=QUEUE, verifier=rt.verifying_key)  # fmt: skip
    serve(router, subjects.QRY_INCIDENT_LIST, ListIncidents, partial(list_incidents, rt),
          queue=QUEUE, verifier=rt.verifying_key)  # fmt: skip
    return router
