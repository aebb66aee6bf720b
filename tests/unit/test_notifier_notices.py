"""Which notices each event calls for, and what they carry: pure, no server."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    NoticeFailed,
    TaskAcknowledged,
    TaskAssigned,
    TaskCreated,
    TaskEscalated,
    TaskReleased,
    TaskReminded,
)
from schemas.notifications import Channel, NoticeKind
from schemas.roster import Roster
from services.notifier.notices import (
    ESCALATION_WEBHOOK,
    RESTRICTED_TITLE,
    coordinators_of,
    delivery_failed_notices,
    escalation_webhook,
    notice_id_for,
    notices_for,
)
from services.notifier.settings import NotifierSettings
from tests.unit.factories import T0, a_task, an_incident

TYPE = "officer-involved-shooting"
NO_LINKS = NotifierSettings(public_url=None, smtp_url=None)
WITH_LINKS = NotifierSettings(public_url="https://pathways.pd.example.org/", smtp_url=None)


def member(person: str, roles: list[str], **fields: Any) -> dict[str, Any]:
    return {"id": person, "name": person.replace(".", " ").title(), "roles": roles,
            "organisation": "ecpd", **fields}  # fmt: skip


ROSTER = Roster.model_validate(
    {
        "agency": "Example",
        "time_zone": "America/Chicago",
        "roles": [
            {"id": "victim_advocate", "title": "Victim advocate", "family": "victim_advocate"},
            {"id": "command_staff", "title": "Command staff", "family": "command"},
        ],
        "organisations": [{"id": "ecpd", "name": "ECPD"}],
        "members": [
            member("priya.nair", ["victim_advocate"]),
            member(
                "lena.morales",
                ["victim_advocate"],
                languages=["en", "es"],
                preferred_language="es",
                time_zone="America/Denver",
            ),  # fmt: skip
            member("renee.alvarez", ["command_staff"]),
            member("james.thornton", ["command_staff"]),
            member("retired.chief", ["command_staff"], active=False),
        ],
    }
)


def created(**task: Any) -> TaskCreated:
    return TaskCreated(
        event_id="INC-AAAAAAAA.family-contact.created",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0,
        task=a_task(**({"tier": Tier.COMMAND} | task)),
    )


def escalated(action: str, **fields: Any) -> TaskEscalated:
    task = fields.pop("task", a_task(tier=Tier.COMMAND))
    return TaskEscalated.model_validate(
        {
            "event_id": f"INC-AAAAAAAA.family-contact.escalated.acknowledge.2.{action}",
            "incident_id": "INC-AAAAAAAA",
            "actor": "engine",
            "at": T0,
            "task": task,
            "deadline": "acknowledge",
            "step": 2,
            "action": action,
            **fields,
        }
    )


def notices(event: AnyEvent, settings: NotifierSettings = NO_LINKS) -> list[Any]:
    return notices_for(event, ROSTER, settings, incident_type=TYPE)


def test_a_created_task_with_an_assignee_tells_them_in_their_language_and_zone() -> None:
    event = created(assignee="lena.morales")
    [notice] = notices(event)
    assert notice.kind is NoticeKind.ASSIGNED
    assert (notice.recipient_id, notice.recipient_name) == ("lena.morales", "Lena Morales")
    assert (notice.language, notice.time_zone) == ("es", "America/Denver")
    assert (notice.task_id, notice.task_title) == ("INC-AAAAAAAA.family-contact", "Family contact")
    assert notice.incident_type == TYPE
    assert notice.notice_id == "INC-AAAAAAAA.family-contact.created.lena.morales"
    assert notice.acknowledge_by == event.task.acknowledge_by and not notice.urgent
    assert notice.link is None


def test_a_member_without_a_zone_of_their_own_has_the_rosters() -> None:
    [notice] = notices(created())
    assert notice.time_zone == "America/Chicago"


def test_a_task_waiting_for_prerequisites_or_in_the_pool_tells_nobody() -> None:
    assert notices(created(status=TaskStatus.WAITING)) == []
    assert notices(created(status=TaskStatus.UNASSIGNED, assignee=None)) == []


def test_a_released_task_tells_its_assignee() -> None:
    event = TaskReleased(event_id="r", incident_id="INC-AAAAAAAA", actor="engine", at=T0,
                         task=a_task())  # fmt: skip
    assert [n.recipient_id for n in notices(event)] == ["priya.nair"]


def test_a_reassignment_tells_the_new_assignee_but_a_claim_tells_nobody() -> None:
    def assigned(actor: str) -> TaskAssigned:
        return TaskAssigned(event_id=f"a.{actor}", incident_id="INC-AAAAAAAA", actor=actor,
                            at=T0, task=a_task(assignee="lena.morales"),
                            previous_assignee="priya.nair")  # fmt: skip

    assert [n.recipient_id for n in notices(assigned("engine"))] == ["lena.morales"]
    assert [n.recipient_id for n in notices(assigned("renee.alvarez"))] == ["lena.morales"]
    assert notices(assigned("lena.morales")) == []


def test_events_that_tell_nobody_anything() -> None:
    acknowledged = TaskAcknowledged(event_id="k", incident_id="INC-AAAAAAAA",
                                    actor="priya.nair", at=T0, task=a_task())  # fmt: skip
    assert notices(acknowledged) == []
    assert notices(an_incident()) == []


def test_a_reminder_carries_the_due_time_it_reminds_of_and_is_not_urgent() -> None:
    due = T0.replace(hour=20)
    event = TaskReminded(event_id="m", incident_id="INC-AAAAAAAA", actor="engine", at=T0,
                         task=a_task(), due_by=due)  # fmt: skip
    [notice] = notices(event)
    assert (notice.kind, notice.due_by, notice.urgent) == (NoticeKind.REMINDER, due, False)


def test_a_restricted_task_is_marked_and_its_title_never_carried() -> None:
    event = created(tier=Tier.RESTRICTED, title="Meet the Okafor family at 12 Elm St")
    [notice] = notices(event)
    assert notice.restricted and notice.task_title == RESTRICTED_TITLE
    assert "Okafor" not in notice.model_dump_json()


def test_an_exercise_is_marked() -> None:
    [notice] = notices(created(exercise=True))
    assert notice.exercise


@pytest.mark.parametrize("public", ["https://pathways.pd.example.org", WITH_LINKS.public_url])
def test_a_link_to_the_task_when_a_public_url_is_set(public: object) -> None:
    settings = NotifierSettings(public_url=public, smtp_url=None)
    [notice] = notices(created(), settings)
    assert str(notice.link) == "https://pathways.pd.example.org/tasks/INC-AAAAAAAA.family-contact"


def test_a_reassigning_escalation_tells_the_new_assignee_who_missed_it() -> None:
    event = escalated("reassign", task=a_task(tier=Tier.COMMAND, assignee="lena.morales"),
                      missed_by="priya.nair")  # fmt: skip
    [notice] = notices(event)
    assert (notice.kind, notice.recipient_id) == (NoticeKind.ESCALATED_TO_YOU, "lena.morales")
    assert (notice.missed_by, notice.step, notice.urgent) == ("priya.nair", 2, True)


def test_a_reminding_escalation_says_which_deadline_was_missed() -> None:
    overdue = escalated("remind", notify=("priya.nair",))
    assert [n.kind for n in notices(overdue)] == [NoticeKind.ACKNOWLEDGE_OVERDUE]
    late = escalated("remind", notify=("priya.nair",), deadline="due")
    assert [n.kind for n in notices(late)] == [NoticeKind.REMINDER]
    assert all(n.urgent for n in notices(late))


def test_an_escalation_tells_each_person_it_names_once_and_skips_strangers() -> None:
    event = escalated("notify_command", notify=("renee.alvarez", "nobody.here", "renee.alvarez",
                                                "james.thornton"))  # fmt: skip
    found = notices(event)
    assert [n.recipient_id for n in found] == ["renee.alvarez", "james.thornton"]
    assert {n.kind for n in found} == {NoticeKind.ESCALATION}
    assert {n.missed_by for n in found} == {"priya.nair"}  # the assignee, unless it says
    assert len({n.notice_id for n in found}) == 2


def test_a_restricted_escalation_names_nobody_who_missed_it() -> None:
    event = escalated("notify_coordinator", notify=("renee.alvarez",),
                      task=a_task(tier=Tier.RESTRICTED), missed_by="priya.nair")  # fmt: skip
    [notice] = notices(event)
    assert notice.missed_by is None and notice.task_title == RESTRICTED_TITLE


def test_a_webhook_step_tells_no_person_and_posts_one_escalation() -> None:
    event = escalated("webhook", webhook_url="https://hooks.pd.example.org/escalations")
    assert notices(event) == []
    notice = escalation_webhook(event, ROSTER, NO_LINKS, incident_type=TYPE)
    assert notice is not None
    assert (notice.kind, notice.recipient_id) == (NoticeKind.ESCALATION, ESCALATION_WEBHOOK)
    assert (notice.step, notice.urgent, notice.missed_by) == (2, True, "priya.nair")
    assert escalation_webhook(escalated("remind"), ROSTER, NO_LINKS, incident_type=TYPE) is None


def test_notice_ids_are_the_events_and_the_persons_and_always_usable() -> None:
    assert notice_id_for("INC-A.k.created", "dana.reyes") == "INC-A.k.created.dana.reyes"
    assert notice_id_for("e", "a") != notice_id_for("e", "b")
    long = notice_id_for("INC-AAAAAAAA." + "x" * 190, "dana.reyes")
    odd = notice_id_for("INC-AAAAAAAA.k.escalated:2026-11-21T08:00+00:00", "dana.reyes")
    for made in (long, odd):
        assert len(made) <= 160 and made[0].isalnum()
        assert set(made) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")
    assert long != notice_id_for("INC-AAAAAAAA." + "x" * 190, "dana.reyez")


def failed(kind: NoticeKind, recipient: str = "priya.nair") -> NoticeFailed:
    return NoticeFailed(
        event_id=f"INC-AAAAAAAA.family-contact.created.{recipient}.email.failed",
        incident_id="INC-AAAAAAAA", actor="notifier", at=T0,
        notice_id=f"INC-AAAAAAAA.family-contact.created.{recipient}", kind=kind,
        recipient=recipient, task_id="INC-AAAAAAAA.family-contact", channel=Channel.EMAIL,
        channel_key="email", target="smtp://127.0.0.1:25", attempt=9, error="refused",
        permanent=False,
    )  # fmt: skip


def test_command_staff_are_the_coordinators_while_the_roster_names_none() -> None:
    assert coordinators_of(ROSTER, "victim_advocate") == ("renee.alvarez", "james.thornton")


def test_a_failed_delivery_is_told_to_the_coordinators_naming_who_was_not_reached() -> None:
    found = delivery_failed_notices(failed(NoticeKind.ASSIGNED), a_task(tier=Tier.COMMAND),
                                    ROSTER, NO_LINKS, incident_type=TYPE)  # fmt: skip
    assert [n.recipient_id for n in found] == ["renee.alvarez", "james.thornton"]
    assert {(n.kind, n.missed_by, n.urgent) for n in found} == {
        (NoticeKind.DELIVERY_FAILED, "priya.nair", True)
    }


def test_a_failed_delivery_goes_to_the_coordinators_the_role_names() -> None:
    data = ROSTER.model_dump(mode="json", by_alias=True)
    data["roles"][0]["coordinators"] = ["lena.morales"]
    roster = Roster.model_validate(data)
    assert coordinators_of(roster, "victim_advocate") == ("lena.morales",)
    found = delivery_failed_notices(failed(NoticeKind.ASSIGNED), a_task(tier=Tier.COMMAND),
                                    roster, NO_LINKS, incident_type=TYPE)  # fmt: skip
    assert [(n.recipient_id, n.kind) for n in found] == [
        ("lena.morales", NoticeKind.DELIVERY_FAILED)
    ]


def test_a_failed_escalation_webhook_is_told_without_naming_a_person() -> None:
    found = delivery_failed_notices(failed(NoticeKind.ESCALATION, ESCALATION_WEBHOOK),
                                    a_task(tier=Tier.COMMAND), ROSTER, NO_LINKS,
                                    incident_type=TYPE)  # fmt: skip
    assert found and {n.missed_by for n in found} == {None}


def test_failures_to_tell_coordinators_do_not_cascade() -> None:
    found = delivery_failed_notices(failed(NoticeKind.DELIVERY_FAILED, "renee.alvarez"),
                                    a_task(), ROSTER, NO_LINKS, incident_type=TYPE)  # fmt: skip
    assert found == []
