"""The `pathways` executable. Ctrl-C before the command has set itself up (importing takes a
moment) ends it with one line, not a traceback; once running, commands handle it themselves."""

from __future__ import annotations

import signal
import sys
from types import FrameType

INTERRUPTED = 130


def _interrupted(signum: int, frame: FrameType | None) -> None:
    sys.stderr.write("interrupted\n")
    raise SystemExit(INTERRUPTED)


def main() -> None:
    signal.signal(signal.SIGINT, _interrupted)
    from services.cli.main import main as run

    run()
