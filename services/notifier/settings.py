from __future__ import annotations

from typing import Any

from pydantic import Field, HttpUrl, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifierSettingsInvalid(ValueError):
    """A notifier setting that cannot be used; the message names it, never its value."""


class NotifierSettings(BaseSettings):
    """Read once at start-up from PATHWAYS_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="PATHWAYS_", extra="ignore")

    # smtp://host:port, smtp://host:587?starttls=true or smtps://user:password@host:465;
    # unset: no email is sent. A secret: it may hold the password.
    smtp_url: SecretStr | None = None
    mail_from: str = "Pathways <pathways@localhost>"
    # Where people open Pathways; unset: messages carry no link.
    public_url: HttpUrl | None = None
    # Seconds one send may take, per channel.
    send_timeout: float = Field(default=30.0, gt=0)
    # The signing secret (whsec_…) for the webhook steps of escalation chains; unset: such a
    # step fails at once, and the role's coordinators are told.
    escalation_webhook_secret: SecretStr | None = None

    @field_validator("smtp_url", "public_url", "escalation_webhook_secret", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # docker compose passes `${VAR:-}` through as an empty string.
        return None if isinstance(value, str) and not value.strip() else value
