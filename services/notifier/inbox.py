"""`pw.qry.inbox`: a person's notices, newest first, a page at a time.

The page lists the person's keys (one request that names the bucket subjects holding a value),
slices it after the cursor, and reads just the page's entries with one batched direct get. A
cursor is the key of the last entry passed, so a notice arriving between pages shifts nothing.
Listing every key of one person is fine for an inbox's size (thousands); the incidents index
partitions its keys for far larger families (services/core/indexes.py)."""

from __future__ import annotations

from schemas import subjects
from schemas.commands import ErrorCode, ListInbox, Reply
from schemas.notifications import InboxEntry
from schemas.principals import Principal
from services.core import access, listing
from services.core.access import Action, Target
from services.core.errors import Refused
from services.core.logging import get_logger
from services.core.paging import PageBuilder, budget_for, decode_cursor, item_size
from services.core.projections import readable
from services.core.rpc import ok
from services.notifier.context import Notifier
from services.notifier.inbox_keys import person_prefix

log = get_logger(__name__)


async def list_inbox(notifier: Notifier, query: ListInbox, principal: Principal) -> Reply:
    """One's own inbox; nobody reads another's."""
    rt = notifier.rt
    person = query.person or principal.person
    if person is None:
        # The policy's refusal (nobody reads another's inbox), said for this case.
        raise Refused(ErrorCode.FORBIDDEN, "this account is no roster member, so it has no inbox")
    access.check(principal, rt.roster, Action.READ_INBOX, Target(person=person))
    problem = rt.roster.unknown_person(person)
    if problem is not None:
        raise Refused(ErrorCode.NOT_FOUND, problem)
    start = decode_cursor(query.cursor)
    keys = await listing.keys(rt.nc, subjects.INBOX_BUCKET, f"{person_prefix(person)}>")
    after = [key for key in keys if start is None or key > start.after]
    window = after[: query.limit]
    found = await listing.values(rt.nc, subjects.INBOX_BUCKET, window)
    page = PageBuilder(limit=query.limit, budget=budget_for(rt.max_payload), start=start)
    for key in window:
        entry = readable(InboxEntry, found.get(key))
        if entry is None:
            log.warning("inbox_entry_unreadable", key=key)
            page.pass_over(key)
            continue
        item = entry.model_dump(mode="json")
        if not page.take(key, item, item_size(item)):
            break
    passed = after.index(page.last) + 1 if page.last is not None else 0
    return ok(page.page(len(after) - passed), changed=False)
