"""Read-only requests the engine answers: tasks and its playbook library."""

from __future__ import annotations

from datetime import UTC, datetime

from nats.js.errors import KeyNotFoundError

from schemas.commands import ErrorCode, GetPlaybook, ListPlaybooks, ListTasks, Reply
from schemas.enums import Tier
from schemas.playbook import PinnedPlaybook
from schemas.subjects import TASKS_BUCKET
from schemas.tasks import TaskSnapshot
from schemas.views import PlaybookInfo, TaskRecord
from services.core.errors import Refused
from services.core.projections import values
from services.core.rpc import ok
from services.core.runtime import Runtime, version_key

NOT_YET = datetime.max.replace(tzinfo=UTC)
RESTRICTED_NOTE = "[restricted: visible to the responder's team only]"


def visible(task: TaskSnapshot, viewer: str | None) -> TaskSnapshot:
    """A restricted note is shown only to the person who wrote it."""
    if task.note and task.tier is Tier.RESTRICTED and viewer != task.assignee:
        task = task.model_copy(update={"note": RESTRICTED_NOTE})
    if any(n.tier is Tier.RESTRICTED and n.author != viewer for n in task.notes):
        notes = tuple(
            n.model_copy(update={"text": RESTRICTED_NOTE})
            if n.tier is Tier.RESTRICTED and n.author != viewer
            else n
            for n in task.notes
        )
        task = task.model_copy(update={"notes": notes})
    return task


async def list_tasks(rt: Runtime, query: ListTasks) -> Reply:
    key_filter = f"{query.incident_id}.*" if query.incident_id else ">"
    records = [
        TaskRecord.model_validate_json(raw) for raw in await values(rt.js, TASKS_BUCKET, key_filter)
    ]
    tasks = [
        visible(r.task, query.viewer)
        for r in records
        if (query.assignee is None or r.task.assignee == query.assignee)
        and (query.status is None or r.task.status is query.status)
    ]
    # Tasks whose clock has not started yet (it counts from prerequisites) sort last.
    tasks.sort(key=lambda t: (t.incident_id, t.acknowledge_by or NOT_YET, t.key))
    return ok([t.model_dump(mode="json") for t in tasks], changed=False)


def info(pinned: PinnedPlaybook) -> PlaybookInfo:
    book = pinned.playbook
    return PlaybookInfo(
        id=book.id,
        title=book.title,
        version=pinned.version,
        path=pinned.path,
        incident_types=book.triggers.incident_types,
        min_severity=book.triggers.min_severity,
        auto=book.triggers.auto,
        task_count=len(book.tasks),
    )


async def list_playbooks(rt: Runtime, query: ListPlaybooks) -> Reply:
    return ok(
        [info(p).model_dump(mode="json") for _, p in sorted(rt.library.items())], changed=False
    )


async def get_playbook(rt: Runtime, query: GetPlaybook) -> Reply:
    """The playbook as loaded now, or (with a version) exactly as it was when that version ran."""
    pinned = rt.library.get(query.playbook_id)
    if query.version is not None and (pinned is None or pinned.version != query.version):
        try:
            entry = await rt.playbooks.get(version_key(query.playbook_id, query.version))
        except KeyNotFoundError:
            raise Refused(
                ErrorCode.NOT_FOUND, f"no version {query.version} of playbook {query.playbook_id}"
            ) from None
        assert entry.value is not None
        pinned = PinnedPlaybook.model_validate_json(entry.value)
    if pinned is None:
        raise Refused(ErrorCode.NOT_FOUND, f"no playbook {query.playbook_id}")
    return ok(
        {
            "info": info(pinned).model_dump(mode="json"),
            "playbook": pinned.playbook.model_dump(mode="json"),
            "source": pinned.source,
        },
        changed=False,
    )
