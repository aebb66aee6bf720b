"""The `pathways` executable. Ctrl-C while the command is still setting itself up (importing
takes a moment) ends it with one line, not a traceback; once running, commands handle it
themselves. (The interpreter's own first moments, before any of this runs, are Python's.)"""

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
