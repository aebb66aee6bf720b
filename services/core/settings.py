from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class LogFormat(StrEnum):
    AUTO = "auto"  # console on a terminal, JSON otherwise
    CONSOLE = "console"
    JSON = "json"


DEFAULT_NATS_URL = "nats://127.0.0.1:4222"


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
    ack_wait_seconds: float = Field(default=30.0, gt=0)
    # Exit at once (no clean-up, like a SIGKILL) when this named step is reached; for crash
    # tests only. The names are listed in docs/architecture.md ("Fan-out").
    failpoint: str = ""
    # How often one engine replica sweeps for unfinished runs (the reconciler); every engine
    # also sweeps once when it starts.
    reconcile_interval_seconds: float = Field(default=300.0, ge=1)
