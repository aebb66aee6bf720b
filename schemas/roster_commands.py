"""Commands and queries of the live roster (served by the engine)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, model_validator

from schemas.base import PersonId, UtcDateTime
from schemas.commands import Command, Query


class LoadRoster(Command):
    """Put a roster in force; `roster` is what `pathways roster validate` accepted, as JSON."""

    source: str = Field(default="", max_length=500, description="The file it came from")
    roster: dict[str, Any]


class RecordAway(Command):
    """`person` is away from `starts` until `until`: offered no task, on call for nothing."""

    person: PersonId
    starts: UtcDateTime
    until: UtcDateTime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> RecordAway:
        if self.until <= self.starts:
            raise ValueError("--until must be after --from")
        return self


class EndAway(Command):
    """`person` is back: the away period they are in now ends (later ones stay)."""

    person: PersonId


class GetRoster(Query):
    """The roster in force, its version, and the away periods not over yet."""
