"""Read-only requests the engine answers: tasks and its playbook library."""

from __future__ import annotations

from nats.js.errors import KeyNotFoundError

from schemas.commands import ErrorCode, GetPlaybook, ListPlaybooks, Reply
from schemas.playbook import PinnedPlaybook
from schemas.principals import Principal
from schemas.replies import PlaybookDetail
from schemas.views import PlaybookInfo
from services.core import access
from services.core.access import Action
from services.core.errors import Refused
from services.core.rpc import ok
from services.core.runtime import Runtime, version_key
from services.engine.tasklists import list_tasks

__all__ = ["get_playbook", "info", "list_playbooks", "list_tasks"]


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


async def list_playbooks(rt: Runtime, query: ListPlaybooks, principal: Principal) -> Reply:
    access.check(principal, rt.roster, Action.READ_PLAYBOOKS)
    return ok([info(p) for _, p in sorted(rt.library.items())], changed=False)


async def get_playbook(rt: Runtime, query: GetPlaybook, principal: Principal) -> Reply:
    """The playbook as loaded now, or (with a version) exactly as it was when that version ran."""
    access.check(principal, rt.roster, Action.READ_PLAYBOOKS)
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
    detail = PlaybookDetail(info=info(pinned), playbook=pinned.playbook, source=pinned.source)
    return ok(detail, changed=False)
