"""The HTTP API, /api/v1: every command and query of Pathways (schemas/catalog.py) for the
holder of an API token, through one dispatch path (services.gateway.edge)."""

from __future__ import annotations

from fastapi import APIRouter

from services.gateway.api import documents, incidents, library, me, metrics, review, tasks

PREFIX = "/api/v1"

router = APIRouter(prefix=PREFIX)
for part in (incidents, review, metrics, tasks, library, me, documents):
    router.include_router(part.router)
