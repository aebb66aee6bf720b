"""/api/v1/review/metrics: response metrics across incidents, from the metrics projection."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError

from schemas import subjects
from schemas.base import Slug, utc_now
from schemas.metrics import MetricsReply
from services.gateway.api.common import QUERY_PROBLEMS, ask
from services.gateway.edge import Authenticated

router = APIRouter(prefix="/review", tags=["review"])

DEFAULT_SINCE = timedelta(days=90)


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


@router.get(
    "/metrics",
    summary="Response metrics across incidents",
    description="Per role, family and phase (nearest-rank median and p90, windows met), "
    "overall, and follow-ups, over the incidents logged since `since` (default: 90 days ago). "
    "Command staff, reviewers and administrators.",
    responses=QUERY_PROBLEMS,
)
async def get_metrics(
    request: Request,
    principal: Authenticated,
    since: Annotated[
        datetime | None, Query(description="Incidents logged at or after this time (ISO 8601)")
    ] = None,
    type: Annotated[Slug | None, Query(description="Only incidents of this type")] = None,
    exercises: Annotated[bool, Query(description="Count exercises too")] = False,
) -> MetricsReply:
    raw = request.query_params.get("since")
    if raw is not None and not _ISO_DATE.match(raw):
        # Pydantic would read a bare number as seconds since 1970: say it is not a time instead.
        error = {"type": "datetime_from_date_parsing", "loc": ("query", "since"),
                 "msg": "Input should be an ISO 8601 date and time", "input": raw}  # fmt: skip
        raise RequestValidationError([error])
    fields = {
        "since": since or utc_now() - DEFAULT_SINCE,
        "incident_type": type,
        "exercises": exercises,
    }
    found: MetricsReply = await ask(request, principal, subjects.QRY_REVIEW_METRICS, fields)
    return found
