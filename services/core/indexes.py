"""Index keys: where an incident or a task sits in the lists, spelled so that key order is list
order. Pure; the projector writes these keys and the list queries read them.

- `incident.<newest>.<incident>`: every incident, newest first.
- `assignee.<person>.<newest>.<incident>.<task key>`: a person's tasks, newest incident first
  (the person's dots spelled `=`, so an id is one token). Tasks nobody holds, waiting for command
  staff to assign them, are listed under the holder `_nobody` (no person id starts with `_`).
- `count.<family>.<part>`: how many keys a partition holds (see below).

`<newest>` is two tokens, `<part>.<rest>`: a fixed-width count that falls as time goes on (so
the newest sorts first), split so that `<part>` (about 11.6 days) can be listed on its own. A list
never has to read every key of a family: the counters say which partitions hold how many keys,
and only the partitions a page needs are listed. A task's position in a list adds its deadline:
`<part>.<rest>.<incident>.<acknowledge-by>.<task key>`, compared as a string (every part but the
last has a fixed width).
"""

from __future__ import annotations

from datetime import datetime

from schemas.base import split_task_id
from schemas.enums import TaskStatus
from schemas.tasks import TaskSnapshot

_WIDTH = 16
_PART = 4  # leading digits of the 16 that name a partition: 10^12 µs, about 11.6 days
_TOP = 10**_WIDTH - 1
INCIDENTS = "incident"
ASSIGNEES = "assignee"
COUNTS = "count"
# One incident listed on its own: its tasks need no place among other incidents.
ALONE = f"{'0' * _PART}.{'0' * (_WIDTH - _PART)}"
NO_DEADLINE_YET = "9" * _WIDTH  # counts from prerequisites not yet complete: sorts last
NOBODY = "_nobody"


def holder(task: TaskSnapshot) -> str | None:
    """Under whom the task is indexed: its assignee, or `NOBODY` while it is in the pool with
    nobody to take it (what command staff must see), or nobody at all."""
    if task.assignee is not None:
        return task.assignee
    return NOBODY if task.status is TaskStatus.UNASSIGNED else None


def _micros(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


def newest_first(logged_at: datetime) -> str:
    """`<part>.<rest>`: the incident's rank, newest first."""
    digits = f"{_TOP - _micros(logged_at):0{_WIDTH}d}"
    return f"{digits[:_PART]}.{digits[_PART:]}"


def part_of(position: str) -> str:
    return position[:_PART]


def _token(person: str) -> str:
    """A person id as one key token: ids may hold dots (dana.reyes), which would split it (and
    make `dana`'s keys a prefix of `dana.reyes`'s); `=` never occurs in an id."""
    return person.replace(".", "=")


def incidents_prefix() -> str:
    return f"{INCIDENTS}."


def assignee_prefix(person: str) -> str:
    return f"{ASSIGNEES}.{_token(person)}."


def counter(prefix: str, part: str) -> str:
    """The counter of a family's partition, e.g. count.assignee.dana=reyes.9998."""
    return f"{COUNTS}.{prefix}{part}"


def counters(prefix: str) -> str:
    """A filter for every partition counter of a family."""
    return f"{COUNTS}.{prefix}*"


def incident_key(incident_id: str, logged_at: datetime) -> str:
    return f"{incidents_prefix()}{newest_first(logged_at)}.{incident_id}"


def incident_position(key: str) -> str:
    """`<part>.<rest>.<incident>` from an incident index key."""
    return key.removeprefix(incidents_prefix())


def incident_of_position(position: str) -> str:
    return position.split(".")[2]


def assignee_key(person: str, rank: str, task_id: str) -> str:
    incident_id, key = split_task_id(task_id)
    return f"{assignee_prefix(person)}{rank}.{incident_id}.{key}"


def task_of_assignee_key(key: str) -> tuple[str, str]:
    """(`<part>.<rest>.<incident>` group, task id) from an assignee index key (with or without
    its `assignee.<person>.` prefix)."""
    *_, part, rest, incident_id, task_key = key.split(".")
    return f"{part}.{rest}.{incident_id}", f"{incident_id}.{task_key}"


def task_position(group: str, task: TaskSnapshot) -> str:
    """`group` is `<part>.<rest>.<incident>`."""
    deadline = (
        f"{_micros(task.acknowledge_by):0{_WIDTH}d}" if task.acknowledge_by else NO_DEADLINE_YET
    )
    return f"{group}.{deadline}.{task.key}"


def group_of(position: str) -> str:
    """The incident part of a position (`<part>.<rest>.<incident>`)."""
    return ".".join(position.split(".")[:3])
