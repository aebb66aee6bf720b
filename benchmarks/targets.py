"""The benchmark's targets: fan-out against the JetStream floor, acknowledge latency, throughput."""

from __future__ import annotations

from typing import Any

TARGET_FANOUT_P50_X_FLOOR = 2.0
TARGET_FANOUT_P99_X_FLOOR = 3.0
TARGET_ACK_P50_MS = 3.0
TARGET_TRANSITIONS_PER_S = 1500.0


def target(name: str, rule: str, value: float, limit: float, *, at_most: bool) -> dict[str, Any]:
    passed = value <= limit if at_most else value >= limit
    return {
        "name": name,
        "target": rule,
        "value": round(value, 3),
        "limit": round(limit, 3),
        "pass": passed,
    }


def fanout_targets(fan: dict[str, Any], floor: dict[str, Any]) -> list[dict[str, Any]]:
    """Fan-out p50 and p99 against the floor's (both distributions on the server clock)."""
    return [
        target(
            "fanout_p50_vs_floor",
            f"fan-out p50 <= {TARGET_FANOUT_P50_X_FLOOR:g} x floor p50 (server clock)",
            fan["p50_ms"],
            TARGET_FANOUT_P50_X_FLOOR * floor["p50_ms"],
            at_most=True,
        ),
        target(
            "fanout_p99_vs_floor",
            f"fan-out p99 <= {TARGET_FANOUT_P99_X_FLOOR:g} x floor p99 (server clock)",
            fan["p99_ms"],
            TARGET_FANOUT_P99_X_FLOOR * floor["p99_ms"],
            at_most=True,
        ),
    ]


def ack_target(ack_in_process: dict[str, Any]) -> dict[str, Any]:
    return target(
        "ack_round_trip_p50",
        f"acknowledge round trip p50 <= {TARGET_ACK_P50_MS:g} ms (client in-process)",
        ack_in_process["latency"]["p50_ms"],
        TARGET_ACK_P50_MS,
        at_most=True,
    )


def throughput_target(run: dict[str, Any], *, separate_process: bool) -> dict[str, Any]:
    if separate_process:
        name = "transitions_per_s_separate_process"
        where = "client in its own process"
    else:
        name = "transitions_per_s_in_process"
        where = "client in-process"
    return target(
        name,
        f">= {TARGET_TRANSITIONS_PER_S:,.0f} transitions/s ({where})",
        run["per_second"],
        TARGET_TRANSITIONS_PER_S,
        at_most=False,
    )


def all_targets(
    fan: dict[str, Any],
    floor: dict[str, Any],
    ack_section: dict[str, Any],
    throughput: dict[str, Any],
) -> list[dict[str, Any]]:
    """Every target, in the report's order; the separate-process one only if that run was made."""
    targets = [
        *fanout_targets(fan, floor),
        ack_target(ack_section["in_process"]),
        throughput_target(throughput["in_process"], separate_process=False),
    ]
    if "separate_process" in throughput:
        targets.append(throughput_target(throughput["separate_process"], separate_process=True))
    return targets
