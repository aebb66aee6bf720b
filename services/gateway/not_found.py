"""An address the console does not have, asked for by a browser: a page in the console's
layout saying so, with a way back to the board, instead of the API's problem document. API
clients (a path under /api/, or asking for JSON) get the RFC 9457 problem as before."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException
from starlette.responses import Response

from services.core.logging import get_logger
from services.gateway import problems
from services.gateway.pages import page
from services.gateway.signed_in import current_session

log = get_logger(__name__)

NOT_FOUND_TITLE = "Page not found"
JSON_TYPES = ("application/json", "application/problem+json")


def wants_page(request: Request) -> bool:
    """A browser's navigation: not the API, asks for HTML, and not for JSON."""
    if request.url.path == "/api" or request.url.path.startswith("/api/"):
        return False
    accept = request.headers.get("accept", "").lower()
    return "text/html" in accept and not any(kind in accept for kind in JSON_TYPES)


async def _viewer_if_signed_in(request: Request) -> None:
    """Sets the layout's viewer when a session is on the request. The page must still answer
    when the session store cannot (it only says the address is unknown), so any failure there
    is logged and the page shown as to someone signed out."""
    try:
        await current_session(request)
    except Exception:
        log.warning("not_found_session_unreadable")


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code != 404 or not wants_page(request):
        return await problems.on_http_error(request, exc)
    await _viewer_if_signed_in(request)
    return page(request, "not_found.html", {"title": NOT_FOUND_TITLE}, status=404)


def install_not_found(app: FastAPI) -> None:
    # Replaces the problem handler of services.gateway.problems, which it falls back to.
    app.add_exception_handler(HTTPException, on_http_error)
