"""Who is reading a console page, as the pages need it: their roster person, the roles they
hold, whether they are command staff, and people's and roles' names for display."""

from __future__ import annotations

from dataclasses import dataclass

from schemas.principals import AccessRole, Principal
from schemas.roster import Roster
from services.core.access import READS_EVERY_INCIDENT, effective_roles


@dataclass(frozen=True)
class PageReader:
    person: str | None
    held_roles: frozenset[str]
    command: bool
    roster: Roster
    # Command staff and reviewers: they may open any incident and its timeline.
    reads_incidents: bool = False

    def name(self, person: str | None) -> str:
        """A person's name from the roster (their id when the roster does not know them)."""
        if person is None:
            return "nobody"
        member = self.roster.member(person)
        return member.name if member is not None else person

    def role_title(self, role_id: str) -> str:
        role = self.roster.role(role_id)
        return role.title if role is not None else role_id


def page_reader(principal: Principal, roster: Roster) -> PageReader:
    member = roster.member(principal.person) if principal.person else None
    held = frozenset(member.roles) if member is not None and member.active else frozenset()
    roles = effective_roles(principal, roster)
    return PageReader(
        person=principal.person,
        held_roles=held,
        command=AccessRole.COMMAND in roles,
        roster=roster,
        reads_incidents=bool(roles & READS_EVERY_INCIDENT),
    )
