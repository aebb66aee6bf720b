"""Signed webhooks (Standard Webhooks): a JSON POST whose `webhook-id` is the notice id, with a
`webhook-timestamp` and an HMAC `webhook-signature` made with the target's own secret. A
receiver verifies them with any Standard Webhooks library and drops a webhook-id it has seen.

Redirects are not followed: a signed notice goes only to the URL it was configured for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from math import floor
from typing import Any

import httpx
from standardwebhooks import Webhook
from standardwebhooks.webhooks import EmptyWebhookSecretError

from schemas.base import utc_now
from schemas.notifications import Channel, Delivery, Notice
from services.notifier.redact import redact_url, scrub

DEFAULT_TIMEOUT = 10.0
# Refusals that say "not now" rather than "never".
_RETRY_LATER = {408, 425, 429}
# A restricted task's receiver learns that there is one, not what it is.
_RESTRICTED_FIELDS = ("task_title", "incident_type")


def webhook_payload(notice: Notice, at: datetime) -> dict[str, Any]:
    data = notice.model_dump(mode="json")
    if notice.restricted:
        data.update(dict.fromkeys(_RESTRICTED_FIELDS))
    return {
        "type": f"pathways.notice.{notice.kind}",
        "timestamp": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": data,
    }


def signed_request(notice: Notice, secret: str, at: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a notice's webhook. Raises ValueError for an unusable secret."""
    try:
        signer = Webhook(secret)
    except (ValueError, RuntimeError, EmptyWebhookSecretError):
        raise ValueError("the signing secret is not a base64 (whsec_…) secret") from None
    at = at.astimezone(UTC)
    body = json.dumps(webhook_payload(notice, at), ensure_ascii=False, separators=(",", ":"))
    headers = {
        "content-type": "application/json",
        "user-agent": "Pathways",
        "webhook-id": notice.notice_id,
        "webhook-timestamp": str(floor(at.timestamp())),
        "webhook-signature": signer.sign(notice.notice_id, at, body),
    }
    return body.encode(), headers


async def send_webhook(
    notice: Notice,
    *,
    url: str,
    secret: str,
    client: httpx.AsyncClient,
    now: datetime | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Delivery:
    """POST one notice. 2xx is delivered; 408, 425, 429, 5xx and network errors are worth
    another try; any other reply (a 4xx, a redirect) is not."""
    target = redact_url(url)

    def failed(error: str, permanent: bool) -> Delivery:
        return Delivery(
            notice_id=notice.notice_id,
            channel=Channel.WEBHOOK,
            target=target,
            ok=False,
            error=scrub(error, secret, url),
            permanent=permanent,
        )

    try:
        body, headers = signed_request(notice, secret, now or utc_now())
    except ValueError as error:
        return failed(str(error), permanent=True)
    try:
        response = await client.post(
            url, content=body, headers=headers, timeout=timeout, follow_redirects=False
        )
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        return failed(f"{type(error).__name__}: {error}", permanent=True)
    except httpx.TimeoutException as error:
        return failed(f"{type(error).__name__}: timed out", permanent=False)
    except httpx.TransportError as error:
        return failed(f"{type(error).__name__}: {error}", permanent=False)
    status = response.status_code
    if 200 <= status < 300:
        return Delivery(notice_id=notice.notice_id, channel=Channel.WEBHOOK, target=target, ok=True)
    permanent = status < 500 and status not in _RETRY_LATER
    return failed(f"HTTP {status} {response.reason_phrase}".rstrip(), permanent)
