"""What `pathways migrate` decides for each stream and bucket: it only ever widens."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from nats.js.api import DiscardPolicy, StreamConfig

from schemas.subjects import (
    ACCOUNTS_BUCKET,
    AUDIT_STREAM,
    BUCKETS,
    EVENTS_STREAM,
    IDEMPOTENCY_BUCKET,
    SESSIONS_BUCKET,
    THROTTLE_BUCKET,
    TIMERS_STREAM,
)
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
EVENTS, TIMERS, DEAD_LETTERS, AUDIT = STREAMS
SPECS = {bucket.name: bucket for bucket in BUCKETS}
DAY = 86400.0


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


def test_sign_in_records_are_kept_400_days_and_nobody_removes_one_sooner() -> None:
    assert AUDIT.name == AUDIT_STREAM
    assert AUDIT.subjects == ["pw.audit.>"]
    assert AUDIT.max_age == 400 * DAY
    assert AUDIT.deny_delete and AUDIT.deny_purge
    assert unprotected(replace(AUDIT, deny_purge=False), AUDIT) == ["deny_purge"]


def test_an_audit_stream_kept_shorter_is_lengthened_and_one_kept_longer_stays() -> None:
    shorter = plan_stream(replace(AUDIT, max_age=30 * DAY), AUDIT, OWNED)
    assert shorter.config is not None and shorter.config.max_age == 400 * DAY
    assert "max_age 2592000→34560000" in shorter.changes
    for kept in (800 * DAY, 0.0):  # longer, or lifted by an operator
        assert plan_stream(replace(AUDIT, max_age=kept), AUDIT, OWNED).action is Action.UNCHANGED


def test_accounts_last_and_sessions_throttles_and_idempotency_keys_expire() -> None:
    assert SPECS[ACCOUNTS_BUCKET].ttl is None
    assert SPECS[SESSIONS_BUCKET].ttl == timedelta(hours=12)
    assert SPECS[THROTTLE_BUCKET].ttl == timedelta(minutes=15)
    assert SPECS[IDEMPOTENCY_BUCKET].ttl == timedelta(hours=24)


def _with_ttl(seconds: float) -> StreamConfig:
    return replace(_bucket_stream(1, 1), max_age=seconds)


def test_a_bucket_ttl_is_raised_to_what_is_wanted_and_never_shortened() -> None:
    sessions = SPECS[SESSIONS_BUCKET]
    shorter = plan_bucket(_with_ttl(3600.0), sessions, 1)
    assert shorter.config is not None and shorter.config.max_age == 12 * 3600.0
    assert shorter.line() == f"bucket {SESSIONS_BUCKET}: upgraded (ttl 3600→43200)"
    assert plan_bucket(_with_ttl(12 * 3600.0), sessions, 1).action is Action.UNCHANGED
    for kept in (DAY, 0.0):  # an operator lengthened it, or lifted it
        assert plan_bucket(_with_ttl(kept), sessions, 1).action is Action.UNCHANGED


def test_a_bucket_without_a_ttl_keeps_one_an_operator_set() -> None:
    assert plan_bucket(_with_ttl(DAY), SPECS[ACCOUNTS_BUCKET], 1).action is Action.UNCHANGED
