"""What `pathways up` says about signing in to the console with the example roster."""

from __future__ import annotations

from schemas.roster import Member, Roster


def example_people(roster: Roster) -> tuple[Member | None, Member | None]:
    """A member of command staff and a responder (someone of the agency holding no command
    role), to name in the banner."""
    command = set(roster.command_staff())
    active = [m for m in roster.members if m.active]
    lead = next((m for m in active if m.id in command), None)
    responder = next((m for m in active if m.id not in command and m.team is not None), None)
    return lead, responder


def demo_lines(roster: Roster, console: str, password: str) -> list[str]:
    lead, responder = example_people(roster)
    names = [
        f"{m.id} ({what})"
        for m, what in ((lead, "command staff"), (responder, "a responder"))
        if m is not None
    ]
    return [
        f"Sign in at {console}/ as any example person, e.g. {' or '.join(names)}.",
        f"Demo password (every example person): {password}",
    ]
