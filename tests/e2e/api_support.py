"""A `pathways up` whose HTTP API the tests call, with accounts and API tokens made as an
operator makes them (`pathways user add`, `pathways token create`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.harness import Cli, Service, process_env, unexpected_tracebacks, wait_for
from tests.support import free_port

PASSWORD = "correct horse battery staple"
API = "/api/v1"
# Passwords hashed with argon2's cheapest parameters: a test signs in many times.
FAST_PASSWORDS = {"PATHWAYS_PASSWORD_PROFILE": "test"}


@dataclass
class Api:
    """An HTTP client of /api/v1 holding one API token (none: anonymous)."""

    base: str
    token: str | None = None

    def __call__(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        sent = dict(headers or {})
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        url = path if path.startswith("http") else self.base + API + path
        return httpx.request(method, url, json=json, params=params, headers=sent, timeout=15)

    def ok(self, method: str, path: str, **kw: Any) -> Any:
        answer = self(method, path, **kw)
        assert answer.status_code in (200, 201), (method, path, answer.status_code, answer.text)
        return answer.json()

    def get(self, path: str, **kw: Any) -> Any:
        return self.ok("GET", path, **kw)

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return self.ok("POST", path, json=body, **kw)


@dataclass
class ApiStack:
    service: Service
    nats_url: str
    http_port: int
    data_dir: Path
    cli: Cli  # the operator's command line, over NATS
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def anonymous(self) -> Api:
        return Api(self.base)

    def add_user(self, username: str, *grants: str) -> None:
        flags = [arg for grant in grants for arg in ("--grant", grant)]
        added = self.cli("user", "add", username, *flags, "--password-stdin", stdin=PASSWORD)
        assert added.returncode == 0 or "exists already" in added.stderr, str(added)

    def new_token(self, username: str) -> str:
        created = self.cli.ok("token", "create", "--user", username, "--name", "e2e")
        return created.stdout.strip()

    def as_user(self, username: str, *grants: str) -> Api:
        """`username` (made the first time, with `grants`) holding a token of their own."""
        if username not in self.tokens:
            self.add_user(username, *grants)
            self.tokens[username] = self.new_token(username)
        return Api(self.base, self.tokens[username])


@contextmanager
def api_stack(log_dir: Path) -> Iterator[ApiStack]:
    nats_port, http_port = free_port(), free_port()
    data_dir = log_dir / "data"
    argv = ["up", "--data-dir", str(data_dir), "--nats-port", str(nats_port)]
    service = Service(
        "up",
        [*argv, "--port", str(http_port)],
        # The example roster's demo accounts get this password, so that every member signs
        # in with it whether `up` or the test made the account.
        process_env(**FAST_PASSWORDS, PATHWAYS_DEMO_PASSWORD=PASSWORD),
        log_dir,
    )
    nats_url = f"nats://127.0.0.1:{nats_port}"
    cli = Cli(nats_url)
    cli.env.update(FAST_PASSWORDS)
    try:
        service.wait_started()
        yield ApiStack(service, nats_url, http_port, data_dir, cli)
    finally:
        service.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures
    assert not unexpected_tracebacks(service.log_text()), service.describe()


def tasks_of(api: Api, incident_id: str, count: int) -> list[dict[str, Any]]:
    """The incident's tasks once there are `count` of them."""

    def listed() -> list[dict[str, Any]] | None:
        page = api.get("/tasks", params={"incident": incident_id, "limit": 500})
        items: list[dict[str, Any]] = page["items"]
        return items if len(items) >= count else None

    return wait_for(listed, 20, f"{count} tasks of {incident_id}", interval=0.2)
