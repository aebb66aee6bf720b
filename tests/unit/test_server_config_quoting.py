"""Paths in the generated nats-server config are double-quoted NATS strings, escaped so that
any file name reads back as itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.core.embedded import config_string, server_config


@pytest.mark.parametrize(
    ("path", "quoted"),
    [
        ("/srv/pathways", '"/srv/pathways"'),
        ('/srv/a "quoted" dir', r'"/srv/a \"quoted\" dir"'),
        ("/srv/back\\slash", r'"/srv/back\\slash"'),
        ("/srv/$HOME #not-a-comment", '"/srv/$HOME #not-a-comment"'),
        ("/srv/données/事件", '"/srv/données/事件"'),
        ("/srv/new\nline\ttab", r'"/srv/new\x0aline\x09tab"'),
        ("/srv/" + os.fsdecode(b"\xff"), r'"/srv/\xff"'),
    ],
    ids=["plain", "quote", "backslash", "dollar-hash", "non-ascii", "control", "not-utf8"],
)
def test_config_strings_escape_what_the_nats_config_language_would_read_otherwise(
    path: str, quoted: str
) -> None:
    assert config_string(path) == quoted


def test_the_store_dir_is_written_quoted_on_its_own_line() -> None:
    config = server_config(Path('/data/we "ird" $x #y'), 4333)
    store_line = next(line for line in config.splitlines() if "store_dir" in line)
    assert store_line == r'  store_dir: "/data/we \"ird\" $x #y/jetstream"'
