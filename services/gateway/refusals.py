"""What a console page answers when it cannot do what was asked: a page saying why (never a
problem document, which is the API's), or a redirect to sign in."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from services.gateway.pages import page

TITLES = {
    400: "This did not work",
    403: "Not allowed",
    404: "Not found",
    409: "This has changed",
    410: "No longer available",
    429: "Too many attempts",
    503: "Try again shortly",
}
# Where a `next` address may lead after signing in: a path of this site, nothing else.
LONGEST_NEXT = 2000


class ConsoleRefusal(Exception):
    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


class SignInRequired(Exception):
    """The page needs someone signed in; they come back to `next` afterwards."""

    def __init__(self, next_url: str = "/") -> None:
        super().__init__("sign in first")
        self.next_url = next_url


def safe_next(value: str | None) -> str:
    """A path on this site to go to after signing in; "/" for anything else (another site,
    `//host`, a scheme, control characters), so the parameter cannot send anyone away."""
    if not value or len(value) > LONGEST_NEXT or not value.startswith("/"):
        return "/"
    if value.startswith(("//", "/\\")) or any(ord(c) < 0x20 or c == "\\" for c in value):
        return "/"
    return value


def signin_address(next_url: str) -> str:
    target = safe_next(next_url)
    return "/signin" if target == "/" else "/signin?" + urlencode({"next": target})


async def _on_refusal(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefusal)
    title = TITLES.get(exc.status, "This did not work")
    context = {"title": title, "message": exc.message}
    return page(request, "message.html", context, status=exc.status, headers=exc.headers)


async def _on_sign_in_required(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    response = RedirectResponse(signin_address(exc.next_url), status_code=303)
    response.headers["cache-control"] = "no-store"
    return response


def install_refusals(app: FastAPI) -> None:
    app.add_exception_handler(ConsoleRefusal, _on_refusal)
    app.add_exception_handler(SignInRequired, _on_sign_in_required)
