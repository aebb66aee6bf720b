"""Who is on call (`/on-call`): for each role of the roster in force, who is on call now and
until when, who else is available, and who is away until when; then every away period not
over yet. It reads the roster as the services give it (without anyone's addresses)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from schemas import subjects
from schemas.availability import AwayPeriod, duty
from schemas.principals import Principal
from schemas.replies import RosterReply
from schemas.roster import Roster
from schemas.roster_versions import read_roster
from services.gateway.console import console_router
from services.gateway.console_calls import read
from services.gateway.pages import page
from services.gateway.signed_in import signed_in
from services.gateway.when import utc, utc_now

router = console_router()


@dataclass(frozen=True)
class RoleDuty:
    role: str
    on_call: list[tuple[str, str]]  # (name, "until …" or "")
    available: list[str]
    away: list[tuple[str, str]]  # (name, until in UTC)


def _name(roster: Roster, person: str) -> str:
    member = roster.member(person)
    return member.name if member is not None else person


def duties(roster: Roster, away: tuple[AwayPeriod, ...], now: datetime) -> list[RoleDuty]:
    shown = []
    for role in roster.roles:
        found = duty(roster, role.id, now, away)
        on_call = {e.person for e in found.on_call}
        shown.append(
            RoleDuty(
                role=role.title,
                on_call=[
                    (_name(roster, e.person), f"until {utc(e.until)}" if e.until else "")
                    for e in found.on_call
                ],
                available=[_name(roster, p) for p in found.available if p not in on_call],
                away=[(_name(roster, p.person), utc(p.until)) for p in found.away],
            )
        )
    return shown


@router.get("/on-call")
async def on_call_page(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    reply: RosterReply = await read(request, principal, subjects.QRY_ROSTER_GET, {})
    roster = read_roster(json.dumps(reply.roster).encode())
    away = tuple(reply.away)
    now = utc_now()
    periods = [
        (_name(roster, p.person), utc(p.starts), utc(p.until), p.covers(now))
        for p in sorted(away, key=lambda p: p.starts)
    ]
    context = {
        "duties": duties(roster, away, now),
        "periods": periods,
        "now": utc(now),
        "section": "on-call",
    }
    return page(request, "on_call.html", context)
