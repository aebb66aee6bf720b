"""A `pathways up` with the example roster and its demo accounts, whose password the tests set:
what the browser tests and the access matrix sign in to."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.api_support import FAST_PASSWORDS
from tests.e2e.harness import Cli, Service, process_env, unexpected_tracebacks, up_ports
from tests.support import free_port

# Every example person's password on this stack (PATHWAYS_DEMO_PASSWORD).
DEMO_PASSWORD = "demo-pass-for-tests-7q"
# Accounts that are no roster member, made with `pathways user add --grant`.
REVIEWER, ADMIN = "olga.reviewer", "root.admin"


@dataclass(frozen=True)
class DemoStack:
    service: Service
    base: str  # the console and API, http://127.0.0.1:PORT
    cli: Cli  # the operator's command line, over NATS

    def add_user(self, username: str, *grants: str) -> None:
        flags = [arg for grant in grants for arg in ("--grant", grant)]
        added = self.cli("user", "add", username, *flags, "--password-stdin", stdin=DEMO_PASSWORD)
        assert added.returncode == 0 or "exists already" in added.stderr, str(added)

    def token_for(self, username: str) -> str:
        created = self.cli.ok("token", "create", "--user", username, "--name", "tests")
        return created.stdout.strip()


@contextmanager
def demo_stack(log_dir: Path) -> Iterator[DemoStack]:
    """`pathways up` on free ports (never 4222 or 8080), stopped afterwards; the services must
    have logged no error and no traceback."""
    nats_port, http_port = free_port(), free_port()
    argv = ["up", "--data-dir", str(log_dir / "data"), "--nats-port", str(nats_port)]
    env = process_env(PATHWAYS_DEMO_PASSWORD=DEMO_PASSWORD, **FAST_PASSWORDS)
    service = Service("up", [*argv, *up_ports(http_port)], env, log_dir)
    cli = Cli(f"nats://127.0.0.1:{nats_port}")
    cli.env.update(FAST_PASSWORDS)
    try:
        service.wait_started()
        yield DemoStack(service, f"http://127.0.0.1:{http_port}", cli)
    finally:
        service.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures
    assert not unexpected_tracebacks(service.log_text()), service.describe()
