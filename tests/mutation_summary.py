"""Per-module kill rates from the last `make mutate` (mutmut's results in mutants/*.meta).

A mutant the tests time out on (an infinite loop) counts as killed: the suite caught it."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

MUTANTS = Path("mutants")
DETECTED = ("killed", "timeout", "caught by type check")


def summarise(meta: Path) -> Counter[str]:
    exit_codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return Counter(status_by_exit_code[code] for code in exit_codes.values())


def row(name: str, counts: Counter[str]) -> str:
    total = counts.total()
    detected = sum(counts[status] for status in DETECTED)
    rate = f"{100 * detected / total:5.1f}%" if total else "    -"
    return (
        f"{name:<34} {total:>5} {counts['killed']:>6} {counts['timeout']:>7} "
        f"{counts['survived']:>8} {counts['no tests']:>8}  {rate}"
    )


def main() -> int:
    metas = sorted(MUTANTS.rglob("*.py.meta"))
    if not metas:
        print("no mutation results in mutants/: run `make mutate` first", file=sys.stderr)
        return 1
    print(f"{'module':<34} {'total':>5} {'killed':>6} {'timeout':>7} {'survived':>8} "
          f"{'no tests':>8}  kill rate")  # fmt: skip
    overall: Counter[str] = Counter()
    for meta in metas:
        counts = summarise(meta)
        overall += counts
        print(row(str(meta.relative_to(MUTANTS)).removesuffix(".meta"), counts))
    print(row("all", overall))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
