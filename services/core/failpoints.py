"""Named points where a process can be made to die on purpose, to prove that whatever step a
crash interrupts is finished by someone else. Off unless PATHWAYS_FAILPOINT names one."""

from __future__ import annotations

import os
import sys

from services.core.logging import get_logger
from services.core.settings import Settings

log = get_logger(__name__)

# The exit status of a process that stopped at a failpoint (like SIGKILL, nothing is cleaned up).
FAILPOINT_EXIT = 86


def failpoint(settings: Settings, name: str) -> None:
    if settings.failpoint and settings.failpoint == name:
        log.warning("failpoint_reached", failpoint=name)
        sys.stderr.flush()
        os._exit(FAILPOINT_EXIT)
