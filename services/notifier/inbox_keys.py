"""The in-app inbox as keys and entries, pure.

A person's notices are the keys `<person>.<part>.<rest>.<notice token>` of the `pw_inbox`
bucket: `<part>.<rest>` is the incidents index's newest-first count of when the notice's event
happened (services.core.indexes), so key order is newest first, and the notice token (the notice
id, dots spelled `=`) makes each key the notice's own. The key depends only on the notice, so a
redelivered notice finds its entry already there. Dots in a person id are spelled `=` too, so
`dana`'s keys never share a prefix with `dana.reyes`'s.
"""

from __future__ import annotations

from datetime import datetime

from schemas.notifications import InboxEntry, Notice
from schemas.subjects import notice_token
from services.core.indexes import newest_first


def person_prefix(person: str) -> str:
    return f"{person.replace('.', '=')}."


def inbox_key(person: str, at: datetime, notice_id: str) -> str:
    return f"{person_prefix(person)}{newest_first(at)}.{notice_token(notice_id)}"


def inbox_entry(notice: Notice, subject: str, at: datetime) -> InboxEntry:
    """What the inbox keeps of a notice: what its message says, nothing a restricted task's
    message would not say."""
    restricted = notice.restricted
    return InboxEntry(
        notice_id=notice.notice_id,
        kind=notice.kind,
        at=at,
        recipient_id=notice.recipient_id,
        subject=subject,
        task_id=notice.task_id,
        incident_id=notice.incident_id,
        task_title=None if restricted else notice.task_title,
        incident_type=None if restricted else notice.incident_type,
        acknowledge_by=notice.acknowledge_by,
        due_by=notice.due_by,
        restricted=restricted,
        urgent=notice.urgent,
        exercise=notice.exercise,
        link=str(notice.link) if notice.link is not None else None,
        missed_by=None if restricted else notice.missed_by,
        step=notice.step,
    )
