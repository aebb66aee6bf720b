"""Who holds which role. The order of members within a role is the rotation order."""

from __future__ import annotations

import difflib

from pydantic import Field, model_validator

from schemas.base import Contract, PersonId
from schemas.enums import Role
from schemas.yaml_source import read_document, validate_document


class Member(Contract):
    id: PersonId
    name: str = Field(min_length=1)
    roles: tuple[Role, ...] = Field(min_length=1)
    organisation: str
    partner: bool = Field(
        default=False, description="From a partner organisation, not agency staff"
    )
    email: str | None = None
    languages: tuple[str, ...] = Field(default=(), description="Languages spoken, e.g. [en, es]")
    active: bool = True


class Roster(Contract):
    agency: str
    example: bool = Field(default=False, description="Fictional people, for trying Pathways out")
    members: tuple[Member, ...]

    @model_validator(mode="after")
    def _unique_ids(self) -> Roster:
        seen: set[str] = set()
        for member in self.members:
            if member.id in seen:
                raise ValueError(f"duplicate member id {member.id!r}")
            seen.add(member.id)
        return self

    def member(self, person_id: str) -> Member | None:
        return next((m for m in self.members if m.id == person_id), None)

    def unknown_person(self, person_id: str) -> str | None:
        """Why `person_id` names nobody (with the closest member id), None if it is a member."""
        if self.member(person_id) is not None:
            return None
        close = difflib.get_close_matches(person_id, [m.id for m in self.members], n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return f"no roster member {person_id}{hint}"

    def holders(self, role: Role) -> tuple[str, ...]:
        return tuple(m.id for m in self.members if m.active and role in m.roles)


def parse_roster(raw: bytes, file: str) -> Roster:
    """Validate a roster file's content; raises SourceInvalid listing every problem found."""
    return validate_document(read_document(raw, file), Roster)
