"""What to do with a reaction that failed: pure, so the policy is tested without a server."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import ValidationError

from services.core.errors import Unprocessable


@dataclass(frozen=True)
class RetryLater:
    delay: float


@dataclass(frozen=True)
class GiveUp:
    """Dead-letter it: no delivery is left, or it can never succeed."""


Outcome = RetryLater | GiveUp


def max_deliveries(delays: Sequence[float]) -> int:
    """One first delivery, then one redelivery after each delay."""
    return len(delays) + 1


def after_failure(delays: Sequence[float], delivery: int, error: BaseException) -> Outcome:
    """`delivery` counts from 1, as JetStream's num_delivered does."""
    if isinstance(error, Unprocessable) or delivery >= max_deliveries(delays):
        return GiveUp()
    return RetryLater(delays[delivery - 1])


def error_text(error: BaseException) -> str:
    """What is kept of an error: a ValidationError's message would quote the input, which may
    be a person's words, so it is reduced to where the problems are."""
    if isinstance(error, ValidationError):
        places = sorted({".".join(str(p) for p in e["loc"]) or "body" for e in error.errors()})
        return f"{error.error_count()} validation error(s) in {', '.join(places)[:200]}"
    return str(error)
