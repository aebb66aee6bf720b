"""Each file in tests/fixtures/broken declares, in `# expect:` lines, every error it must get,
checked against a roster of the classic roles."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.playbook_validation import parse_playbook
from schemas.roster import Roster
from schemas.yaml_source import SourceInvalid
from tests.support import FIXTURES

CLASSIC = Roster(agency="Example PD", members=())
BROKEN = sorted((FIXTURES / "broken").glob("*.yaml"))
UNDECLARED = {
    "a-list.yaml": ["a-list.yaml:1:1: expected a mapping, found list"],
    "empty.yaml": ["empty.yaml:1:1: the file is empty; expected a mapping"],
    "not-yaml.yaml": [
        "not-yaml.yaml:2:1: not valid YAML: expected ',' or ']', but got '<stream end>'"
    ],
}


def expected(path: Path) -> list[str]:
    if path.name in UNDECLARED:
        return UNDECLARED[path.name]
    lines = path.read_text().splitlines()
    return [line.removeprefix("# expect: ") for line in lines if line.startswith("# expect: ")]


@pytest.mark.parametrize("path", BROKEN, ids=[p.name for p in BROKEN])
def test_broken_playbook_gets_exactly_its_errors(path: Path) -> None:
    with pytest.raises(SourceInvalid) as invalid:
        parse_playbook(path.read_bytes(), path.name, CLASSIC)
    assert [str(e) for e in invalid.value.errors] == expected(path)
