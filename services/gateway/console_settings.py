"""The console's own settings, read once when the gateway is made (PATHWAYS_* variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, HttpUrl, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

IDLE_SECONDS = 30 * 60
LONGEST_SECONDS = 12 * 60 * 60  # the sessions bucket keeps nothing longer


class ConsoleSettingsInvalid(ValueError):
    """A console setting that cannot be used; the message names it, never its value."""


class ConsoleSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PATHWAYS_", extra="ignore")

    # The key the console's cookies and forms are signed with (32 random bytes). Default:
    # <data_dir>/secrets/console.key, which `pathways up` makes; every gateway replica of a
    # deployment must be given the same one.
    console_key_file: Path | None = None
    # A session ends after this long unused, and 12 hours after sign-in whatever happens.
    session_idle_seconds: int = Field(default=IDLE_SECONDS, ge=1, le=LONGEST_SECONDS)
    # Signing in with the agency's OpenID Connect provider; all three, or none.
    oidc_issuer: HttpUrl | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    # What the sign-in link calls the provider ("Sign in with …"); default: the roster's agency.
    oidc_name: str | None = Field(default=None, max_length=80)
    # The demo accounts' password (example roster only); default: made once, kept in
    # <data_dir>/secrets/demo-password.
    demo_password: SecretStr | None = None

    @field_validator(
        "oidc_issuer", "oidc_client_id", "oidc_client_secret", "oidc_name", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def oidc_configured(self) -> bool:
        return self.oidc_issuer is not None and bool(self.oidc_client_id)

    def key_path(self, data_dir: Path) -> Path:
        return self.console_key_file or data_dir / "secrets" / "console.key"


def read_console_settings() -> ConsoleSettings:
    try:
        settings = ConsoleSettings()
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in problem["loc"])
        raise ConsoleSettingsInvalid(f"PATHWAYS_{name.upper()}: {problem['msg']}") from None
    given = [
        settings.oidc_issuer is not None,
        settings.oidc_client_id is not None,
        settings.oidc_client_secret is not None,
    ]
    if any(given) and not all(given):
        raise ConsoleSettingsInvalid(
            "PATHWAYS_OIDC_ISSUER, PATHWAYS_OIDC_CLIENT_ID and PATHWAYS_OIDC_CLIENT_SECRET "
            "go together: set all three, or none"
        )
    return settings
