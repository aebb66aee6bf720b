"""Tables that stay readable in any terminal: a table when every column fits with room for the
title to wrap, otherwise one card per row (the id alone on its first line). Ids are never cut."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from rich.console import Console, ConsoleOptions, RenderResult
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from services.cli.safe import terminal_safe

# The narrowest a wrapping title column may be before cards read better than a table.
MIN_TITLE_WIDTH = 24
GAP = 2


@dataclass(frozen=True)
class Column:
    header: str
    label: str = ""  # how a card names the value ("ack by "), empty for none


def when(moment: datetime | None, now: datetime, *, overdue: bool = False) -> str:
    """A time in a table: the year only when it is not this one; none yet while it counts from
    prerequisites still open; marked when it has passed and the work has not happened."""
    if moment is None:
        return "after prereqs"
    shown = moment.strftime("%b %d %H:%M" if moment.year == now.year else "%b %d %Y %H:%M")
    return f"{shown} OVERDUE" if overdue else shown


class Listing:
    """Rows of cells; the last column is the wrapping title, the first the id."""

    def __init__(self, columns: list[Column], rows: list[list[str]]) -> None:
        self.columns = columns
        self.rows = [[terminal_safe(cell) for cell in row] for row in rows]

    def fixed_width(self) -> int:
        fixed = self.columns[:-1]
        widths = [
            max([len(c.header), *(len(row[i]) for row in self.rows)]) for i, c in enumerate(fixed)
        ]
        return sum(widths) + GAP * len(fixed)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.fixed_width() + MIN_TITLE_WIDTH <= options.max_width:
            yield self._table()
        else:
            yield from self._cards(options.max_width)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, GAP, 0, 0))
        for column in self.columns[:-1]:
            table.add_column(column.header, no_wrap=True)
        table.add_column(self.columns[-1].header, overflow="fold")
        for row in self.rows:
            table.add_row(*(Text(cell) for cell in row))
        return table

    def _cards(self, width: int) -> Iterator[Text | Padding]:
        for row in self.rows:
            yield Text(row[0], style="bold", overflow="fold")
            parts = [
                f"{column.label}{cell}"
                for column, cell in zip(self.columns[1:-1], row[1:-1], strict=True)
            ]
            for line in _packed(parts, width - 2):
                yield Text(f"  {line}", overflow="fold")
            yield Padding(Text(row[-1], overflow="fold"), (0, 0, 0, 2), expand=False)


def _packed(parts: list[str], width: int, separator: str = " · ") -> list[str]:
    """The parts joined into as few lines as fit the width, never breaking inside a part."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(separator) + len(part) <= width:
            lines[-1] += separator + part
        else:
            lines.append(part)
    return lines
