"""The board's pure parts: which change a projection's subject names, the broadcaster's bounded
queues, progress and attention counts, deadlines in words, and the typed attribute fields the
log form renders for each kind of declared attribute."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.enums import TaskStatus, Tier
from schemas.playbook import AttributeSpec, AttributeType
from schemas.tasks import TaskSnapshot
from services.gateway.incident_views import attention, by_phase_and_role, deadline, span
from services.gateway.live import CLIENT_QUEUE, Broadcaster, Change, change_of
from services.gateway.new_incident import Draft
from services.gateway.pages import templates

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def task(key: str, status: TaskStatus, **extra: object) -> TaskSnapshot:
    fields: dict[str, object] = {
        "task_id": f"INC-AAAABBBB.{key}",
        "incident_id": "INC-AAAABBBB",
        "key": key,
        "title": key,
        "role": "victim_advocate",
        "tier": Tier.COMMAND,
        "required": True,
        "status": status,
        "acknowledge_by": None,
        "due_by": None,
        **extra,
    }
    return TaskSnapshot.model_validate(fields)


def test_a_projection_subject_names_its_incident_or_task_and_nothing_else() -> None:
    assert change_of("$KV.pw_incidents.INC-AAAABBBB") == Change("INC-AAAABBBB")
    assert change_of("$KV.pw_tasks.INC-AAAABBBB.notify-family") == Change(
        "INC-AAAABBBB", "INC-AAAABBBB.notify-family"
    )
    for other in ("$KV.pw_tasks.meta", "$KV.pw_incidents.INC-AAAABBBB.x", "$KV.pw_index.INC-A"):
        assert change_of(other) is None


def test_a_slow_client_keeps_the_newest_changes_and_closing_ends_every_stream() -> None:
    broadcaster = Broadcaster()
    board = broadcaster.listen(lambda change: True)
    one = broadcaster.listen(lambda change: change.incident_id == "INC-AAAABBBB")
    for n in range(CLIENT_QUEUE + 5):
        broadcaster.publish(Change(f"INC-{n:08d}"))
    broadcaster.publish(Change("INC-AAAABBBB"))
    assert board.queue.qsize() == CLIENT_QUEUE and board.dropped == 6
    assert one.queue.qsize() == 1
    kept = [board.queue.get_nowait() for _ in range(CLIENT_QUEUE)]
    assert kept[-1] == Change("INC-AAAABBBB") and kept[0] == Change("INC-00000006")
    broadcaster.close()
    assert board.queue.get_nowait() is None and len(broadcaster) == 0
    late = broadcaster.listen(lambda change: True)
    assert late.queue.get_nowait() is None


def test_progress_and_what_needs_attention() -> None:
    tasks = [
        task("a", TaskStatus.COMPLETED),
        task("b", TaskStatus.SKIPPED),
        task("c", TaskStatus.UNASSIGNED),
        task("d", TaskStatus.ASSIGNED, acknowledge_by=NOW - timedelta(minutes=5)),
        task("e", TaskStatus.IN_PROGRESS, due_by=NOW + timedelta(hours=1), escalated=("ack.1.1",)),
        task("f", TaskStatus.CANCELLED, due_by=NOW - timedelta(hours=1)),
    ]
    found = attention(tasks, NOW)
    assert (found.done, found.total) == (1, 5)
    assert (found.overdue, found.unassigned, found.escalated) == (1, 1, 1)
    assert found.needs_attention


def test_deadlines_read_relative_and_in_utc() -> None:
    late = task("d", TaskStatus.ASSIGNED, acknowledge_by=NOW - timedelta(minutes=5))
    assert deadline(late, NOW) == "overdue by 5 min (acknowledge by 2026-05-01 11:55 UTC)"
    soon = task("e", TaskStatus.ACKNOWLEDGED, due_by=NOW + timedelta(hours=3, minutes=10))
    assert deadline(soon, NOW) == "due in 3 h 10 min (2026-05-01 15:10 UTC)"
    assert deadline(task("a", TaskStatus.COMPLETED, due_by=NOW), NOW) == ""
    assert span(timedelta(days=3, hours=2)) == "3 d 2 h"


def test_tasks_group_by_the_playbooks_phases_then_role() -> None:
    tasks = [
        task("x", TaskStatus.ASSIGNED, phase="later"),
        task("y", TaskStatus.ASSIGNED, phase="first", role="chaplain"),
        task("z", TaskStatus.ASSIGNED),
    ]
    groups = by_phase_and_role(tasks, [("first", "First day"), ("later", "Later")], {})
    assert [g.title for g in groups] == ["First day", "Later", "Other tasks"]
    assert groups[0].roles[0].title == "Chaplain"


def test_each_kind_of_declared_attribute_has_its_own_field() -> None:
    declared = {
        "family_language": AttributeSpec(values=("en", "es")),
        "fatalities": AttributeSpec(type=AttributeType.NUMBER),
        "force_used": AttributeSpec(type=AttributeType.BOOLEAN),
        "community": AttributeSpec(),
    }
    html = templates.get_template("incident_new.html").render(
        viewer=None,
        draft=Draft(incident_type="t", errors=[("attr-fatalities", "must be a number")]),
        chosen="t",
        declared=declared,
        types=["t"],
        severities=["high"],
        members=[],
        form_key="k",
    )
    assert '<select id="attr-family_language" name="attr-family_language">' in html
    assert '<option value="es">es</option>' in html
    assert 'id="attr-fatalities" name="attr-fatalities" type="number"' in html
    assert 'id="attr-force_used" name="attr-force_used" type="checkbox" value="true"' in html
    assert 'id="attr-community" name="attr-community" type="text"' in html
    assert '<a href="#attr-fatalities">must be a number</a>' in html
    assert html.count('aria-invalid="true"') == 1
