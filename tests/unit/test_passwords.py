"""argon2id hashing: in a thread, one at a time, the same cost for a username nobody has."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from argon2 import PasswordHasher, extract_parameters, profiles

from services.core.passwords import PARAMETERS, Passwords
from services.core.settings import PasswordProfile, Settings

PASSWORD = "correct horse battery staple"


class CountingHasher:
    """The real hasher, counting verifies and how many ran at once."""

    def __init__(self, inner: PasswordHasher, pause: float = 0.0) -> None:
        self.inner = inner
        self.pause = pause
        self.verifies = 0
        self.running = 0
        self.most_at_once = 0
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.threads.add(threading.current_thread().name)
        time.sleep(self.pause)

    def _leave(self) -> None:
        with self._lock:
            self.running -= 1

    def hash(self, password: str) -> str:
        self._enter()
        try:
            return self.inner.hash(password)
        finally:
            self._leave()

    def verify(self, stored: str, password: str) -> bool:
        self._enter()
        try:
            self.verifies += 1
            return self.inner.verify(stored, password)
        finally:
            self._leave()

    def check_needs_rehash(self, stored: str) -> bool:
        return self.inner.check_needs_rehash(stored)


def counting(passwords: Passwords, pause: float = 0.0) -> CountingHasher:
    spy = CountingHasher(passwords._hasher, pause)
    passwords._hasher = spy  # type: ignore[assignment]
    return spy


def test_rfc_9106_low_memory_unless_pathways_password_profile_says_test(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert PARAMETERS[PasswordProfile.DEFAULT] == profiles.RFC_9106_LOW_MEMORY
    assert PARAMETERS[PasswordProfile.TEST] == profiles.CHEAPEST
    monkeypatch.delenv("PATHWAYS_PASSWORD_PROFILE", raising=False)
    assert Settings().password_profile is PasswordProfile.DEFAULT
    monkeypatch.setenv("PATHWAYS_PASSWORD_PROFILE", "test")
    assert Settings().password_profile is PasswordProfile.TEST


async def test_a_hash_is_argon2id_and_verifies_only_its_own_password() -> None:
    passwords = Passwords(PasswordProfile.TEST)
    stored = await passwords.hash(PASSWORD)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert extract_parameters(stored) == profiles.CHEAPEST
    assert (await passwords.verify(stored, PASSWORD)).matches
    assert not (await passwords.verify(stored, PASSWORD + "!")).matches
    assert not (await passwords.verify("not-a-hash", PASSWORD)).matches


async def test_a_username_nobody_has_costs_a_verify_as_dear_as_a_real_one() -> None:
    passwords = Passwords(PasswordProfile.TEST)
    real = await passwords.hash(PASSWORD)
    spy = counting(passwords)
    assert not (await passwords.verify(None, PASSWORD)).matches
    assert spy.verifies == 1
    assert not (await passwords.verify(real, "wrong password here")).matches
    assert spy.verifies == 2
    # Against a hash made with the same parameters as every account's.
    assert passwords._dummy is not None
    assert extract_parameters(passwords._dummy) == extract_parameters(real)


async def test_hashing_runs_in_a_thread_one_at_a_time() -> None:
    passwords = Passwords(PasswordProfile.TEST)
    stored = await passwords.hash(PASSWORD)
    spy = counting(passwords, pause=0.05)
    await asyncio.gather(
        passwords.hash("one password here"),
        passwords.verify(stored, PASSWORD),
        passwords.verify(None, PASSWORD),
        passwords.hash("another password"),
    )
    assert spy.most_at_once == 1
    assert threading.main_thread().name not in spy.threads


async def test_a_password_hashed_with_other_parameters_is_hashed_again_when_it_matches() -> None:
    old = await Passwords(PasswordProfile.TEST).hash(PASSWORD)
    today = Passwords(PasswordProfile.DEFAULT)
    checked = await today.verify(old, PASSWORD)
    assert checked.matches and checked.rehashed is not None
    assert extract_parameters(checked.rehashed) == profiles.RFC_9106_LOW_MEMORY
    assert (await today.verify(checked.rehashed, PASSWORD)).rehashed is None
    assert (await today.verify(old, "wrong password here")).rehashed is None
