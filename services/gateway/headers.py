"""Security headers on every response: pages, API answers, problems and 404s alike.

Pure ASGI rather than Starlette's BaseHTTPMiddleware, which buffers each response through a
task of its own and breaks streaming (server-sent events). A header a route sets itself (a page
with a stricter policy of its own) is left as it is."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Browser features no page of Pathways uses, switched off for every page and any frame.
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
)
# One year; sent only when Pathways is reached over https (PATHWAYS_PUBLIC_URL), since a
# browser that saw it over http would refuse the plain address that is then in use.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"


def security_headers(hsts: bool) -> list[tuple[bytes, bytes]]:
    headers = {
        "content-security-policy": CONTENT_SECURITY_POLICY,
        "x-frame-options": "DENY",
        "x-content-type-options": "nosniff",
        # Not no-referrer: under it a browser sends `Origin: null` with a form posted to its
        # own site, which the cross-site check (services.gateway.csrf) must refuse. Same-origin
        # requests carry the origin; no address ever leaves for another site.
        "referrer-policy": "same-origin",
        "cross-origin-opener-policy": "same-origin",
        "permissions-policy": PERMISSIONS_POLICY,
    }
    if hsts:
        headers["strict-transport-security"] = STRICT_TRANSPORT_SECURITY
    return [(name.encode(), value.encode()) for name, value in headers.items()]


class SecurityHeaders:
    def __init__(self, app: ASGIApp, *, hsts: bool) -> None:
        self.app = app
        self.headers = security_headers(hsts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = [(name, value) for name, value in message.get("headers", [])]
                names = {name.lower() for name, _ in present}
                added = [header for header in self.headers if header[0] not in names]
                message = {**message, "headers": present + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
