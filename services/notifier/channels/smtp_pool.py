"""Connections to the mail server, kept open and reused.

`aiosmtplib.send` opens a connection for every message: connect, EHLO, perhaps STARTTLS and
AUTH, then the message, then QUIT. When a thousand deadlines pass at once that handshake is most
of the work, for us and for the mail server. Mail transfer agents keep their connections and
send message after message over each; so does this, with a small pool (no library offers one
for aiosmtplib).

- At most `size` connections, each carrying one message at a time; a sender waits for one.
- A connection idle for longer than `idle` seconds is closed rather than reused: servers drop
  quiet clients (Postfix after 300 s by default), and a dead one would cost a failed try.
- A reused connection the server has closed meanwhile is not a failure of the message: it is
  sent again, once, on a new connection.
- A connection that failed in any other way is closed; the error is the message's.
"""

from __future__ import annotations

import asyncio
import time
from email.message import EmailMessage
from typing import TYPE_CHECKING

import aiosmtplib

if TYPE_CHECKING:
    from services.notifier.channels.email import SmtpServer

DEFAULT_SIZE = 4
DEFAULT_IDLE = 30.0
_REFUSAL = aiosmtplib.SMTPResponseException
SERVICE_CLOSING = 421  # the reply of a server that is closing the connection


def _went_away(error: BaseException) -> bool:
    if isinstance(error, aiosmtplib.SMTPServerDisconnected):
        return True
    return isinstance(error, _REFUSAL) and error.code == SERVICE_CLOSING


class SmtpConnections:
    def __init__(
        self, server: SmtpServer, *, size: int = DEFAULT_SIZE, idle: float = DEFAULT_IDLE
    ) -> None:
        self.server = server
        self.idle = idle
        self._slots = asyncio.Semaphore(size)
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # with when each was last used
        self.opened = 0  # connections made so far (for tests and logs)

    async def send(self, message: EmailMessage, timeout: float) -> None:
        async with self._slots:
            reused = self._take()
            if reused is not None:
                try:
                    await reused.send_message(message, timeout=timeout)
                except BaseException as error:
                    self._after_failure(reused, error)
                    if not _went_away(error):
                        raise
                    # It was closed while idle: that is no failure of the message. Once more,
                    # on a new connection.
                else:
                    self._idle.append((reused, time.monotonic()))
                    return
            fresh = await self._open(timeout)
            try:
                await fresh.send_message(message, timeout=timeout)
            except BaseException as error:
                self._after_failure(fresh, error)
                raise
            self._idle.append((fresh, time.monotonic()))

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection, _ in idle:
            try:
                await connection.quit(timeout=5)
            except (aiosmtplib.SMTPException, OSError):
                connection.close()

    def _take(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            connection, used = self._idle.pop()
            if connection.is_connected and now - used < self.idle:
                return connection
            connection.close()
        return None

    def _after_failure(self, connection: aiosmtplib.SMTP, error: BaseException) -> None:
        """A refusal leaves the connection usable (aiosmtplib resets the envelope); anything
        else — a timeout half-way through, a lost connection — leaves it in no known state."""
        refused = isinstance(error, aiosmtplib.SMTPRecipientsRefused | _REFUSAL)
        if refused and not _went_away(error) and connection.is_connected:
            self._idle.append((connection, time.monotonic()))
        else:
            connection.close()

    async def _open(self, timeout: float) -> aiosmtplib.SMTP:
        connection = aiosmtplib.SMTP(**self.server.client_options(), timeout=timeout)
        await connection.connect()
        self.opened += 1
        return connection
