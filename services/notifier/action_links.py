"""A partner's message carries a signed action link (services.core.links) in place of the
task's plain address: made here, as the message leaves for a mail server, a webhook or Apprise,
and never kept. The notice in the timers stream and the inbox entry keep the plain address, so
no credential is ever written to NATS."""

from __future__ import annotations

from pydantic import HttpUrl

from schemas.notifications import Notice
from services.core.links import LinkClaim
from services.notifier.context import Notifier
from services.notifier.render import RenderedMessage, render


def with_action_link(
    notifier: Notifier, notice: Notice, rendered: RenderedMessage
) -> tuple[Notice, RenderedMessage]:
    """The notice and message to send: with an action link for a partner who holds the task,
    as they were for everyone else (or when there is no link key or public address)."""
    links = notifier.rt.links
    public = notifier.settings.public_url
    if notice.link_assignment is None or links is None or public is None:
        return notice, rendered
    claim = LinkClaim(notice.task_id, notice.recipient_id, notice.link_assignment)
    linked = notice.model_copy(update={"link": HttpUrl(links.url(str(public), claim))})
    return linked, render(linked, link_until=links.expires())
