from __future__ import annotations

from datetime import time, timedelta

import pytest
from pydantic import ValidationError

from schemas.notifications import Channel, Delivery, Notice, QuietHours, Target
from tests.unit.factories import a_notice


@pytest.mark.parametrize("field", ["notes", "attributes", "involved", "instructions"])
def test_a_notice_has_no_room_for_notes_attributes_or_involved_people(field: str) -> None:
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        a_notice(**{field: "anything"})
    assert field not in Notice.model_fields


def test_a_notice_is_frozen_and_round_trips_through_json() -> None:
    notice = a_notice(link="https://pathways.example.org/t", missed_by="sam.okafor", step=1)
    with pytest.raises(ValidationError):
        notice.urgent = True  # type: ignore[misc]
    assert Notice.model_validate_json(notice.model_dump_json()) == notice


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Mars/Olympus_Mons"),
        ("time_zone", "../../etc/passwd"),
        ("language", "english please"),
        ("notice_id", "id with spaces"),
        ("link", "javascript:alert(1)"),
        ("acknowledge_by", "2026-03-03T12:00:00"),
        ("step", 0),
    ],
)
def test_a_notice_refuses_what_it_cannot_show(field: str, value: object) -> None:
    with pytest.raises(ValidationError):
        a_notice(**{field: value})


def test_targets_say_what_each_channel_needs() -> None:
    assert Target(kind=Channel.EMAIL).address is None  # the roster's address
    Target(kind=Channel.APPRISE, secret_ref="priya-sms")
    Target(kind=Channel.WEBHOOK, address="https://p.example.org/h", secret_ref="p")
    refused = [
        {"kind": "webhook", "address": "https://p.example.org/h"},
        {"kind": "webhook", "address": "ftp://p.example.org/h", "secret_ref": "p"},
        {"kind": "apprise"},
        {"kind": "inbox", "address": "somewhere"},
        {"kind": "email", "after": "-PT1M"},
        {"kind": "sms"},
    ]
    for fields in refused:
        with pytest.raises(ValidationError):
            Target.model_validate(fields)
    assert Target.model_validate(
        {"kind": "apprise", "secret_ref": "s", "after": "PT10M"}
    ).after == (timedelta(minutes=10))


def test_quiet_hours_cannot_be_empty() -> None:
    with pytest.raises(ValidationError):
        QuietHours(start=time(22, 0), end=time(22, 0))
    assert QuietHours.model_validate({"start": "22:00", "end": "07:00"}).end == time(7, 0)


def test_a_delivery_is_either_delivered_or_says_why_not() -> None:
    base = {"notice_id": "n1", "channel": "email", "target": "smtp://mail:25"}
    Delivery.model_validate(base | {"ok": True})
    Delivery.model_validate(base | {"ok": False, "error": "refused", "permanent": True})
    for fields in ({"ok": True, "error": "x"}, {"ok": True, "permanent": True}, {"ok": False}):
        with pytest.raises(ValidationError):
            Delivery.model_validate(base | fields)


def test_quiet_hours_read_as_a_range_or_quoted_times_never_as_yaml_numbers() -> None:
    assert QuietHours.model_validate("22:00-07:00") == QuietHours(start=time(22), end=time(7))
    for unusable in ({"start": 1320, "end": "07:00"}, "22:00", "late-early"):
        with pytest.raises(ValidationError):
            QuietHours.model_validate(unusable)
