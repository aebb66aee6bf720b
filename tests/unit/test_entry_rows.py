"""The rows of the timeline, report and activity-log tables, written by services.core.entry_rows,
are byte for byte what the Jinja macro wrote before (kept in tests/fixtures/templates), for
every kind of entry and every character people could put in one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from schemas.enums import Tier
from schemas.report import Audience
from schemas.sealed import Sealed
from schemas.views import IncidentSummary, Timeline, TimelineEntry
from services.core.activity import activity_log
from services.core.entry_rows import entry_rows
from services.core.library import load_roster
from services.core.printable import visible, visible_lines
from services.core.report_html import report_html
from services.core.review_html import activity_html, environment, timeline_html
from services.core.timeline_formats import STAMP, entry_t_plus, note_of
from tests.support import FIXTURES, ROOT
from tests.unit.report_samples import a_report
from tests.unit.test_timeline_formats import HOSTILE, an_entry, incident

CAPTION = "What happened, in order, as this audience may read it"
# Everything HTML, Markdown or a terminal would act on, in one text.
NASTY = "<script>alert('x')</script> \"quoted\" & 'single' &amp; <b>bold</b> > <"
CONTROLS = "bell\x07 esc\x1b[31m nul\x00 del\x7f c1\x85 ls\u2028 ps\u2029 rlo\u202e lri\u2066 tab\t"
RTL = "שלום עולם مرحبا بالعالم 你好世界 abc"
# Texts holding one character to escape or make visible and nothing else.
LONE = ("fish & chips", "it's", 'say "hi"', "a > b", "a < b", "tab\there", "rlo\u202eevil")


def sealed() -> Sealed:
    return Sealed(scope="team.victim-services", key_id="k1a2", nonce="A" * 16, ciphertext="B" * 40)


def varied_entries() -> tuple[TimelineEntry, ...]:
    """One of each kind of entry: every tier of note, sealed, redacted, several lines, none,
    empty and hostile text in every field, odd times (before the incident, days after, a
    millisecond short of a minute, a year with fewer than four digits)."""
    minutes = timedelta(minutes=5)
    return (
        an_entry(minutes),
        an_entry(minutes, note="Briefed the chief", tier=Tier.PUBLIC),
        an_entry(minutes, note="Spoke to the family", tier=Tier.COMMAND),
        an_entry(minutes, note="Counselling booked", tier=Tier.RESTRICTED),
        an_entry(minutes, note="[withheld]", tier=Tier.RESTRICTED, redacted=True),
        an_entry(minutes, note="[withheld]", tier=Tier.COMMAND, redacted=True),
        an_entry(minutes, note_sealed=sealed(), tier=Tier.RESTRICTED),
        an_entry(minutes, note_sealed=sealed(), tier=Tier.RESTRICTED, redacted=True),
        an_entry(minutes, note="first\nsecond\r\nthird\rstill third\n\n", tier=Tier.COMMAND),
        an_entry(minutes, note="", tier=Tier.COMMAND),
        an_entry(minutes, text="", actor=""),
        an_entry(minutes, text=CONTROLS, actor=CONTROLS, note=CONTROLS),
        an_entry(minutes, text=RTL, actor=RTL, note=f"{RTL}\n{RTL}"),
        an_entry(minutes, text=NASTY, actor=NASTY, note=NASTY, tier=Tier.COMMAND),
        an_entry(minutes, text=HOSTILE, actor=HOSTILE, note=HOSTILE, redacted=True),
        *(an_entry(minutes, text=lone, actor=lone, note=lone) for lone in LONE),
        an_entry(
            minutes, type="task.from-the-future", text="task.from-the-future", recognised=False
        ),
        an_entry(timedelta(minutes=-3, seconds=-30)),
        an_entry(timedelta(seconds=-0.0004)),
        an_entry(timedelta(seconds=59, microseconds=999_600)),
        an_entry(timedelta(seconds=59, microseconds=999_400)),
        an_entry(timedelta(days=12, hours=2, minutes=15, seconds=59)),
        an_entry(timedelta(), at=datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    )


def old_row(entry: TimelineEntry, incident: IncidentSummary) -> dict[str, Any]:
    """The dict services.core.review_html fed the macro for each entry."""
    note = note_of(entry)
    return {
        "t_plus": entry_t_plus(entry, incident),
        "at": f"{entry.at:{STAMP}}",
        "actor": visible(entry.actor),
        "text": visible(entry.text),
        "note": visible_lines(note) if note else None,
        "tier": entry.tier.value,
        "redacted": entry.redacted,
    }


def table_before(
    entries: tuple[TimelineEntry, ...], with_who: bool, caption: str | None = None
) -> str:
    macro = (FIXTURES / "templates" / "entries_before.html.j2").read_text()
    template = environment().from_string(macro + "{{ entry_rows(rows, with_who, caption) }}")
    rows = [old_row(e, incident()) for e in entries]
    return template.render(rows=rows, with_who=with_who, caption=caption)


def table_now(
    entries: tuple[TimelineEntry, ...], with_who: bool, caption: str | None = None
) -> str:
    template = environment().from_string(
        '{% from "_entries.html.j2" import entry_table %}{{ entry_table(rows, with_who, caption) }}'
    )
    rows = entry_rows(entries, incident(), with_who)
    return template.render(rows=rows, with_who=with_who, caption=caption)


@pytest.mark.parametrize("with_who", [True, False])
@pytest.mark.parametrize("caption", [None, CAPTION, NASTY])
def test_each_kind_of_entry_is_written_as_the_macro_wrote_it(
    with_who: bool, caption: str | None
) -> None:
    entries = varied_entries()
    assert table_now(entries, with_who, caption) == table_before(entries, with_who, caption)


@pytest.mark.parametrize("entry", varied_entries(), ids=lambda e: f"{e.text[:12]!r}{e.note!r:.12}")
def test_each_entry_alone_is_written_as_the_macro_wrote_it(entry: TimelineEntry) -> None:
    assert table_now((entry,), True) == table_before((entry,), True)


@pytest.mark.parametrize("with_who", [True, False])
def test_no_entries_is_one_row_saying_so(with_who: bool) -> None:
    assert entry_rows((), incident(), with_who) == ""
    assert table_now((), with_who) == table_before((), with_who)
    assert "No entries." in table_now((), with_who)


def test_nothing_people_wrote_reaches_the_page_unescaped() -> None:
    shown = table_now(varied_entries(), True)
    assert "<script" not in shown and "<b>" not in shown and "'" not in shown
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &#34;quoted&#34; &amp; " in shown
    assert "&amp;amp;" in shown and "\x1b" not in shown and "\u202e" not in shown
    assert "bell\\x07 esc\\x1b[31m nul\\x00 del\\x7f c1\\x85 ls\\u2028" in shown


def test_the_timeline_report_and_activity_log_hold_the_table_the_macro_wrote() -> None:
    entries = varied_entries()
    timeline = Timeline(incident=incident(), entries=entries)
    assert table_before(entries, True) in timeline_html(timeline)
    roster = load_roster(ROOT / "rosters" / "example.yaml")
    log = activity_log(timeline, roster, ["kim.liu"])
    assert len(log.logs[0].activities) > 10
    assert table_before(log.logs[0].activities, False) in activity_html(log)
    report = a_report(Audience.FULL)
    report = report.model_copy(update={"incident": incident(), "entries": entries})
    assert table_before(entries, True, CAPTION) in report_html(report)
