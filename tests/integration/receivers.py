"""Real servers that notices are sent to in tests: an SMTP server (aiosmtpd) and an HTTP server
(the standard library's), each in a thread of its own on a free local port."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session

from tests.support import free_port


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    content: bytes


class SmtpSink:
    """Accepts mail for anyone but `nobody@…` (550, no such user) and `busy@…` (451, try later)."""

    def __init__(self) -> None:
        self.received: list[Received] = []

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        if address.startswith("nobody@"):
            return f"550 5.1.1 <{address}>: no such user here"
        if address.startswith("busy@"):
            return "451 4.3.0 mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        self.received.append(Received(str(envelope.mail_from), list(envelope.rcpt_tos), content))
        return "250 OK"


class Credentials:
    """An authenticator that accepts one user name and password, and remembers what it was given."""

    def __init__(self, login: str, password: str) -> None:
        self.expected = (login.encode(), password.encode())
        self.seen: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        given = (auth_data.login, auth_data.password)
        self.seen.append(given)
        return AuthResult(success=given == self.expected, handled=False)


def start_smtp(sink: SmtpSink, authenticator: Credentials | None = None) -> Controller:
    """aiosmtpd's threaded Controller cannot bind port 0, so it is given a free port."""
    kwargs: dict[str, Any] = {}
    if authenticator is not None:
        kwargs = {"authenticator": authenticator, "auth_require_tls": False}
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: Any = None  # what the verifier returned, or the error it raised


@dataclass
class HttpSink:
    """Answers each POST with what `respond(request)` returns (a status code) and keeps it."""

    respond: Callable[[Request], int]
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> HttpSink:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                request = Request(self.path, dict(self.headers.items()), self.rfile.read(length))
                status = sink.respond(request)
                sink.requests.append(request)
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", "/elsewhere")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        assert self.server is not None
        self.server.shutdown()
        self.server.server_close()
