"""Incidents by their titles, not their ids, where a page lists tasks (My tasks, a task's page):
each incident the reader may read is asked for once; one they may not read keeps its id."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fastapi import Request

from schemas import subjects
from schemas.principals import Principal
from schemas.views import IncidentSummary
from services.gateway.api.common import ask
from services.gateway.problems import ProblemException


async def _title(request: Request, principal: Principal, incident_id: str) -> str | None:
    try:
        found: IncidentSummary = await ask(
            request, principal, subjects.QRY_INCIDENT_GET, {"incident_id": incident_id}
        )
    except ProblemException:
        return None  # not theirs to read (a task of their role nobody holds yet): the id
    return found.title


async def incident_titles(
    request: Request, principal: Principal, incident_ids: Iterable[str]
) -> dict[str, str]:
    """incident id -> title, for the incidents of `incident_ids` this reader may read."""
    wanted = sorted(set(incident_ids))
    titles = await asyncio.gather(*(_title(request, principal, i) for i in wanted))
    return {i: t for i, t in zip(wanted, titles, strict=True) if t is not None}
