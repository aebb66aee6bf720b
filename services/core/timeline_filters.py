"""Which timeline entries a query asks for, as pure functions over entries already written for
their reader (so a filter never sees more than the reader may). The timeline service applies
them; the command line again, to what a gateway that does not take the filters returns."""

from __future__ import annotations

from collections.abc import Iterable

from schemas.commands import GetTimeline
from schemas.views import TimelineEntry


def with_task_facts(entries: Iterable[TimelineEntry]) -> tuple[TimelineEntry, ...]:
    """Entries about a task that carry no snapshot of it (deliveries of notices) given the role,
    phase and assignee of that task as its latest earlier entry recorded them."""
    known: dict[str, TimelineEntry] = {}
    done: list[TimelineEntry] = []
    for entry in entries:
        if entry.task_id is not None and entry.role is not None:
            known[entry.task_id] = entry
        elif entry.task_id is not None and entry.task_id in known:
            facts = known[entry.task_id]
            entry = entry.model_copy(
                update={"role": facts.role, "phase": facts.phase, "assignee": facts.assignee}
            )
        done.append(entry)
    return tuple(done)


def involves(entry: TimelineEntry, people: Iterable[str]) -> bool:
    """The entry names one of `people` as who acted, who held the task, or who wrote the note."""
    return bool({entry.actor, entry.assignee, entry.note_by} & set(people))


def wanted(entry: TimelineEntry, query: GetTimeline) -> bool:
    if query.roles and entry.role not in query.roles:
        return False
    if query.phases and entry.phase not in query.phases:
        return False
    if query.types and entry.type not in query.types:
        return False
    return not query.people or involves(entry, query.people)


def filtered(entries: Iterable[TimelineEntry], query: GetTimeline) -> tuple[TimelineEntry, ...]:
    return tuple(e for e in with_task_facts(entries) if wanted(e, query))
