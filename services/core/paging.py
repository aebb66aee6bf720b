"""Pages of list replies: opaque cursors and a page that stops before the reply would grow past
what the server carries. Pure."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from schemas.commands import ErrorCode
from schemas.replies import RawPage
from services.core.errors import Refused

# Room left in a reply for the envelope around the items.
ENVELOPE_BYTES = 4096
# An item bigger than this is listed trimmed to the schema's limits (it can only be a record
# written before those limits, or by hand): one record never stops a list.
ITEM_BYTES_MAX = 64 * 1024


@dataclass(frozen=True)
class Cursor:
    after: str  # position of the last item this walk has passed
    passed: int = 0  # items before this page, for the count of what remains


def encode_cursor(cursor: Cursor) -> str:
    raw = json.dumps({"a": cursor.after, "n": cursor.passed}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str | None) -> Cursor | None:
    if text is None:
        return None
    try:
        raw = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        return Cursor(after=str(raw["a"]), passed=int(raw["n"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise Refused(
            ErrorCode.INVALID_REQUEST, "cursor: not a cursor from a previous page of this list"
        ) from None


def item_size(item: dict[str, Any]) -> int:
    return len(json.dumps(item, ensure_ascii=False).encode())


@dataclass
class PageBuilder:
    """Collects items in list order until `limit` items or `budget` bytes."""

    limit: int
    budget: int
    start: Cursor | None
    items: list[dict[str, Any]] = field(default_factory=list)
    size: int = 0
    last: str | None = None  # position of the last item taken or passed over
    full: bool = False

    def after_start(self, position: str) -> bool:
        return self.start is None or position > self.start.after

    def take(self, position: str, item: dict[str, Any], size: int) -> bool:
        """Add an item; False (and nothing added) when the page has no room left."""
        if len(self.items) >= self.limit or (self.items and self.size + size > self.budget):
            self.full = True
            return False
        self.items.append(item)
        self.size += size
        self.last = position
        return True

    def pass_over(self, position: str) -> None:
        """An item read but filtered out: the next page starts after it too."""
        self.last = position

    def page(self, remaining: int, *, exact: bool = True) -> RawPage:
        passed = (self.start.passed if self.start else 0) + len(self.items)
        more = remaining > 0 and self.last is not None
        return RawPage(
            items=self.items,
            next_cursor=encode_cursor(Cursor(self.last or "", passed)) if more else None,
            remaining=max(remaining, 0),
            remaining_exact=exact,
        )


def budget_for(max_payload: int) -> int:
    return max(max_payload - ENVELOPE_BYTES, ENVELOPE_BYTES)
