"""Which roster `pathways roster show` and `roster who` describe: the one in force on the
server when one answers, else (or with `--file`) a roster file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from schemas import subjects
from schemas.availability import AwayPeriod
from schemas.roster import Roster
from schemas.roster_commands import GetRoster
from schemas.roster_versions import RosterVersion, read_roster, roster_version
from schemas.yaml_source import SourceInvalid
from services.cli.client import Refusal, errors, fail, request
from services.cli.http_api import ApiRefusal
from services.cli.identity import NoOperatorKey
from services.cli.safe import terminal_safe
from services.core import bundled, loop
from services.core.broker import InvalidNatsUrl, NatsUnreachable
from services.core.library import load_roster
from services.core.rpc import ServiceUnavailable
from services.core.settings import Settings


@dataclass(frozen=True)
class ShownRoster:
    roster: Roster
    file: str  # the file it was read from, or the one it was loaded from
    version: str
    live: bool  # the roster in force on the server
    loaded: RosterVersion | None = None  # who put it in force and when (None: a file)
    away: tuple[AwayPeriod, ...] = ()


def from_file(path: Path | None) -> ShownRoster:
    file = bundled.roster_file(path)
    try:
        roster = load_roster(file)
    except SourceInvalid as exc:
        fail(f"{file}: {len(exc.errors)} problem(s); see: pathways roster validate {file}")
    return ShownRoster(roster, str(file), roster_version(roster), live=False)


async def from_server(url: str) -> ShownRoster:
    reply = await request(url, subjects.QRY_ROSTER_GET, GetRoster())
    assert isinstance(reply.data, dict)
    data = reply.data
    roster = read_roster(json.dumps(data["roster"]).encode())
    loaded = RosterVersion.model_validate(data["loaded"]) if data.get("loaded") else None
    away = tuple(AwayPeriod.model_validate(p) for p in data.get("away", []))
    file = loaded.source if loaded else str(data.get("file", "the server's roster file"))
    return ShownRoster(roster, file, str(data["version"]), live=True, loaded=loaded, away=away)


def shown_roster(file: Path | None, url: str) -> ShownRoster:
    """The roster asked for: `file`, else the server's, else (saying why) the local file."""
    if file is not None:
        return from_file(file)
    try:
        return loop.run(from_server(url))
    except InvalidNatsUrl as exc:
        fail(str(exc))
    except (NatsUnreachable, ServiceUnavailable, Refusal, ApiRefusal, NoOperatorKey) as exc:
        local = bundled.roster_file(_configured_roster())
        errors.print(
            terminal_safe(f"note: {exc}; showing the roster file {local} instead"), markup=False
        )
        return from_file(local)


def _configured_roster() -> Path | None:
    """The roster file `pathways up` would be given (PATHWAYS_ROSTER), if any."""
    try:
        return Settings().roster
    except ValidationError:
        return None
