from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

from pydantic import Field, HttpUrl, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class LogFormat(StrEnum):
    AUTO = "auto"  # console on a terminal, JSON otherwise
    CONSOLE = "console"
    JSON = "json"


class PasswordProfile(StrEnum):
    """How hard account passwords are hashed (services/core/passwords.py)."""

    DEFAULT = "default"  # argon2id, RFC 9106 low memory: t=3, 64 MiB, p=4
    TEST = "test"  # the cheapest argon2id there is: for test suites only


DEFAULT_NATS_URL = "nats://127.0.0.1:4222"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Waits before each redelivery of a failed reaction: about 19 minutes in all, so an outage of
# NATS storage or a disk of several minutes is ridden out before anything is dead-lettered.
DEFAULT_RETRY_DELAYS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class Settings(BaseSettings):
    """Read once at start-up from flags and PATHWAYS_* environment variables."""

    model_config = SettingsConfigDict(env_prefix="PATHWAYS_", extra="ignore")

    nats_url: str = DEFAULT_NATS_URL
    data_dir: Path = Path(".pathways")
    nats_port: int = Field(default=4222, ge=1, le=65535)
    # None: ./playbooks and ./rosters/example.yaml when present, else those shipped with Pathways.
    playbooks_dir: Path | None = None
    roster: Path | None = None
    stream_replicas: int = Field(default=1, ge=1, le=5)
    log_format: LogFormat = LogFormat.AUTO
    log_level: str = "info"
    request_timeout: float = Field(default=5.0, gt=0)
    # How long a reaction (a fan-out, a release) may run before JetStream redelivers it to
    # another replica; a crashed engine's unfinished work resumes after this.
    # A handler still running tells the server so (+WIP) every third of this.
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    # Exit at once (no clean-up, like a SIGKILL) when this named step is reached; for crash
    # tests only. The names are listed in docs/architecture.md ("Fan-out").
    failpoint: str = ""
    # How often one engine replica sweeps for unfinished runs (the reconciler); every engine
    # also sweeps once when it starts.
    reconcile_interval_seconds: float = Field(default=300.0, ge=1)
    # How long an incident's record must be quiet (no event) before the engine writes a
    # periodic seal pinning it (services/engine/record_sealing.py).
    record_seal_quiet_seconds: float = Field(default=30.0, gt=0)
    # Seconds to wait before each redelivery of a failed reaction; after len+1 deliveries it is
    # dead-lettered. `PATHWAYS_RETRY_DELAYS=1,5,15` or a JSON list.
    retry_delays: Annotated[tuple[float, ...], NoDecode] = DEFAULT_RETRY_DELAYS
    # Who is asking is signed (services.core.assertions): the private key signs (the gateway,
    # and the command line's `--as` with the example roster), the public key verifies (every
    # service). Default: <data_dir>/secrets/principal.key and .pub.
    principal_key_file: Path | None = None
    principal_public_key_file: Path | None = None
    # The record key (services.core.record_seal): the private key seals every event the
    # services append (intake, engine, notifier), the public key verifies a record (`pathways
    # timeline verify`). Default: <data_dir>/secrets/record.key and .pub, made by `pathways up`.
    record_key_file: Path | None = None
    record_public_key_file: Path | None = None
    # The keys that seal restricted text, one file per scope (services/core/sealing.py); kept
    # out of NATS so a stream dump holds only ciphertext. None: <data_dir>/keys.
    keys_dir: Path | None = None
    # Signed action links in partners' messages (services.core.links): the key the notifier
    # signs with and the gateway checks with, and how long a link works. Default:
    # <data_dir>/secrets/links.key, which `pathways up` makes. PATHWAYS_LINK_MAX_AGE: seconds
    # or an ISO 8601 duration (P14D).
    link_key_file: Path | None = None
    link_max_age: timedelta = timedelta(days=14)
    password_profile: PasswordProfile = PasswordProfile.DEFAULT
    # Refuse restricted text that is not sealed (services.core.restricted_text): with it on,
    # nothing restricted is ever stored in plain text. Off only to accept clients that cannot
    # seal yet.
    require_sealed: bool = True

    # Where the gateway (HTTP: the API, health, metrics) listens; port 0 takes any free port.
    host: str = DEFAULT_HOST
    port: int = Field(default=DEFAULT_PORT, ge=0, le=65535)
    # Where people open Pathways: links in messages, and HSTS when it is https. `pathways up`
    # makes it the gateway's own address when unset.
    public_url: HttpUrl | None = None

    @field_validator("public_url", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # docker compose passes `${VAR:-}` through as an empty string.
        return None if isinstance(value, str) and not value.strip() else value

    @property
    def key_directory(self) -> Path:
        return self.keys_dir if self.keys_dir is not None else self.data_dir / "keys"

    @field_validator("retry_delays", mode="before")
    @classmethod
    def _split_delays(cls, value: object) -> object:
        if isinstance(value, str):
            text = value.strip().removeprefix("[").removesuffix("]")
            return tuple(part.strip() for part in text.split(",") if part.strip())
        return value

    @field_validator("retry_delays")
    @classmethod
    def _positive_delays(cls, value: tuple[float, ...]) -> tuple[float, ...]:
        if any(delay <= 0 for delay in value):
            raise ValueError("every delay must be more than 0 seconds")
        return value

    @field_validator("link_max_age", mode="before")
    @classmethod
    def _seconds(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
            return float(value)
        return value

    @field_validator("link_max_age")
    @classmethod
    def _positive_age(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("a link must work for some time: more than 0 seconds")
        return value

    @property
    def link_key_path(self) -> Path:
        return self.link_key_file or self.data_dir / "secrets" / "links.key"

    @property
    def record_key_path(self) -> Path:
        return self.record_key_file or self.data_dir / "secrets" / "record.key"

    @property
    def record_public_key_path(self) -> Path:
        return self.record_public_key_file or self.data_dir / "secrets" / "record.pub"

    @property
    def signing_key_path(self) -> Path:
        return self.principal_key_file or self.data_dir / "secrets" / "principal.key"

    @property
    def verifying_key_path(self) -> Path:
        return self.principal_public_key_file or self.data_dir / "secrets" / "principal.pub"
