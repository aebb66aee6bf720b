"""Your account: who you are signed in as, your organisation and roles, and your access."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.responses import Response

from schemas.principals import Principal
from services.core.access import effective_roles
from services.gateway.console import console_of, console_router
from services.gateway.pages import page
from services.gateway.signed_in import signed_in

router = console_router()


@router.get("/account")
async def account(
    request: Request, principal: Annotated[Principal, Depends(signed_in)]
) -> Response:
    roster = console_of(request).rt.roster
    member = roster.member(principal.person) if principal.person else None
    organisation = roster.organisation(member.organisation) if member else None
    context = {
        "organisation": organisation.name if organisation else (member and member.organisation),
        "member": member,
        "roles": [roster.role(role_id) for role_id in member.roles] if member else [],
        "access": sorted(role.value for role in effective_roles(principal, roster)),
        "example": roster.example,
    }
    return page(request, "account.html", {**context, "section": "account"})
