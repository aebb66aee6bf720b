"""Each sign-in attempt, appended to the audit stream (services.core.audit)."""

from __future__ import annotations

from schemas.accounts import Account, SignInOutcome, SignInRecorded, username_digest
from schemas.base import utc_now
from schemas.principals import Via
from services.core.audit import record_sign_in
from services.core.logging import get_logger
from services.gateway.console import Console

log = get_logger(__name__)


async def record_attempt(
    console: Console, username: str, account: Account | None, outcome: SignInOutcome
) -> None:
    """Who it was (the account, or the sha256 of what was typed when it named nobody or was
    refused unchecked) and how it went; never an address or a password."""
    known = account is not None and outcome is not SignInOutcome.UNKNOWN
    event = SignInRecorded(
        account=account.id if known and account is not None else None,
        username_sha256=None if known else username_digest(username),
        outcome=outcome,
        via=Via.SESSION,
        at=utc_now(),
    )
    await record_sign_in(console.rt.js, event)
    log.info("sign_in_attempt", outcome=outcome.value)
