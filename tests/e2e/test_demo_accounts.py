"""Demo accounts: with the example roster, `pathways up` makes an account for every example
person, with one password it makes once and keeps in the data directory, and its banner says
where and how to sign in; a second `up` keeps the password. Never with a roster that is not the
example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from tests.e2e.console_client import Browser, console_address, demo_password
from tests.e2e.harness import ROSTER, Cli, Service, start_up

pytestmark = pytest.mark.e2e

PASSWORD = re.compile(r"^[a-z2-9]{4}(-[a-z2-9]{4}){3}$")


def up_until_started(log_dir: Path, *extra: str) -> tuple[Service, str, Path]:
    service, url, data_dir = start_up(log_dir, None, None, *extra)
    try:
        service.wait_started()
    except BaseException:
        service.stop()
        raise
    return service, url, data_dir


def signs_in(console: str, username: str, password: str) -> str:
    browser = Browser(console)
    try:
        answer = browser.sign_in(username, password)
        assert answer.status_code == 303, answer.text
        return browser.get("/account").text
    finally:
        browser.close()


def test_up_makes_demo_accounts_and_keeps_their_password(tmp_path: Path) -> None:
    service, _, data_dir = up_until_started(tmp_path)
    try:
        console = console_address(service)
        first = demo_password(service)
        assert first is not None and PASSWORD.match(first), service.describe()
        assert (
            f"Sign in at {console}/ as any example person, e.g. renee.alvarez (command staff) "
            "or dana.reyes (a responder)." in service.log_text()
        )
        kept = data_dir / "secrets" / "demo-password"
        assert kept.read_text().strip() == first
        assert kept.stat().st_mode & 0o777 == 0o600
        assert "Welcome, Renee Alvarez" in signs_in(console, "renee.alvarez", first)
        assert "Welcome, Dana Reyes" in signs_in(console, "dana.reyes", first)
    finally:
        service.stop()
    # The password is in the banner, never in a log line.
    assert all(first not in str(event) for event in service.log_events())

    again, _, _ = up_until_started(tmp_path)
    try:
        assert demo_password(again) == first
        assert "Welcome, Renee Alvarez" in signs_in(console_address(again), "renee.alvarez", first)
    finally:
        again.stop()


def test_no_demo_accounts_with_a_roster_that_is_not_the_example(tmp_path: Path) -> None:
    roster = yaml.safe_load(ROSTER.read_text())
    roster["example"] = False
    real = tmp_path / "roster.yaml"
    real.write_text(yaml.safe_dump(roster, sort_keys=False))
    service, url, data_dir = up_until_started(tmp_path, "--roster", str(real))
    try:
        assert demo_password(service) is None
        assert "Sign in at" not in service.log_text()
        assert not (data_dir / "secrets" / "demo-password").exists()
        assert Cli(url).json("user", "list") == []
    finally:
        service.stop()
