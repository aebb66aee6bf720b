"""Fixtures for the end-to-end tests: one `pathways up` shared by the CLI tests, and a mail
server for the tests that start their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.console_client import console_address, demo_password
from tests.e2e.harness import Cli, Stack, start_up, unexpected_tracebacks
from tests.integration.receivers import SmtpSink, start_smtp


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One `pathways up` shared by the CLI tests; each test logs its own incidents."""
    service, url, data_dir = start_up(tmp_path_factory.mktemp("stack"))
    try:
        service.wait_started()
        yield Stack(service, url, data_dir)
    finally:
        service.stop()
    # Whatever the tests saw, the services must not have failed on their side.
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, f"`pathways up` logged errors: {failures}"
    assert not unexpected_tracebacks(service.log_text()), service.describe()


@pytest.fixture(scope="session")
def console(stack: Stack) -> str:
    """The shared stack's console and API address."""
    return console_address(stack.service)


@pytest.fixture(scope="session")
def password(stack: Stack) -> str:
    """The shared stack's demo password (every example person's)."""
    found = demo_password(stack.service)
    assert found, stack.service.describe()
    return found


@pytest.fixture(scope="session")
def cli(stack: Stack) -> Cli:
    return Cli(stack.nats_url)


@pytest.fixture
def mailbox() -> Iterator[tuple[SmtpSink, str]]:
    """A local SMTP server that keeps every message, and its PATHWAYS_SMTP_URL."""
    sink = SmtpSink()
    controller = start_smtp(sink)
    yield sink, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()
