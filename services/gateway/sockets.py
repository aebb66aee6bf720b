"""The gateway's listening socket: bound before anything else starts, so a busy port stops the
process at once with one line, before NATS or any service has started."""

from __future__ import annotations

import errno
import socket

# Addresses that mean "every interface": a browser cannot open them, so the URL printed for
# people names this machine's loopback address instead.
_ANY_HOST = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}


class PortUnavailable(Exception):
    """The gateway cannot listen where it was told to; the message is one line naming where."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to host:port (port 0: any free one), not yet listening: until the
    server starts, a connection is refused rather than left waiting."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise PortUnavailable(f"cannot listen on {host!r}: no such address (see --host)") from exc
    sock = socket.socket(family, kind, proto)
    try:
        # A port left in TIME_WAIT by the previous run can be bound again at once.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(f"cannot listen on {where(host, port)}: {reason(exc)}") from exc
    return sock


def where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return "the port is in use (choose another with --port or PATHWAYS_PORT)"
    if exc.errno == errno.EACCES:
        return "permission denied (ports below 1024 need privileges; see --port)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return "this machine has no such address (see --host)"
    return (exc.strerror or type(exc).__name__).lower()


def url_of(sock: socket.socket) -> str:
    """The http:// address people open for a bound socket."""
    host, port = sock.getsockname()[:2]
    host = _ANY_HOST.get(host, host)
    return f"http://{where(host, port)}"
