"""pathways timeline verify INCIDENT: check the incident's record against its seals.

Reads the stream itself (so, like `admin dead-letters`, it needs JetStream access: the admin
user, or an embedded server) and checks the seals with the record's public key alone: whoever
verifies needs no secret, and trusts no service's answer."""

from __future__ import annotations

import re
from pathlib import Path

import typer
from nats.errors import Error as NatsError
from pydantic import ValidationError

from schemas.base import INCIDENT_ID_PATTERN
from services.cli.client import execute, fail
from services.core.assertions import KeyFileProblem, Verifier
from services.core.broker import connect
from services.core.record_keys import record_verifier
from services.core.record_reader import verify_incident
from services.core.record_seal import Verdict
from services.core.settings import Settings


def verdict_line(incident_id: str, verdict: Verdict) -> str:
    if verdict.problem is not None:
        return f"{incident_id}: {verdict.problem.line()}"
    sealed = verdict.events - verdict.before_sealing
    if sealed == 0:
        return (
            f"{incident_id}: not sealed: {verdict.events} events, all before sealing began "
            f"(nothing to verify), digest {verdict.digest}"
        )
    before = f" ({verdict.before_sealing} before sealing began)" if verdict.before_sealing else ""
    return (
        f"{incident_id}: intact: {verdict.events} events{before}, {_tail(verdict)}, "
        f"digest {verdict.digest}"
    )


def _tail(verdict: Verdict) -> str:
    """How much of the record a periodic seal vouches for: deleting events after the latest one
    (the unpinned tail) breaks no seal, so say how many there are."""
    if verdict.latest_seal is None:
        return f"no periodic seal yet (all {verdict.unpinned} unpinned)"
    return f"{verdict.unpinned} after the latest seal (seq {verdict.latest_seal})"


def _verifier(key_file: Path | None) -> Verifier:
    try:
        settings = Settings(record_public_key_file=key_file) if key_file else Settings()
        return record_verifier(settings)
    except ValidationError as exc:
        fail(f"invalid setting: {exc.errors(include_url=False)[0]['msg']}")
    except (KeyFileProblem, OSError) as exc:
        fail(f"{exc} (the record's public key: --key or PATHWAYS_RECORD_PUBLIC_KEY_FILE)")


async def _verify(nats_url: str, incident_id: str, verifier: Verifier) -> Verdict | str:
    """The verdict, or why the stream could not be read."""
    nc = await connect(nats_url)
    try:
        return await verify_incident(nc.jetstream(), incident_id, verifier)
    except (NatsError, TimeoutError) as exc:
        # The `cli` NATS user may not read streams; verifying needs JetStream access.
        return f"cannot read the events stream ({type(exc).__name__}): run as the admin user"
    finally:
        await nc.close()


def verify_record(nats_url: str, incident_id: str, key_file: Path | None) -> None:
    """Exit 0 with one line when the record is intact, 1 naming the first bad event."""
    if not re.fullmatch(INCIDENT_ID_PATTERN, incident_id):
        fail(f"not an incident id: {incident_id!r} (like INC-7K2M9Q4X)")
    verifier = _verifier(key_file)
    verdict = execute(_verify(nats_url, incident_id, verifier))
    if isinstance(verdict, str):
        fail(verdict)
    if verdict.events == 0:
        fail(f"no events for incident {incident_id}")
    print(verdict_line(incident_id, verdict))
    if not verdict.intact:
        raise typer.Exit(1)
