"""Email through an SMTP server named by a URL:

    smtp://host:port                  plain SMTP, upgraded with STARTTLS when the server offers it
    smtp://host:587?starttls=true     STARTTLS required
    smtp://host:25?starttls=false     never STARTTLS (a relay on the same host)
    smtps://user:password@host:465    TLS from the first byte; credentials percent-encoded

The sender is `PATHWAYS_MAIL_FROM`. A message's Message-ID is derived from its notice and
recipient, so a message sent twice (a retry after a lost reply) is recognisably the same one.
"""

from __future__ import annotations

import email.utils
import functools
from dataclasses import dataclass, field
from datetime import datetime
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import aiosmtplib

from schemas.base import utc_now
from schemas.notifications import Channel, Delivery, Notice
from services.notifier.channels.smtp_pool import SmtpConnections
from services.notifier.redact import HIDDEN, scrub
from services.notifier.render import RenderedMessage, language_for, single_line

DEFAULT_TIMEOUT = 30.0
_TRUE = {"true", "yes", "1", "on"}
_FALSE = {"false", "no", "0", "off"}


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool = False
    starttls: bool | None = None  # None: when the server offers it
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        """Read an smtp:// or smtps:// URL; errors never repeat the URL (it may hold a password)."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise ValueError("the SMTP URL cannot be read (is the port a number?)") from None
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("the SMTP URL must start with smtp:// or smtps://")
        if not parts.hostname:
            raise ValueError("the SMTP URL names no host")
        implicit_tls = parts.scheme == "smtps"
        starttls = _starttls(parts.query, implicit_tls)
        if port is None:
            port = 465 if implicit_tls else 587 if starttls else 25
        return cls(
            host=parts.hostname,
            port=port,
            implicit_tls=implicit_tls,
            starttls=starttls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
        )

    def client_options(self) -> dict[str, Any]:
        """What aiosmtplib needs to reach and log in to the server."""
        return {
            "hostname": self.host,
            "port": self.port,
            "username": self.username,
            "password": self.password,
            "use_tls": self.implicit_tls,
            "start_tls": self.starttls,
        }

    def describe(self) -> str:
        """The URL with its password hidden: safe to log."""
        scheme = "smtps" if self.implicit_tls else "smtp"
        user = ""
        if self.username:
            user = self.username + (f":{HIDDEN}" if self.password is not None else "") + "@"
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = "" if self.starttls is None else f"?starttls={str(self.starttls).lower()}"
        return f"{scheme}://{user}{host}:{self.port}{query}"


def _starttls(query: str, implicit_tls: bool) -> bool | None:
    starttls: bool | None = None
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name != "starttls":
            raise ValueError(f"the SMTP URL has an unknown option {name!r} (only starttls)")
        if value.lower() not in _TRUE | _FALSE:
            raise ValueError("starttls in the SMTP URL must be true or false")
        starttls = value.lower() in _TRUE
    if implicit_tls and starttls:
        raise ValueError("smtps:// is TLS already; starttls=true is for smtp://")
    return False if implicit_tls else starttls


def message_id(notice: Notice, domain: str) -> str:
    """The same notice to the same person always has the same Message-ID. Dots in each part are
    spelled `=` (neither may hold one), so no two (notice, recipient) pairs share an id."""
    left = f"{notice.notice_id.replace('.', '=')}.{notice.recipient_id.replace('.', '=')}"
    return f"<{left}@{domain}>"


def build_message(
    notice: Notice, rendered: RenderedMessage, *, to: str, mail_from: str, now: datetime
) -> EmailMessage:
    """A multipart/alternative message, plain text first. Raises ValueError for an address
    that is not one."""
    sender = _address(mail_from, "sender")
    recipient = Address(single_line(notice.recipient_name), addr_spec=_address(to, "recipient"))
    msg = EmailMessage()
    msg["Subject"] = rendered.subject
    msg["From"] = mail_from
    msg["To"] = recipient
    msg["Date"] = email.utils.format_datetime(now)
    msg["Message-ID"] = message_id(notice, sender.rpartition("@")[2])
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    msg["Content-Language"] = language_for(notice.language)  # set_content drops Content-*
    return msg


@functools.lru_cache(maxsize=4096)
def _address(value: str, what: str) -> str:
    """The bare address in `value`. The email package takes a millisecond to parse one, and
    the same few addresses are asked about again and again (the sender for every message)."""
    if any(char in value for char in "\r\n\0"):
        raise ValueError(f"the {what} address holds a line break")
    _, addr = email.utils.parseaddr(value)
    try:
        if Address(addr_spec=addr).domain and Address(addr_spec=addr).username:
            return addr
    except (ValueError, IndexError, MessageError):  # the email package raises all three
        pass
    raise ValueError(f"the {what} address is not an email address")


async def send_email(
    notice: Notice,
    rendered: RenderedMessage,
    *,
    server: SmtpServer,
    mail_from: str,
    to: str | None,
    now: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    connections: SmtpConnections | None = None,
) -> Delivery:
    """Send one message. `to` is the member's address (None: they have none). Over one of
    `connections` when given (the notifier's, kept open), else over a connection of its own."""
    target = server.describe()

    def failed(error: str, permanent: bool) -> Delivery:
        return Delivery(
            notice_id=notice.notice_id,
            channel=Channel.EMAIL,
            target=target,
            ok=False,
            error=scrub(error, to, server.password),
            permanent=permanent,
        )

    if not to:
        return failed("the recipient has no email address", permanent=True)
    try:
        message = build_message(notice, rendered, to=to, mail_from=mail_from, now=now or utc_now())
    except ValueError as error:
        return failed(f"cannot address the message: {error}", permanent=True)
    try:
        if connections is not None:
            await connections.send(message, timeout)
        else:
            await aiosmtplib.send(message, **server.client_options(), timeout=timeout)
    except (aiosmtplib.SMTPException, OSError) as error:
        text, permanent = classify(error)
        return failed(text, permanent)
    return Delivery(notice_id=notice.notice_id, channel=Channel.EMAIL, target=target, ok=True)


def classify(error: Exception) -> tuple[str, bool]:
    """What went wrong, and whether trying again can help: a 5xx reply cannot, nor a server
    without the TLS or login we require; a 4xx reply, a timeout or a refused connection can."""
    match error:
        case aiosmtplib.SMTPRecipientsRefused():
            codes = [refused.code for refused in error.recipients]
            replies = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
            return f"recipient refused: {replies}", all(500 <= c < 600 for c in codes)
        case aiosmtplib.SMTPResponseException():
            return f"{type(error).__name__}: {error.code} {error.message}", error.code >= 500
        case aiosmtplib.SMTPNotSupported():
            return f"SMTPNotSupported: {error}", True
        case aiosmtplib.SMTPException() if type(error) is aiosmtplib.SMTPException:
            # aiosmtplib's plain SMTPException: the server lacks STARTTLS or AUTH we asked for.
            return f"SMTPException: {error}", True
        case TimeoutError():
            return f"{type(error).__name__}: timed out: {error}", False
        case _:
            return f"{type(error).__name__}: {error}", False
