"""A failed reaction is redelivered after a back-off that grows with its delivery count, never
at once: a stream without a leader for a few seconds must not use up every delivery."""

from __future__ import annotations

import pytest

from services.core.reactors import BACKOFF_SECONDS, MAX_DELIVER, retry_later


@pytest.mark.parametrize(
    ("delivered", "delay"), [(1, 0.5), (2, 1), (3, 2), (4, 5), (9, 300), (MAX_DELIVER, 300)]
)
def test_a_failed_reaction_is_redelivered_after_its_back_off(delivered: int, delay: float) -> None:
    nack = retry_later("engine-on-incident-logged", 7, delivered, TimeoutError())
    assert nack.extra_options == {"delay": delay}


def test_the_deliveries_outlast_a_leader_election() -> None:
    waited = sum(BACKOFF_SECONDS[min(n, len(BACKOFF_SECONDS)) - 1] for n in range(1, MAX_DELIVER))
    assert waited > 60, "every delivery used up within a minute"
