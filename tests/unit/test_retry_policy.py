"""When a failed reaction is tried again, when it becomes a dead letter, and what is kept."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from schemas.base import utc_now
from schemas.deadletters import (
    ERROR_LIMIT,
    LETTER_RECORD,
    DeadLetter,
    dead_letter_id_for,
    describe_error,
)
from services.core.errors import Unprocessable
from services.core.retries import GiveUp, RetryLater, after_failure, error_text, max_deliveries
from services.core.settings import Settings

DELAYS = (1.0, 5.0, 15.0)


def test_each_redelivery_waits_its_own_delay_then_the_message_is_given_up() -> None:
    assert max_deliveries(DELAYS) == 4
    outcomes = [after_failure(DELAYS, delivery, RuntimeError()) for delivery in (1, 2, 3, 4)]
    assert outcomes == [RetryLater(1.0), RetryLater(5.0), RetryLater(15.0), GiveUp()]


def test_an_unprocessable_message_is_given_up_at_once() -> None:
    assert after_failure(DELAYS, 1, Unprocessable("unknown event type")) == GiveUp()


def test_no_delays_means_one_delivery() -> None:
    assert after_failure((), 1, RuntimeError()) == GiveUp()


def test_the_default_delays_ride_out_an_outage_of_several_minutes() -> None:
    delays = Settings().retry_delays
    assert sum(delays) >= 15 * 60
    assert delays == tuple(sorted(delays))


def test_delays_are_read_from_a_comma_separated_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAYS_RETRY_DELAYS", "0.5, 2,10")
    assert Settings().retry_delays == (0.5, 2.0, 10.0)
    monkeypatch.setenv("PATHWAYS_RETRY_DELAYS", "1,0")
    with pytest.raises(ValidationError):
        Settings()


class Named(BaseModel):
    name: int


def test_a_validation_error_is_kept_without_the_input_it_quotes() -> None:
    with pytest.raises(ValidationError) as caught:
        Named.model_validate_json('{"name": "Jordan Smith"}')
    text = error_text(caught.value)
    assert "Jordan" not in text
    assert text == "1 validation error(s) in name"


def test_errors_are_cut_to_fit() -> None:
    kept = describe_error("RuntimeError", "x" * 2000)
    assert len(kept) == ERROR_LIMIT and kept.startswith("RuntimeError: x")


def test_a_dead_letter_id_is_one_per_consumer_and_message() -> None:
    first = dead_letter_id_for("projector", "PATHWAYS_EVENTS", 7)
    assert first == dead_letter_id_for("projector", "PATHWAYS_EVENTS", 7)
    assert first != dead_letter_id_for("projector", "PATHWAYS_EVENTS", 8)
    assert first != dead_letter_id_for("engine-on-task-completed", "PATHWAYS_EVENTS", 7)
    assert first.startswith("DL-") and len(first) == 11


def test_a_dead_letter_is_frozen_and_round_trips() -> None:
    letter = DeadLetter(
        id="DL-7Q3XK2AB", consumer="projector", stream="PATHWAYS_EVENTS", stream_seq=7,
        subject="pw.evt.INC-7Q3XK2AB.response.completed", deliveries=9,
        error_type="RuntimeError", error="RuntimeError: boom", at=utc_now(),
    )  # fmt: skip
    with pytest.raises(ValidationError):
        letter.deliveries = 1  # type: ignore[misc]
    assert LETTER_RECORD.validate_json(letter.model_dump_json()) == letter
