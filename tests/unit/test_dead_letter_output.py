"""`admin dead-letters list` fits 80 columns and never cuts an id."""

from __future__ import annotations

import pytest

from schemas.base import utc_now
from schemas.deadletters import DeadLetter
from services.cli.admin import letter_text


@pytest.mark.parametrize(
    ("consumer", "key"),
    [("engine-on-task-completed", "peer-support-defusing"), ("c" * 63, "k" * 63)],
)
def test_every_line_fits_80_columns_and_the_id_leads_whole(consumer: str, key: str) -> None:
    letter = DeadLetter(
        id="DL-7Q3XK2AB", consumer=consumer, stream="PATHWAYS_EVENTS", stream_seq=1042,
        subject=f"pw.evt.INC-7Q3XK2AB.task.{key}.acknowledged", deliveries=9,
        error_type="RuntimeError", error="RuntimeError: " + "could not release " * 20,
        at=utc_now(),
    )  # fmt: skip
    lines = letter_text(letter).splitlines()
    assert all(len(line) <= 80 for line in lines), lines
    assert lines[0].startswith("DL-7Q3XK2AB  ")
    assert "9 deliveries" in lines[0]
    joined = "".join(line.strip() for line in lines)
    assert consumer in joined and letter.subject in joined
