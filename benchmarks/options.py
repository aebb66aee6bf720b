"""The benchmark's command-line options."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Options:
    incidents: int
    floor_rounds: int
    warmup: int
    acks: int
    transitions: int
    concurrency: int
    publishes: int
    separate_process: bool
    quick: bool
    profile_dir: Path | None


def build_parser(description: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=description)
    parser.add_argument("--incidents", type=int, default=None, help="measured incidents (200)")
    parser.add_argument(
        "--transitions", type=int, default=None, help="task transitions for throughput (3000)"
    )
    parser.add_argument("--acks", type=int, default=None, help="timed acknowledges (500)")
    parser.add_argument("--concurrency", type=int, default=64, help="commands in flight (64)")
    parser.add_argument(
        "--publishes", type=int, default=None, help="raw acknowledged publishes, the floor (20000)"
    )
    parser.add_argument(
        "--no-separate-process",
        action="store_true",
        help="skip the runs whose client is a separate process",
    )
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        default=None,
        help="write cProfile stats of the fan-out and in-process load phases to DIR",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a smoke run: 30 incidents, 150 acks, 600 transitions, 3000 publishes",
    )
    return parser


def parse_options(argv: Sequence[str] | None = None, *, description: str | None = None) -> Options:
    """`description` is the --help text (benchmarks.run passes its module docstring)."""
    parser = build_parser(description)
    args = parser.parse_args(argv)
    quick: bool = args.quick
    incidents: int = args.incidents if args.incidents is not None else (30 if quick else 200)
    transitions = args.transitions if args.transitions is not None else (600 if quick else 3000)
    acks = args.acks if args.acks is not None else (150 if quick else 500)
    publishes = args.publishes if args.publishes is not None else (3000 if quick else 20000)
    if min(incidents, transitions, acks, publishes, args.concurrency) < 1:
        parser.error("counts must be positive")
    return Options(
        incidents=incidents,
        floor_rounds=incidents,
        warmup=3 if quick else 10,
        acks=acks,
        transitions=transitions,
        concurrency=args.concurrency,
        publishes=publishes,
        separate_process=not args.no_separate_process,
        quick=quick,
        profile_dir=args.profile,
    )
