"""What the access log and the HTTP metrics may record of a request: its method and the
*template* of the route it matched, never the path itself (which holds ids), its query string,
the client's address, user agent, cookies or who is signed in."""

from __future__ import annotations

from starlette.routing import Mount
from starlette.types import Scope

UNMATCHED = "unmatched"
# Any other method token a client sends is counted as "other", so that it cannot add series.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_template(scope: Scope) -> str:
    """`/api/v1/tasks/{task_id}` for a request that matched that route (Starlette's router
    records the route in the scope); "unmatched" for one that matched none."""
    # FastAPI (0.165) puts in scope["route"] the route as its router declared it, without the
    # prefixes the router was included under; the whole template is in its route context.
    context = scope.get("fastapi", {}).get("effective_route_context")
    whole = getattr(context, "path", None)
    if isinstance(whole, str) and whole:
        return whole
    route = scope.get("route")
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return UNMATCHED
    return f"{path}/{{path}}" if isinstance(route, Mount) else path


def method_label(scope: Scope) -> str:
    method = str(scope.get("method", ""))
    return method if method in METHODS else "other"
