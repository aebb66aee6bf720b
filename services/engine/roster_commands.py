"""Handlers of the live roster: put a version in force, record someone away, read the roster in
force. The roster bucket is the engine's to write (deploy/nats/accounts.conf); the command line
and the web console send these requests like any other."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from schemas.availability import AwayPeriod, AwayRecords, still_relevant
from schemas.base import utc_now
from schemas.commands import ErrorCode, Reply
from schemas.principals import Principal
from schemas.replies import BackRecorded, RosterLoaded, RosterReply
from schemas.roster import Roster, RosterInconsistent
from schemas.roster_commands import EndAway, GetRoster, LoadRoster, RecordAway
from schemas.roster_versions import RosterVersion, canonical_json
from services.core import access, bundled
from services.core.access import Action, Target
from services.core.errors import Refused
from services.core.library import undeclared_roles
from services.core.live_roster import roster_for
from services.core.logging import get_logger
from services.core.roster_store import (
    AwayChangedTooFast,
    change_away,
    put_current,
    read_away,
    read_current,
    store_version,
)
from services.core.rpc import ok
from services.core.runtime import Runtime

log = get_logger(__name__)


def _validated(raw: dict[str, Any]) -> Roster:
    try:
        return Roster.model_validate(raw)
    except RosterInconsistent as exc:
        problems = [f"{'.'.join(map(str, path))}: {message}" for path, message in exc.issues]
    except ValidationError as exc:
        problems = [
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors(include_url=False)
        ]
    shown = "; ".join(problems[:5]) + ("; ..." if len(problems) > 5 else "")
    raise Refused(ErrorCode.INVALID_REQUEST, f"roster refused: {shown}")


async def load_roster(rt: Runtime, command: LoadRoster, principal: Principal) -> Reply:
    roster = _validated(command.roster)
    before = await read_current(rt.rosters)
    in_force = await roster_for(rt, before.version) if before else rt.roster
    _may_load(principal, in_force, roster)
    missing = undeclared_roles(rt.library.values(), roster)
    if missing:
        needed = "; ".join(f"{role} ({', '.join(books)})" for role, books in missing.items())
        raise Refused(
            ErrorCode.INVALID_REQUEST,
            f"roster refused: the playbooks give tasks to roles it does not declare: {needed}",
        )
    version = await store_version(rt.rosters, roster)
    summary = RosterLoaded(
        version=version, previous=before.version if before else rt.roster_version
    )
    if before is not None and before.version == version:
        return ok(summary, changed=False)
    record = RosterVersion(
        version=version, loaded_by=command.actor, loaded_at=utc_now(), source=command.source
    )
    await put_current(rt.rosters, record)
    log.info("roster_loaded", version=version, previous=summary.previous)
    return ok(summary)


def _with_period(records: AwayRecords, period: AwayPeriod, now: datetime) -> AwayRecords | None:
    kept = still_relevant(records.periods, now)
    same = (period.person, period.starts, period.until)
    if any((p.person, p.starts, p.until) == same for p in kept):
        return None  # recorded already: a retry
    return AwayRecords(periods=(*kept, period))


def _without_current(records: AwayRecords, person: str, now: datetime) -> AwayRecords | None:
    kept = still_relevant(records.periods, now)
    left = tuple(p for p in kept if not (p.person == person and p.covers(now)))
    return None if len(left) == len(kept) else AwayRecords(periods=left)


def _may_load(principal: Principal, in_force: Roster, roster: Roster) -> None:
    """Command staff or an administrator of the roster in force; or command staff of the roster
    being loaded, so an agency can replace the example roster with its own (whether `--as` may
    be used is still up to the roster in force)."""
    reader = access.reader_of(principal, in_force)
    decision = access.decide(reader, Action.LOAD_ROSTER)
    if not decision.allowed and decision.code is ErrorCode.FORBIDDEN:
        newcomer = access.reader_of(principal, roster)
        decision = access.decide(
            replace(newcomer, example_roster=reader.example_roster), Action.LOAD_ROSTER
        )
    access.require(decision)


async def record_away(rt: Runtime, command: RecordAway, principal: Principal) -> Reply:
    _may_record(rt.roster, principal, command.person)
    now = utc_now()
    if command.until <= now:
        raise Refused(ErrorCode.INVALID_REQUEST, "--until has passed already; nothing to record")
    period = AwayPeriod(
        person=command.person,
        starts=command.starts,
        until=command.until,
        recorded_by=command.actor,
        recorded_at=now,
    )
    changed = await _change_away(rt, lambda r: _with_period(r, period, now))
    if changed:
        log.info("roster_away_recorded", starts=period.starts, until=period.until)
    return ok(period, changed=changed)


async def end_away(rt: Runtime, command: EndAway, principal: Principal) -> Reply:
    """`pathways roster back`: the away period the person is in now ends now."""
    _may_record(rt.roster, principal, command.person)
    now = utc_now()
    changed = await _change_away(rt, lambda r: _without_current(r, command.person, now))
    if changed:
        log.info("roster_away_ended")
    return ok(BackRecorded(id=command.person, back_at=now), changed=changed)


def _may_record(roster: Roster, principal: Principal, person: str) -> None:
    """`person` is on the roster, and the principal is they themselves or command staff."""
    access.check(principal, roster, Action.RECORD_AVAILABILITY, Target(person=person))
    problem = roster.unknown_person(person)
    if problem is not None:
        raise Refused(ErrorCode.INVALID_REQUEST, problem)


async def _change_away(rt: Runtime, change: Callable[[AwayRecords], AwayRecords | None]) -> bool:
    """Whether the away periods changed; a refusal if they kept changing under the request."""
    try:
        _, changed = await change_away(rt.rosters, change)
    except AwayChangedTooFast as exc:
        raise Refused(ErrorCode.CONFLICT, str(exc)) from None
    return changed


async def get_roster(rt: Runtime, query: GetRoster, principal: Principal) -> Reply:
    """Read from the bucket rather than this process's copy, which trails a load by the time
    the watch takes to deliver it. Members' addresses and channels are for administrators."""
    reader = access.check(principal, rt.roster, Action.READ_ROSTER)
    current = await read_current(rt.rosters)
    roster = await roster_for(rt, current.version) if current else rt.roster
    if not access.decide(reader, Action.READ_CHANNELS).allowed:
        roster = access.without_channels(roster)
    away = still_relevant((await read_away(rt.rosters)).periods, utc_now())
    shown = RosterReply(
        version=current.version if current else rt.roster_version,
        loaded=current,
        file=str(bundled.roster_file(rt.settings.roster)),
        roster=_roster_json(roster),
        away=list(away),
    )
    return ok(shown, changed=False)


def _roster_json(roster: Roster) -> dict[str, Any]:
    shown: dict[str, Any] = json.loads(canonical_json(roster))
    return shown
