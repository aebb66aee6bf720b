"""What the benchmark's modules share: where the repository is, the generated playbook's shape,
the names and timeouts of the runs, and progress messages (to stderr)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROSTER = ROOT / "rosters" / "example.yaml"

PLAYBOOK_ID = "bench-fanout"
INCIDENT_TYPE = "bench-fanout"
TASKS_PER_PLAYBOOK = 30
ROLES = ("community_liaison", "victim_advocate", "peer_support")

FLOOR_STREAM = "BENCH_FLOOR"
FLOOR_SUBJECT = "bench.floor"

ACTOR = "renee.alvarez"  # a command-staff member of the example roster
REQUEST_TIMEOUT = 10.0
FANOUT_TIMEOUT = 30.0
QUIESCE_TIMEOUT = 180.0


def say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
