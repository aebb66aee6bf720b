"""Anything Apprise can reach — SMS gateways, Teams, Slack, Signal, ntfy … — by one Apprise URL
(`json://host/path`, `msteams://…`). Such URLs usually carry their tokens, so they are shown only
as Apprise's privacy URL, and best kept out of the roster (a target's `secret_ref`).

Apprise is synchronous: it runs in a worker thread. Apprise says only that a send failed, not
whether it ever could succeed, so every failure but an unreadable URL is worth another try."""

from __future__ import annotations

import asyncio
import logging

from apprise import Apprise, AppriseAsset, NotifyFormat, PersistentStoreMode

from schemas.notifications import Channel, Delivery, Notice
from services.notifier.redact import scheme_only, scrub
from services.notifier.render import RenderedMessage

DEFAULT_TIMEOUT = 30.0


async def send_apprise(
    notice: Notice, rendered: RenderedMessage, *, url: str, timeout: float = DEFAULT_TIMEOUT
) -> Delivery:
    """Send the plain-text part, with the subject as its title."""
    return await asyncio.to_thread(_send, notice.notice_id, rendered, url, timeout)


def _send(notice_id: str, rendered: RenderedMessage, url: str, timeout: float) -> Delivery:
    plugin = Apprise.instantiate(url)
    if plugin is None:
        return Delivery(
            notice_id=notice_id,
            channel=Channel.APPRISE,
            target=scheme_only(url),
            ok=False,
            error="not a URL Apprise can send to",
            permanent=True,
        )
    # A plugin's str() is its privacy URL: its tokens and passwords shortened or starred.
    target = str(plugin).split("?", 1)[0]
    apprise = Apprise(asset=AppriseAsset(storage_mode=PersistentStoreMode.MEMORY))
    apprise.add(plugin)
    result = apprise.notify(
        body=rendered.text,
        title=rendered.subject,
        body_format=NotifyFormat.TEXT,
        timeout=timeout,
        log_level=logging.WARNING,
    )
    if result:
        return Delivery(notice_id=notice_id, channel=Channel.APPRISE, target=target, ok=True)
    said = [entry.message for entry in result.logs() if entry.level in ("WARNING", "ERROR")]
    reason = said[-1] if said else "no reason given"
    return Delivery(
        notice_id=notice_id,
        channel=Channel.APPRISE,
        target=target,
        ok=False,
        error=scrub(f"{result.status.name.lower()}: {reason}", url),
        permanent=False,
    )
