"""Where a notice can go: a person's roster channels as notifier targets, each under a key that
names it in subjects and events (`inbox`, `email`, `email-2`). Pure.

Everyone has the in-app inbox: where their roster entry lists it, or first when it does not.
Email is left out when no SMTP server is configured (`PATHWAYS_SMTP_URL`): it could never be
sent. A channel the roster describes but that cannot be used (a webhook with no `secret_env`)
stays, with the problem, so that trying it records a failure rather than nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta

from pydantic import ValidationError

from schemas.channels import Channel as RosterChannel
from schemas.channels import ChannelKind
from schemas.notifications import Channel, Target
from schemas.roster import Member

# The key of an escalation chain's webhook step, which is not one of anybody's channels.
ESCALATION_WEBHOOK_KEY = "escalation-webhook"
# The name under which the escalation webhook's signing secret is looked up (services.notifier.
# secrets reads it from NotifierSettings).
ESCALATION_SECRET_REF = "PATHWAYS_ESCALATION_WEBHOOK_SECRET"


@dataclass(frozen=True)
class Route:
    key: str
    kind: Channel
    target: Target | None  # None when the channel cannot be used
    problem: str | None = None  # why it cannot

    @property
    def usable(self) -> bool:
        return self.target is not None


def _target(channel: RosterChannel) -> Target:
    return Target(
        kind=Channel(channel.kind.value),
        address=channel.address,
        secret_ref=channel.secret_env,
        after=channel.after or timedelta(0),
    )


def routes_of(member: Member, *, email: bool = True) -> list[Route]:
    """The member's channels in the order they want to be reached, the inbox among them."""
    channels = list(member.channels)
    if not any(c.kind.value == Channel.INBOX for c in channels):
        channels.insert(0, RosterChannel(kind=ChannelKind.INBOX))
    seen: Counter[str] = Counter()
    routes: list[Route] = []
    for channel in channels:
        kind = Channel(channel.kind.value)
        if kind is Channel.EMAIL and not email:
            continue
        seen[kind.value] += 1
        key = kind.value if seen[kind.value] == 1 else f"{kind.value}-{seen[kind.value]}"
        try:
            routes.append(Route(key, kind, _target(channel)))
        except ValidationError as exc:
            problem = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
            routes.append(Route(key, kind, None, f"unusable {kind.value} channel: {problem}"))
    return routes


def scaled(routes: list[Route], time_scale: float) -> list[Route]:
    """The routes with their delays scaled like every other window of an exercise."""
    if time_scale == 1.0:
        return routes
    return [
        replace(r, target=r.target.model_copy(update={"after": r.target.after * time_scale}))
        if r.target is not None
        else r
        for r in routes
    ]


def escalation_route(url: str | None) -> Route:
    """The webhook an escalation step calls, signed with PATHWAYS_ESCALATION_WEBHOOK_SECRET."""
    try:
        target = Target(kind=Channel.WEBHOOK, address=url, secret_ref=ESCALATION_SECRET_REF)
    except ValidationError:
        return Route(ESCALATION_WEBHOOK_KEY, Channel.WEBHOOK, None,
                     "the escalation step names no http(s) webhook URL")  # fmt: skip
    return Route(ESCALATION_WEBHOOK_KEY, Channel.WEBHOOK, target)
