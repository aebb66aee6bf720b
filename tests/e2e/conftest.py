"""Fixtures for the end-to-end tests: one `pathways up` shared by the CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.harness import Cli, Stack, start_up


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One `pathways up` shared by the CLI tests; each test logs its own incidents."""
    service, url, data_dir = start_up(tmp_path_factory.mktemp("stack"))
    try:
        service.wait_started()
        yield Stack(service, url, data_dir)
    finally:
        service.stop()


@pytest.fixture(scope="session")
def cli(stack: Stack) -> Cli:
    return Cli(stack.nats_url)
