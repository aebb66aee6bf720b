"""Every service's NATS user may hear each subject that service answers, and answer with as many
messages as a reply in parts takes, in deploy/nats/accounts.conf and in the Helm values alike: a
grant forgotten there leaves a command or query unanswered in a secured deployment while every
unsecured test passes."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from faststream.nats.subscriber.usecases import CoreSubscriber

from services.app import SERVICES, load_runtime
from services.core.reply_parts import MAX_PARTS
from services.core.settings import Settings
from tests.support import ROOT

ACCOUNTS = ROOT / "deploy" / "nats" / "accounts.conf"
HELM_VALUES = ROOT / "deploy" / "k8s" / "nats-helm-values.yaml"
_USER_LINE = re.compile(r"^\s*user:\s*(\w+)\s*$", re.M)
_SUBSCRIBE = re.compile(r"subscribe:\s*\{\s*allow:\s*\[(.*?)\]", re.S)
_RESPONSES = re.compile(r"allow_responses:\s*(true|\{[^}]*\})")
_SETTING = re.compile(r'(\w+):\s*"?([^",\s}]+)"?')


def _user_blocks(path: Path) -> dict[str, str]:
    """Each user's part of the NATS configuration text."""
    text = path.read_text()
    starts = list(_USER_LINE.finditer(text))
    return {
        this.group(1): text[this.end() : following.start() if following else None]
        for this, following in zip(starts, [*starts[1:], None], strict=True)
    }


def _accounts_conf(path: Path) -> dict[str, set[str]]:
    """Each user's subscribe allow list, read from the NATS configuration text."""
    found: dict[str, set[str]] = {}
    for user, block in _user_blocks(path).items():
        listed = _SUBSCRIBE.search(block)
        found[user] = set(re.findall(r'"([^"]+)"', listed.group(1))) if listed else set()
    return found


def _responses_conf(path: Path) -> dict[str, Any]:
    """Each user's allow_responses (absent: None), read from the NATS configuration text."""
    found: dict[str, Any] = {}
    for user, block in _user_blocks(path).items():
        given = _RESPONSES.search(block)
        if given is None:
            found[user] = None
        elif given.group(1) == "true":
            found[user] = True
        else:
            settings = dict(_SETTING.findall(given.group(1)))
            found[user] = {k: int(v) if v.isdigit() else v for k, v in settings.items()}
    return found


def _helm_users(path: Path) -> list[dict[str, Any]]:
    values: Any = yaml.safe_load(path.read_text())
    users: list[dict[str, Any]] = values["config"]["merge"]["accounts"]["PATHWAYS"]["users"]
    return users


def _helm_values(path: Path) -> dict[str, set[str]]:
    return {
        u["user"]: set(u.get("permissions", {}).get("subscribe", {}).get("allow", []))
        for u in _helm_users(path)
    }


def _responses_helm(path: Path) -> dict[str, Any]:
    return {u["user"]: u.get("permissions", {}).get("allow_responses") for u in _helm_users(path)}


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


def test_accounts_conf_and_the_helm_values_allow_the_same_responses() -> None:
    assert _responses_conf(ACCOUNTS) == _responses_helm(HELM_VALUES)


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_that_answers_may_send_a_reply_in_every_part(service: str) -> None:
    allowed = _responses_conf(ACCOUNTS).get(service)
    if not answered_by_service()[service]:
        assert allowed is None, f"{service} answers nothing but may publish responses"
        return
    # `true` would be one message a request: the parts after the first would be refused.
    assert allowed == {"max": MAX_PARTS, "expires": "2m"}, service
