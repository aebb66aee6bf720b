"""The load generator as its own process, so the services' process does not also run the client.

Started by benchmarks.run: reads one JSON job from stdin, writes one JSON result to stdout.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from benchmarks.load import TaskRef, drive
from schemas.commands import TaskVerb
from services.core import loop
from services.core.broker import connect


async def run_job(job: dict[str, Any]) -> dict[str, Any]:
    nc = await connect(str(job["url"]), name="pathways-bench-loadgen")
    try:
        result = await drive(
            nc,
            [TaskRef(str(task_id), str(assignee)) for task_id, assignee in job["tasks"]],
            [TaskVerb(verb) for verb in job["verbs"]],
            int(job["transitions"]),
            int(job["concurrency"]),
        )
    finally:
        await nc.close()
    return result.to_json()


def main() -> None:
    job = json.loads(sys.stdin.read())
    result = loop.run(run_job(job))
    sys.stdout.write(json.dumps(result))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
