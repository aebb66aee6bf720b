"""The secrets the roster names, read once at start-up.

A roster never holds a secret: a webhook channel's `secret_env` names the environment variable
that does. Those names are data, so pydantic-settings cannot declare them; this is the one place
they are read, when the notifier starts. The escalation chains' webhook secret is a setting of
its own (PATHWAYS_ESCALATION_WEBHOOK_SECRET)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from schemas.roster import Roster
from services.notifier.routes import ESCALATION_SECRET_REF
from services.notifier.settings import NotifierSettings


def secret_names(roster: Roster) -> frozenset[str]:
    return frozenset(
        channel.secret_env
        for member in roster.members
        for channel in member.channels
        if channel.secret_env
    )


def read_secrets(
    roster: Roster, settings: NotifierSettings, environ: Mapping[str, str] = os.environ
) -> dict[str, str]:
    """Secret name -> value, for each the roster names and the environment sets."""
    found = {name: environ[name] for name in secret_names(roster) if environ.get(name)}
    if settings.escalation_webhook_secret is not None:
        found[ESCALATION_SECRET_REF] = settings.escalation_webhook_secret.get_secret_value()
    return found
