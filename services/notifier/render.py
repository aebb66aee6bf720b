"""Turning a notice into a message: a one-line subject, a plain-text part and an HTML part, in
the recipient's language and time zone. Templates live in `templates/<language>/`.

A restricted task's templates are given neither its title nor its incident, only that there is
a confidential task: with `StrictUndefined`, a template that tried to show them would fail to
render rather than leak them."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from schemas.notifications import Notice

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"
MAX_SUBJECT = 150

_WEEKDAYS = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "es": ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
}
_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
}
_DATE_FORMATS = {
    "en": "{weekday} {day} {month} {year}, {time} {zone}",
    "es": "{weekday} {day} de {month} de {year}, {time} {zone}",
}


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


def language_for(tag: str) -> str:
    """The template language for a tag: `es-MX` → `es`; anything we have no templates for → en."""
    primary = tag.replace("_", "-").split("-", 1)[0].lower()
    return primary if primary in LANGUAGES else DEFAULT_LANGUAGE


def single_line(text: str) -> str:
    """`text` with control, format and line-separator characters turned into spaces and runs of
    whitespace collapsed, so it can stand in a header or a line of its own."""
    cleaned = "".join(
        " " if unicodedata.category(char) in {"Cc", "Cf", "Zl", "Zp"} else char for char in text
    )
    return " ".join(cleaned.split())


def format_when(at: datetime, time_zone: str, language: str) -> str:
    """A moment as the recipient reads it: their zone, its abbreviation, and the year."""
    local = at.astimezone(ZoneInfo(time_zone))
    lang = language_for(language)
    return _DATE_FORMATS[lang].format(
        weekday=_WEEKDAYS[lang][local.weekday()],
        day=local.day,
        month=_MONTHS[lang][local.month - 1],
        year=local.year,
        time=local.strftime("%H:%M"),
        zone=local.tzname() or time_zone,
    )


@cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("services.notifier", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def context_for(notice: Notice, lang: str, link_until: datetime | None = None) -> dict[str, Any]:
    """What the templates are given: for a restricted task, nothing that says what it is.
    With `link_until`, the link is a partner's action link, good until then."""
    until = format_when(link_until, notice.time_zone, lang) if link_until is not None else None
    context: dict[str, Any] = {
        "link_until": until,
        "lang": lang,
        "kind": str(notice.kind),
        "name": single_line(notice.recipient_name),
        "restricted": notice.restricted,
        "urgent": notice.urgent,
        "exercise": notice.exercise,
        "link": str(notice.link) if notice.link is not None else None,
    }
    if notice.restricted:
        return context
    when = {
        field: format_when(at, notice.time_zone, lang) if at is not None else None
        for field, at in (("acknowledge_by", notice.acknowledge_by), ("due_by", notice.due_by))
    }
    return (
        context
        | when
        | {
            "title": single_line(notice.task_title),
            "task_id": notice.task_id,
            "incident_id": notice.incident_id,
            "incident_type": notice.incident_type.replace("-", " "),
            "missed_by": notice.missed_by,
            "step": notice.step,
        }
    )


def _subject(env: Environment, lang: str, context: dict[str, Any]) -> str:
    subject = single_line(env.get_template(f"{lang}/subject.txt").render(context))
    if len(subject) > MAX_SUBJECT:
        subject = subject[: MAX_SUBJECT - 1].rstrip() + "…"
    return subject


def render(notice: Notice, link_until: datetime | None = None) -> RenderedMessage:
    """The message; `link_until` when its link is an action link (services.core.links)."""
    lang = language_for(notice.language)
    env = _environment()
    context = context_for(notice, lang, link_until)
    body = "restricted" if notice.restricted else str(notice.kind)
    return RenderedMessage(
        subject=_subject(env, lang, context),
        text=env.get_template(f"{lang}/{body}.txt").render(context),
        html=env.get_template(f"{lang}/{body}.html").render(context),
    )
