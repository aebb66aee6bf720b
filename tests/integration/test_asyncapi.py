"""`pathways asyncapi` writes a document the official AsyncAPI parser accepts, and that parser
(tools/asyncapi/validate.mjs) refuses a broken one. Without node or the parser these tests fail
with one line saying what to install: they are never skipped."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from schemas.catalog import OPERATIONS
from services.core.asyncapi import specification
from tests.support import ROOT

pytestmark = pytest.mark.integration

PATHWAYS = Path(sys.executable).parent / "pathways"
TOOLS = ROOT / "tools" / "asyncapi"
VALIDATE = TOOLS / "validate.mjs"
PARSER = TOOLS / "node_modules" / "@asyncapi" / "parser" / "package.json"
TIMEOUT = 60.0


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: install Node.js 20 or later", pytrace=False)
    if not PARSER.is_file():
        pytest.fail(
            "the AsyncAPI parser is not installed: run `make asyncapi-tools`", pytrace=False
        )
    return node


def _validate(document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_node(), str(VALIDATE), str(document)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def test_the_generated_document_is_valid_asyncapi(tmp_path: Path) -> None:
    _node()
    document = tmp_path / "asyncapi.json"
    made = subprocess.run(
        [str(PATHWAYS), "asyncapi", "--out", str(document)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    checked = _validate(document)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "valid AsyncAPI 3.0.0" in checked.stdout


def test_a_document_with_a_dangling_reference_is_refused(tmp_path: Path) -> None:
    request = f'"#/components/schemas/{OPERATIONS[0].request.__name__}"'
    text = specification()
    assert request in text
    broken = tmp_path / "broken.json"
    broken.write_text(text.replace(request, '"#/components/schemas/Missing"', 1))
    checked = _validate(broken)
    assert checked.returncode == 1
    [error, summary] = checked.stdout.splitlines()
    assert "#/components/schemas/Missing' does not exist" in error
    assert "/payload/$ref" in error
    assert "not a valid AsyncAPI document (1 error)" in summary
