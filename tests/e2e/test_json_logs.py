"""Off a terminal every line a service writes is one JSON object, errors and FastStream's own
lines included: no colour codes, exceptions inside the object, never a bare traceback."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from schemas import subjects
from schemas.base import utc_now
from schemas.enums import Severity
from schemas.events import IncidentLogged
from services.core.broker import connect
from services.core.embedded import EmbeddedNats
from services.core.migrate import migrate
from tests.e2e.harness import ROSTER, Service, process_env
from tests.support import ROOT, free_port

pytestmark = pytest.mark.e2e

# Loaded by the engine process at start-up (PYTHONPATH): its incident.logged reaction fails.
FAULT = """
from services.engine import reactions

async def broken(rt, incident):
    raise RuntimeError(f"injected fault for {incident.incident_id}")

reactions.on_incident_logged = broken
"""


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line as a JSON object; fails naming the first line that is not one."""
    parsed = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON line: {line!r}\n---\n{text}") from None
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def _without_log_format() -> dict[str, str]:
    env = process_env()
    del env["PATHWAYS_LOG_FORMAT"]  # the default: JSON because stderr is not a terminal
    return env


async def test_every_line_of_an_engine_with_a_failing_reaction_is_json(tmp_path: Path) -> None:
    (tmp_path / "fault").mkdir()
    (tmp_path / "fault" / "sitecustomize.py").write_text(FAULT)
    server = EmbeddedNats(tmp_path / "nats", free_port())
    await server.start()
    setup = await connect(server.url, name="e2e-json-logs-setup")
    try:
        await migrate(setup.jetstream())
    finally:
        await setup.close()
    env = _without_log_format() | {
        "PATHWAYS_NATS_URL": server.url,
        "PATHWAYS_PLAYBOOKS_DIR": str(ROOT / "playbooks"),
        "PATHWAYS_ROSTER": str(ROSTER),
        "PATHWAYS_RETRY_DELAYS": "0.2",
        "PYTHONPATH": str(tmp_path / "fault"),
    }
    engine = Service("engine", ["run", "engine"], env, tmp_path)
    try:
        await engine.started()
        nc = await connect(server.url)
        incident = IncidentLogged(
            event_id="INC-7Q3XK2AB.logged", incident_id="INC-7Q3XK2AB", actor="renee.alvarez",
            at=utc_now(), incident_type="officer-involved-shooting", title="Not to be logged",
            severity=Severity.HIGH,
        )  # fmt: skip
        await nc.jetstream().publish(
            subjects.incident_logged("INC-7Q3XK2AB"), incident.model_dump_json().encode(),
            stream=subjects.EVENTS_STREAM,
        )  # fmt: skip
        await nc.close()
        for _ in range(150):
            if engine.logged("reaction_dead_lettered"):
                break
            await asyncio.sleep(0.1)
    finally:
        await asyncio.to_thread(engine.stop)
        await server.stop()
    lines = json_lines(engine.log_text())
    failed = [line for line in lines if line["event"] == "reaction_failed"]
    dead = [line for line in lines if line["event"] == "reaction_dead_lettered"]
    assert len(failed) == 1 and len(dead) == 1, lines
    assert "injected fault for INC-7Q3XK2AB" in str(dead[0]["exception"])
    assert "\x1b[" not in engine.log_text()
    assert "Not to be logged" not in engine.log_text()


LIBRARY_LINES = """
import logging
from faststream._internal.logger.logging import logger as faststream_logger
from services.core.logging import BROKER_LOGGER, configure_logging
from services.core.settings import LogFormat

configure_logging(LogFormat.AUTO, "info")
try:
    raise ValueError("handler blew up")
except ValueError:
    logging.getLogger(BROKER_LOGGER).exception("message handling failed")
    faststream_logger.error("subscriber failed", exc_info=True)
"""


def test_faststream_errors_are_json_lines_with_the_exception_inside() -> None:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LIBRARY_LINES)],
        cwd=ROOT, env=_without_log_format(), capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = json_lines(done.stderr + done.stdout)
    assert [line["event"] for line in lines] == ["message handling failed", "subscriber failed"]
    assert all("ValueError: handler blew up" in str(line["exception"]) for line in lines)
    assert "\x1b[" not in done.stderr
