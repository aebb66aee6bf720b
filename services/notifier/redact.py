"""Descriptions of where a message went that are safe to log: never a password or a token."""

from __future__ import annotations

from urllib.parse import urlsplit

HIDDEN = "***"


def _netloc(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"{shown}:{port}" if port is not None else shown


def redact_url(url: str) -> str:
    """`url` with its password hidden and its query string and fragment left out (either may
    carry a token); the user name, host, port and path stay. Unparseable: its scheme alone.
    Not for Apprise URLs, whose host or path may be the token: Apprise hides those itself."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return scheme_only(url)
    if not parts.scheme or not host:
        return scheme_only(url)
    user = ""
    if parts.username is not None:
        user = parts.username + (f":{HIDDEN}" if parts.password is not None else "") + "@"
    query = f"?{HIDDEN}" if parts.query else ""
    return f"{parts.scheme}://{user}{_netloc(host, port)}{parts.path}{query}"


def scheme_only(url: str) -> str:
    """Only the scheme of `url`: for a URL that may be all token."""
    scheme, sep, _ = url.partition("://")
    return f"{scheme}://{HIDDEN}" if sep and scheme.isalnum() else HIDDEN


def scrub(text: str, *secrets: str | None) -> str:
    """`text` with every occurrence of each secret replaced."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, HIDDEN)
    return text
