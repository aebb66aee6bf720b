"""/api/v1/asyncapi.json: the NATS interface, described from the same catalog as the API."""

from __future__ import annotations

import functools
import json
from typing import Any

from fastapi import APIRouter

from services.core.asyncapi import specification

router = APIRouter(tags=["documents"])


@functools.cache
def _document() -> dict[str, Any]:
    found: dict[str, Any] = json.loads(specification())
    return found


@router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3.0 document of Pathways' NATS interface",
    description="Commands, queries and events, with the same models as this API.",
)
async def asyncapi() -> dict[str, Any]:
    return _document()
