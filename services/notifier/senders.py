"""Sending one rendered notice through one route: the in-app inbox, email, a signed webhook or
Apprise. Like the channel senders it calls, it never raises for a failed delivery: it returns a
`Delivery` saying what came of it, with a target that is safe to keep."""

from __future__ import annotations

from datetime import datetime

import httpx
from nats.errors import Error as NatsError
from nats.js.errors import KeyWrongLastSequenceError

from schemas.notifications import Channel, Delivery, Notice, Target
from services.notifier.action_links import with_action_link
from services.notifier.channels.apprise_channel import send_apprise
from services.notifier.channels.email import send_email
from services.notifier.channels.webhook import send_webhook
from services.notifier.context import Notifier
from services.notifier.inbox_keys import inbox_entry, inbox_key
from services.notifier.redact import redact_url
from services.notifier.render import RenderedMessage

INBOX_TARGET = "inbox"


def _failed(notice: Notice, kind: Channel, target: str, error: str, permanent: bool) -> Delivery:
    return Delivery(
        notice_id=notice.notice_id,
        channel=kind,
        target=target,
        ok=False,
        error=error,
        permanent=permanent,
    )


async def put_in_inbox(
    notifier: Notifier, notice: Notice, rendered: RenderedMessage, at: datetime
) -> Delivery:
    key = inbox_key(notice.recipient_id, at, notice.notice_id)
    entry = inbox_entry(notice, rendered.subject, at)
    try:
        await (await notifier.inbox()).create(key, entry.model_dump_json().encode())
    except KeyWrongLastSequenceError:
        pass  # already there: the notice was put in the inbox before
    except (NatsError, TimeoutError) as error:
        return _failed(notice, Channel.INBOX, INBOX_TARGET, f"{type(error).__name__}", False)
    return Delivery(notice_id=notice.notice_id, channel=Channel.INBOX, target=INBOX_TARGET, ok=True)


async def send(
    notifier: Notifier,
    notice: Notice,
    rendered: RenderedMessage,
    target: Target,
    at: datetime,
) -> Delivery:
    timeout = notifier.settings.send_timeout
    if target.kind is Channel.INBOX:
        return await put_in_inbox(notifier, notice, rendered, at)
    # Leaving Pathways: a partner's message gets their action link now, and nothing keeps it.
    notice, rendered = with_action_link(notifier, notice, rendered)
    match target.kind:
        case Channel.EMAIL:
            if notifier.smtp is None:
                return _failed(notice, Channel.EMAIL, "smtp", "no SMTP server is set", True)
            return await send_email(
                notice, rendered, server=notifier.smtp, mail_from=notifier.settings.mail_from,
                to=target.address, timeout=timeout, connections=notifier.mail,
            )  # fmt: skip
        case Channel.WEBHOOK:
            return await _webhook(notifier, notice, target, timeout)
        case Channel.APPRISE:
            url = target.address or notifier.secrets.get(target.secret_ref or "")
            if not url:
                return _failed(notice, Channel.APPRISE, "apprise", _unset(target), True)
            return await send_apprise(notice, rendered, url=url, timeout=timeout)
    raise AssertionError(f"no sender for {target.kind}")


def _unset(target: Target) -> str:
    return f"the environment variable {target.secret_ref} is not set"


async def _webhook(notifier: Notifier, notice: Notice, target: Target, timeout: float) -> Delivery:
    assert target.address is not None  # a webhook Target always has one
    secret = notifier.secrets.get(target.secret_ref or "")
    if not secret:
        return _failed(notice, Channel.WEBHOOK, redact_url(target.address),
                       f"no signing secret: {_unset(target)}", True)  # fmt: skip
    # One client a send: webhooks are few, and nothing is left open when the service stops.
    async with httpx.AsyncClient() as client:
        return await send_webhook(
            notice, url=target.address, secret=secret, client=client, timeout=timeout
        )
