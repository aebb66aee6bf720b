"""Password hashing with argon2id.

A hash or a verify costs about 190 ms of CPU and 64 MiB with RFC 9106's low-memory profile, so
each runs in a thread, one at a time per process: a burst of sign-ins queues instead of taking
every core and a few hundred megabytes. Checking a username nobody has still verifies against a
dummy hash, so the time taken does not say whether the account exists.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from argon2 import Parameters, PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from services.core.settings import PasswordProfile

T = TypeVar("T")

# PATHWAYS_PASSWORD_PROFILE picks one (Settings.password_profile).
PARAMETERS: dict[PasswordProfile, Parameters] = {
    PasswordProfile.DEFAULT: profiles.RFC_9106_LOW_MEMORY,
    PasswordProfile.TEST: profiles.CHEAPEST,
}


@dataclass(frozen=True)
class Checked:
    matches: bool
    # The password hashed again with today's parameters, when it matched a hash made with
    # others: store it in place of the old one.
    rehashed: str | None = None


class Passwords:
    def __init__(self, profile: PasswordProfile = PasswordProfile.DEFAULT) -> None:
        self.profile = profile
        self._hasher = PasswordHasher.from_parameters(PARAMETERS[profile])
        self._one_at_a_time = asyncio.Semaphore(1)
        self._dummy: str | None = None

    async def _run(self, work: Callable[..., T], *args: str) -> T:
        async with self._one_at_a_time:
            return await asyncio.to_thread(work, *args)

    async def hash(self, password: str) -> str:
        return await self._run(self._hasher.hash, password)

    async def verify(self, stored: str | None, password: str) -> Checked:
        """Whether `password` matches `stored`. With nothing stored (no such account, or one
        without a password) it never matches, at the cost of a real verify all the same."""
        dummy = await self._dummy_hash()
        matched = await self._run(self._matches, stored or dummy, password)
        if stored is None or not matched:
            return Checked(matches=False)
        if self._hasher.check_needs_rehash(stored):
            return Checked(matches=True, rehashed=await self.hash(password))
        return Checked(matches=True)

    def _matches(self, stored: str, password: str) -> bool:
        try:
            return self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False

    async def _dummy_hash(self) -> str:
        """Made on the first verify of any kind, so its one-off cost marks no account."""
        if self._dummy is None:
            self._dummy = await self.hash(secrets.token_urlsafe(24))
        return self._dummy
