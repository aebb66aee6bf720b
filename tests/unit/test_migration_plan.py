"""What `pathways migrate` decides for each stream and bucket: it only ever widens."""

from __future__ import annotations

from dataclasses import replace

from nats.js.api import DiscardPolicy, StreamConfig

from schemas.subjects import BUCKETS, EVENTS_STREAM, TIMERS_STREAM
from services.core.streams import (
    Action,
    owners,
    plan_bucket,
    plan_stream,
    unprotected,
    wanted_streams,
)

STREAMS = wanted_streams(1)
OWNED = owners(STREAMS)
EVENTS, TIMERS, DEAD_LETTERS = STREAMS


def test_the_events_stream_is_protected_by_what_is_wanted() -> None:
    assert EVENTS.name == EVENTS_STREAM
    assert EVENTS.deny_delete and EVENTS.deny_purge
    assert EVENTS.allow_rollup_hdrs is False
    assert EVENTS.allow_msg_schedules is False
    assert EVENTS.discard is DiscardPolicy.NEW
    assert EVENTS.allow_direct and EVENTS.allow_atomic


def test_a_missing_stream_is_created_as_wanted() -> None:
    plan = plan_stream(None, EVENTS, OWNED)
    assert plan.action is Action.CREATE
    assert plan.config == EVENTS
    assert plan.line() == f"stream {EVENTS_STREAM}: created"


def test_a_stream_as_wanted_is_unchanged() -> None:
    for wanted in STREAMS:
        plan = plan_stream(wanted, wanted, OWNED)
        assert plan.action is Action.UNCHANGED, plan
        assert plan.line().endswith(": unchanged")


def test_an_unprotected_events_stream_is_upgraded_to_every_protection() -> None:
    old = replace(
        EVENTS,
        deny_delete=False,
        deny_purge=False,
        allow_rollup_hdrs=True,
        discard=DiscardPolicy.OLD,
        max_age=86400.0,
    )
    plan = plan_stream(old, EVENTS, OWNED)
    assert plan.action is Action.UPGRADE
    assert plan.config is not None
    assert plan.config.deny_delete and plan.config.deny_purge
    assert plan.config.allow_rollup_hdrs is False
    assert plan.config.discard is DiscardPolicy.NEW
    assert plan.config.max_age == 0.0  # no age limit: old incidents are never dropped
    assert "rollup off" in plan.line() and "max_age 86400→unlimited" in plan.line()


def test_an_events_stream_created_with_schedules_is_refused_and_says_what_to_do() -> None:
    legacy = replace(EVENTS, allow_msg_schedules=True, subjects=["pw.evt.>", "pw.sched.>"])
    plan = plan_stream(legacy, EVENTS, OWNED)
    assert plan.action is Action.REFUSE
    assert plan.config is None
    assert "cannot turn off" in plan.line() and "deploy/README.md" in plan.line()
    assert "\n" not in plan.line()


def test_subjects_an_operator_added_are_kept() -> None:
    widened = replace(EVENTS, subjects=["pw.evt.>", "ops.audit.>"])
    assert plan_stream(widened, EVENTS, OWNED).action is Action.UNCHANGED


def test_a_subject_another_pathways_stream_owns_is_handed_over() -> None:
    holding = replace(EVENTS, subjects=["pw.evt.>", "pw.sched.>"])
    plan = plan_stream(holding, EVENTS, OWNED)
    assert plan.config is not None and plan.config.subjects == ["pw.evt.>"]
    assert f"subject pw.sched.> → {TIMERS_STREAM}" in plan.changes


def test_replicas_are_raised_and_never_lowered() -> None:
    raised = plan_stream(EVENTS, replace(EVENTS, num_replicas=3), OWNED)
    assert raised.config is not None and raised.config.num_replicas == 3
    assert "replicas 1→3" in raised.changes
    on_three = replace(EVENTS, num_replicas=3)
    assert plan_stream(on_three, EVENTS, OWNED).action is Action.UNCHANGED


def test_limits_an_operator_raised_or_lifted_are_kept() -> None:
    lifted = replace(DEAD_LETTERS, max_msg_size=-1, max_msgs=-1, duplicate_window=600.0)
    assert plan_stream(lifted, DEAD_LETTERS, OWNED).action is Action.UNCHANGED
    wanted_limit = replace(DEAD_LETTERS, max_msgs=1000)
    higher = replace(DEAD_LETTERS, max_msgs=5000)
    assert plan_stream(higher, wanted_limit, OWNED).action is Action.UNCHANGED
    lower = replace(DEAD_LETTERS, max_msgs=10)
    plan = plan_stream(lower, wanted_limit, OWNED)
    assert plan.config is not None and plan.config.max_msgs == 1000


def test_protections_and_features_already_on_are_never_turned_off() -> None:
    stricter = replace(TIMERS, deny_delete=True, allow_atomic=True, discard=DiscardPolicy.NEW)
    assert plan_stream(stricter, TIMERS, OWNED).action is Action.UNCHANGED
    no_direct = replace(TIMERS, allow_direct=False)
    plan = plan_stream(no_direct, TIMERS, OWNED)
    assert plan.config is not None and plan.config.allow_direct


def _bucket_stream(replicas: int, history: int) -> StreamConfig:
    return StreamConfig(
        name="KV_pw_tasks", num_replicas=replicas, max_msgs_per_subject=history, allow_direct=True
    )


def test_buckets_are_created_raised_and_never_lowered() -> None:
    spec = BUCKETS[0]
    assert plan_bucket(None, spec, 1).action is Action.CREATE
    assert plan_bucket(_bucket_stream(1, 1), spec, 1).action is Action.UNCHANGED
    raised = plan_bucket(_bucket_stream(1, 1), spec, 3)
    assert raised.config is not None and raised.config.num_replicas == 3
    assert raised.line() == f"bucket {spec.name}: upgraded (replicas 1→3)"
    assert plan_bucket(_bucket_stream(3, 5), spec, 1).action is Action.UNCHANGED


def test_a_service_sees_what_an_events_stream_lacks() -> None:
    assert unprotected(EVENTS, EVENTS) == []
    legacy = replace(EVENTS, deny_delete=False, deny_purge=False, allow_rollup_hdrs=True)
    assert unprotected(legacy, EVENTS) == ["deny_delete", "deny_purge", "rollup off"]
    assert unprotected(TIMERS, TIMERS) == []  # the timers stream must allow rollups
