"""Schemathesis against the API of a real `pathways up`: every answer, to valid and invalid
requests alike, is one the OpenAPI document declares (status, content type, schema, headers),
and none is a server error."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.api_support import ApiStack, api_stack, tasks_of
from tests.e2e.harness import playbook_tasks, process_env

pytestmark = pytest.mark.e2e

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CONFIG = Path(__file__).parent / "schemathesis.toml"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("schemathesis")) as running:
        yield running


def test_every_answer_matches_the_openapi_document(stack: ApiStack, tmp_path: Path) -> None:
    renee = stack.as_user("renee.alvarez")
    # Something to find: an incident and its tasks, so that ids found by following the
    # document's links reach real records.
    logged = renee.post("/incidents", {"incident_type": "officer-involved-shooting", "title": "x"})
    tasks_of(renee, logged["data"]["incident"]["incident_id"], len(playbook_tasks()))
    argv = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "run",
        f"{stack.base}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        "30",
        "--workers",
        "1",
        "--seed",
        "1",
        "-H",
        f"Authorization: Bearer {stack.tokens['renee.alvarez']}",
        # Revoking a token could revoke the one this run holds; test_api revokes one.
        "--exclude-method",
        "DELETE",
    ]
    env = process_env(NO_COLOR="1")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, env=env)
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-6000:]
    assert "No issues found" in report or "passed" in report, report[-3000:]
