"""Every service's NATS user may hear each subject that service answers, in deploy/nats/
accounts.conf and in the Helm values alike: a grant forgotten there leaves a command or query
unanswered in a secured deployment while every unsecured test passes."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from faststream.nats.subscriber.usecases import CoreSubscriber

from services.app import SERVICES, load_runtime
from services.core.settings import Settings
from tests.support import ROOT

ACCOUNTS = ROOT / "deploy" / "nats" / "accounts.conf"
HELM_VALUES = ROOT / "deploy" / "k8s" / "nats-helm-values.yaml"
_USER_LINE = re.compile(r"^\s*user:\s*(\w+)\s*$", re.M)
_SUBSCRIBE = re.compile(r"subscribe:\s*\{\s*allow:\s*\[(.*?)\]", re.S)


def _accounts_conf(path: Path) -> dict[str, set[str]]:
    """Each user's subscribe allow list, read from the NATS configuration text."""
    found: dict[str, set[str]] = {}
    text = path.read_text()
    starts = list(_USER_LINE.finditer(text))
    for this, following in zip(starts, [*starts[1:], None], strict=True):
        user, block = this.group(1), text[this.end() : following.start() if following else None]
        listed = _SUBSCRIBE.search(block)
        found[user] = set(re.findall(r'"([^"]+)"', listed.group(1))) if listed else set()
    return found


def _helm_values(path: Path) -> dict[str, set[str]]:
    values: Any = yaml.safe_load(path.read_text())
    users = values["config"]["merge"]["accounts"]["PATHWAYS"]["users"]
    return {
        u["user"]: set(u.get("permissions", {}).get("subscribe", {}).get("allow", []))
        for u in users
    }


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` one token, `>` the rest (one token or more)."""
    wanted, given = pattern.split("."), subject.split(".")
    for index, token in enumerate(wanted):
        if token == ">":
            return len(given) > index
        if index >= len(given) or token not in ("*", given[index]):
            return False
    return len(wanted) == len(given)


@cache
def answered_by_service() -> dict[str, frozenset[str]]:
    """The request-reply subjects each service's router answers, built as `pathways up` builds
    them (nothing connects)."""
    rt = load_runtime(Settings())
    return {
        name: frozenset(
            sub.subject.template for sub in build(rt).subscribers if isinstance(sub, CoreSubscriber)
        )
        for name, build in SERVICES.items()
    }


def test_the_subject_matcher() -> None:
    assert matches("pw.qry.review.>", "pw.qry.review.metrics")
    assert matches("pw.qry.*", "pw.qry.timeline")
    assert not matches("pw.qry.*", "pw.qry.review.metrics")
    assert not matches("pw.qry.timeline", "pw.qry.timeline.x")
    assert not matches("pw.qry.review.>", "pw.qry.review")


@pytest.mark.parametrize("read", [_accounts_conf, _helm_values], ids=["accounts.conf", "helm"])
@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_may_hear_what_it_answers(read: Any, service: str) -> None:
    granted = read(ACCOUNTS if read is _accounts_conf else HELM_VALUES)
    assert service in granted, f"no NATS user {service}"
    unheard = sorted(
        subject
        for subject in answered_by_service()[service]
        if not any(matches(allowed, subject) for allowed in granted[service])
    )
    assert not unheard, f"{service} answers {unheard} but its user may not subscribe to them"


def test_accounts_conf_and_the_helm_values_grant_the_same_subscriptions() -> None:
    assert _accounts_conf(ACCOUNTS) == _helm_values(HELM_VALUES)
