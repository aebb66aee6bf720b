"""How the timeline tells deliveries: one line naming the person and the channel, never an
address; for command staff and reviewers (restricted for a restricted task)."""

from __future__ import annotations

from typing import Any

import pytest

from schemas.enums import Tier
from schemas.events import NoticeFailed, NoticeSent
from schemas.notifications import Channel, NoticeKind
from services.timeline.render import entry
from tests.unit.factories import T0


def delivery(outcome: type[NoticeSent] | type[NoticeFailed], **fields: Any) -> Any:
    base: dict[str, Any] = {
        "event_id": "INC-AAAAAAAA.family-contact.created.dana.reyes.email.sent",
        "incident_id": "INC-AAAAAAAA",
        "actor": "notifier",
        "at": T0,
        "notice_id": "INC-AAAAAAAA.family-contact.created.dana.reyes",
        "kind": NoticeKind.ASSIGNED,
        "recipient": "dana.reyes",
        "task_id": "INC-AAAAAAAA.family-contact",
        "channel": Channel.EMAIL,
        "channel_key": "email",
        "target": "smtp://mail.pd.example.org:25",
        "attempt": 1,
    }
    if outcome is NoticeFailed:
        base |= {"error": "SMTPConnectError: refused", "permanent": False}
    return outcome.model_validate(base | fields)


@pytest.mark.parametrize(
    ("channel", "text"),
    [
        (Channel.EMAIL, "Emailed dana.reyes about family-contact"),
        (Channel.INBOX, "Notified dana.reyes in the inbox about family-contact"),
        (Channel.WEBHOOK, "Called dana.reyes's webhook about family-contact"),
        (Channel.APPRISE, "Messaged dana.reyes through Apprise about family-contact"),
    ],
)
def test_a_delivery_is_one_line_naming_the_person_and_the_channel(
    channel: Channel, text: str
) -> None:
    shown = entry(delivery(NoticeSent, channel=channel), seq=3)
    assert shown.text == text
    assert shown.task_id == "INC-AAAAAAAA.family-contact"
    assert shown.type == "notice.sent" and shown.tier is Tier.COMMAND


def test_what_the_notice_was_about_unless_an_assignment() -> None:
    shown = entry(delivery(NoticeSent, kind=NoticeKind.DELIVERY_FAILED), seq=3)
    assert shown.text == "Emailed dana.reyes about family-contact (someone could not be reached)"


def test_a_failure_says_after_how_many_tries_and_why_never_the_address() -> None:
    shown = entry(delivery(NoticeFailed, attempt=9), seq=4)
    assert shown.text == (
        "Could not email dana.reyes about family-contact after 9 tries: SMTPConnectError: refused"
    )
    assert "@" not in shown.model_dump_json().replace("smtp://mail", "")


def test_the_escalation_webhook_is_named_as_such() -> None:
    shown = entry(delivery(NoticeSent, recipient="escalation-webhook", channel=Channel.WEBHOOK,
                           kind=NoticeKind.ESCALATION), seq=5)  # fmt: skip
    assert shown.text == "Called the escalation webhook about family-contact (escalation)"


def test_a_delivery_about_a_restricted_task_is_restricted() -> None:
    assert entry(delivery(NoticeSent, restricted=True), seq=6).tier is Tier.RESTRICTED
