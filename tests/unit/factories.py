"""Builders for domain objects in unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.enums import Severity, TaskStatus, Tier
from schemas.events import IncidentLogged
from schemas.notifications import Notice
from schemas.tasks import TaskSnapshot

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def a_task(**changes: object) -> TaskSnapshot:
    task = TaskSnapshot(
        task_id="INC-AAAAAAAA.family-contact",
        incident_id="INC-AAAAAAAA",
        key="family-contact",
        title="Family contact",
        role="victim_advocate",
        tier=Tier.RESTRICTED,
        required=True,
        status=TaskStatus.ASSIGNED,
        assignee="priya.nair",
        acknowledge_by=T0 + timedelta(hours=2),
        due_by=T0 + timedelta(days=1),
    )
    return task.model_copy(update=changes)


def an_incident(
    incident_type: str = "officer-involved-shooting", **changes: object
) -> IncidentLogged:
    event = IncidentLogged(
        event_id="INC-AAAAAAAA.logged",
        incident_id="INC-AAAAAAAA",
        actor="renee.alvarez",
        at=T0,
        incident_type=incident_type,
        title="Test",
        severity=Severity.HIGH,
    )
    return event.model_copy(update=changes)


def a_notice(**changes: object) -> Notice:
    """A notice to Priya about her family-contact task; `changes` are validated like input."""
    fields: dict[str, object] = {
        "notice_id": "INC-AAAAAAAA.family-contact.assigned.0",
        "kind": "assigned",
        "recipient_id": "priya.nair",
        "recipient_name": "Priya Nair",
        "language": "en",
        "time_zone": "America/Chicago",
        "task_id": "INC-AAAAAAAA.family-contact",
        "task_title": "Family contact",
        "incident_id": "INC-AAAAAAAA",
        "incident_type": "officer-involved-shooting",
        "acknowledge_by": T0 + timedelta(hours=2),
        "due_by": T0 + timedelta(days=1),
    }
    return Notice.model_validate(fields | changes)
