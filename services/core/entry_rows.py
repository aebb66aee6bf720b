"""The rows of an entry table (the timeline, the after-action report's timeline, the activity
log) as HTML, written in Python rather than Jinja.

Why not a Jinja loop: a report holds one row per event of the incident, ten thousand and more.
Fed a dict per row and rendered through a macro, each row cost about 45 µs, most of the report's
time budget; written here with f-strings and one join it costs a few. Escaping stays as complete
as Jinja's autoescape made it: every text that came from an event has its control characters
made visible (services.core.printable) and then goes through `markupsafe.escape`, the very
function autoescape calls. The table around the rows (caption, headings, the "No entries." row)
stays in templates/_entries.html.j2; tests/unit/test_entry_rows.py checks the markup against the
macro that rendered the rows before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from markupsafe import Markup, escape

from schemas.enums import Tier
from schemas.text import UNSAFE
from schemas.views import IncidentSummary, TimelineEntry
from services.core.printable import visible, visible_lines
from services.core.timeline_formats import STAMP, elapsed_seconds, note_of, t_plus

# A character `visible` would show as an escape (UNSAFE) or `escape` would replace (&<>"'): a
# text holding none is written as it is, found in one pass at C speed. Most texts hold none, and
# calling both functions on each would cost more than the rest of its row.
_TO_CHANGE = re.compile(f"{UNSAFE.pattern}|[&<>\"']")


def entry_rows(
    entries: Iterable[TimelineEntry], incident: IncidentSummary, with_who: bool
) -> Markup:
    """One `<tr>` per entry (each ending in a newline): T+, time, who (`with_who`), what, and
    the note under it; empty when there are no entries."""
    origin = incident.logged_at
    return Markup("".join([_row(entry, origin, with_who) for entry in entries]))


def _row(entry: TimelineEntry, origin: datetime, with_who: bool) -> str:
    # T+ and the time are written from numbers alone (digits, signs, colons): nothing to escape.
    at = entry.at
    who = f'<td dir="auto">{_shown(entry.actor)}</td>' if with_who else ""
    note = note_of(entry)
    return (
        f'<tr><td class="t">{t_plus(elapsed_seconds(at, origin))}</td>'
        f'<td class="time">{_stamp(at)}</td>{who}<td dir="auto">{_shown(entry.text)}\n'
        f"{_note(note, entry.tier, entry.redacted) if note else ''}</td></tr>\n"
    )


def _shown(text: str) -> str:
    """One line as HTML: control characters made visible, then escaped."""
    return text if _TO_CHANGE.search(text) is None else escape(visible(text))


def _stamp(at: datetime) -> str:
    """`at` as STAMP writes it, without strftime (which alone took a third of a row's time)."""
    if at.year < 1000:  # strftime does not pad such a year to four digits on every platform
        return format(at, STAMP)
    fields = (at.year, at.month, at.day, at.hour, at.minute, at.second)
    return "%04d-%02d-%02d %02d:%02d:%02d" % fields  # noqa: UP031 (twice as fast as an f-string)


def _note(note: str, tier: Tier, redacted: bool) -> str:
    if _TO_CHANGE.search(note) is None:  # one line (a line break is UNSAFE), nothing to escape
        return f"{_note_head(tier, redacted)}<bdi>{note}</bdi></div>"
    lines = "<br>".join([f"<bdi>{escape(line)}</bdi>" for line in visible_lines(note)])
    return f"{_note_head(tier, redacted)}{lines}</div>"


@cache
def _note_head(tier: Tier, redacted: bool) -> str:
    """The opening of a note's block: one of six, so written once each."""
    return (
        f'<div class="note{" redacted" if redacted else ""}" dir="auto">'
        f'<span class="tier">Note ({escape(tier.value)})</span><br>'
    )
