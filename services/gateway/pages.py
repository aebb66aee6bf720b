"""How a console page is answered: a template from `templates/`, never cached."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def page(
    request: Request,
    name: str,
    context: Mapping[str, object] | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A page; never cached (it may name who is signed in, and holds form tokens)."""
    viewer = getattr(request.state, "viewer", None)
    merged = {"viewer": viewer, **(context or {})}
    response = templates.TemplateResponse(
        request, name, merged, status_code=status, headers=dict(headers or {})
    )
    response.headers["cache-control"] = "no-store"
    return response
