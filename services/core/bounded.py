"""Records trimmed to the schema's limits, for the rare record too big to list whole (written
before the limits, or by hand). Pure."""

from __future__ import annotations

from schemas.limits import ATTRIBUTE_VALUE_MAX, ATTRIBUTES_MAX, NOTE_MAX, TITLE_MAX
from schemas.tasks import TaskSnapshot
from schemas.views import IncidentSummary

TRIMMED = " […]"
INSTRUCTIONS_MAX = 8000


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - len(TRIMMED)] + TRIMMED


def bounded_incident(summary: IncidentSummary) -> IncidentSummary:
    attributes = {
        key[:64]: _cut(value, ATTRIBUTE_VALUE_MAX)
        for key, value in list(summary.attributes.items())[:ATTRIBUTES_MAX]
    }
    return summary.model_copy(
        update={"title": _cut(summary.title, TITLE_MAX), "attributes": attributes}
    )


def bounded_task(task: TaskSnapshot) -> TaskSnapshot:
    return task.model_copy(
        update={
            "title": _cut(task.title, TITLE_MAX),
            "note": _cut(task.note, NOTE_MAX) if task.note else task.note,
            "instructions": _cut(task.instructions, INSTRUCTIONS_MAX),
        }
    )
