"""Index keys: where an incident or a task sits in the lists, spelled so that key order is list
order. Pure; the projector writes these keys and the list queries read them.

- `incident.<newest>.<incident>`: every incident, newest first.
- `assignee.<person>.<newest>.<incident>.<task key>`: a person's tasks, newest incident first
  (the person's dots spelled `=`, so an id is one token).

`<newest>` is a fixed-width count that falls as time goes on (so the newest sorts first). A task's
position in a list adds its deadline: `<newest>.<incident>.<acknowledge-by>.<task key>`, compared
as a string (every part but the last has a fixed width).
"""

from __future__ import annotations

from datetime import datetime

from schemas.base import split_task_id
from schemas.tasks import TaskSnapshot

_WIDTH = 16
_TOP = 10**_WIDTH - 1
INCIDENTS = "incident"
ASSIGNEES = "assignee"
# One incident listed on its own: its tasks need no place among other incidents.
ALONE = "0" * _WIDTH
NO_DEADLINE_YET = "9" * _WIDTH  # counts from prerequisites not yet complete: sorts last


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def newest_first(logged_at: datetime) -> str:
    return f"{_TOP - _micros(logged_at):0{_WIDTH}d}"


def incident_key(incident_id: str, logged_at: datetime) -> str:
    return f"{INCIDENTS}.{newest_first(logged_at)}.{incident_id}"


def incident_position(key: str) -> str:
    """`<newest>.<incident>` from an incident index key."""
    return key.removeprefix(f"{INCIDENTS}.")


def incident_of_position(position: str) -> str:
    return position.split(".")[1]


def _token(person: str) -> str:
    """A person id as one key token: ids may hold dots (dana.reyes), which would split it (and
    make `dana`'s keys a prefix of `dana.reyes`'s); `=` never occurs in an id."""
    return person.replace(".", "=")


def assignee_prefix(person: str) -> str:
    return f"{ASSIGNEES}.{_token(person)}."


def assignee_key(person: str, rank: str, task_id: str) -> str:
    incident_id, key = split_task_id(task_id)
    return f"{assignee_prefix(person)}{rank}.{incident_id}.{key}"


def task_of_assignee_key(key: str) -> tuple[str, str]:
    """(`<newest>.<incident>` group, task id) from an assignee index key."""
    _, rank, incident_id, task_key = key.rsplit(".", 3)
    return f"{rank}.{incident_id}", f"{incident_id}.{task_key}"


def task_position(rank: str, task: TaskSnapshot) -> str:
    deadline = (
        f"{_micros(task.acknowledge_by):0{_WIDTH}d}" if task.acknowledge_by else NO_DEADLINE_YET
    )
    return f"{rank}.{task.incident_id}.{deadline}.{task.key}"


def group_of(position: str) -> str:
    """The incident part of a position (`<newest>.<incident>`)."""
    return ".".join(position.split(".")[:2])
