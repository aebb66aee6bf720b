"""What handlers need at run time, wired once at start-up (the composition root fills it)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from schemas.events import PlaybookTriggered
from schemas.playbook import PinnedPlaybook
from schemas.roster import Roster
from schemas.roster_versions import RosterVersion, roster_version
from schemas.subjects import (
    INCIDENTS_BUCKET,
    INDEX_BUCKET,
    METRICS_BUCKET,
    PLAYBOOKS_BUCKET,
    ROSTERS_BUCKET,
    TASKS_BUCKET,
)
from services.core.assertions import Signer, Verifier
from services.core.eventstore import EventStore
from services.core.keyed_locks import KeyedLocks
from services.core.links import ActionLinks
from services.core.migrate import require_streams
from services.core.settings import Settings
from services.core.singleflight import SingleFlight

RUN_CACHE_SIZE = 4096
# Roster versions that runs pinned, read from the roster bucket; a handful are ever in use.
ROSTER_CACHE_SIZE = 32


class NotAttached(RuntimeError):
    pass


@dataclass
class Runtime:
    settings: Settings
    library: dict[str, PinnedPlaybook]
    roster: Roster
    _nc: Client | None = field(default=None, init=False)
    _js: JetStreamContext | None = field(default=None, init=False)
    _store: EventStore | None = field(default=None, init=False)
    _buckets: dict[str, KeyValue] = field(default_factory=dict, init=False)
    # One fan-out per incident at a time in this process (reactions and the reconciler).
    run_locks: KeyedLocks = field(default_factory=KeyedLocks, init=False)
    # The largest message the server accepts; every reply must fit in it.
    max_payload: int = field(default=1024 * 1024, init=False)
    # Runs read from the stream, by incident and run number; a run never changes once triggered.
    runs: dict[tuple[str, int], PlaybookTriggered] = field(default_factory=dict, init=False)
    # The roster in force is `roster`: the file's until a stored version is found, and then
    # whatever `pathways roster load` puts in force (services.core.live_roster swaps it).
    roster_version: str = field(default="", init=False)
    roster_loaded: RosterVersion | None = field(default=None, init=False)  # None: the file
    pinned_rosters: dict[str, Roster] = field(default_factory=dict, init=False)
    # Incident-level checks many handlers make at once (closed? current run?), by subject.
    shared_reads: SingleFlight[str, object] = field(default_factory=SingleFlight, init=False)
    # Checks who is asking (services.core.assertions); read when a service starts.
    verifier: Verifier | None = field(default=None, init=False)
    # Signs and checks partners' action links (services.core.links); None: no link key, so
    # messages carry the plain address of the task and the gateway opens no links.
    links: ActionLinks | None = field(default=None, init=False)
    # Seals every append (services.core.record_seal); None: this process appends unsealed.
    sealer: Signer | None = field(default=None, init=False)

    def verifying_key(self) -> Verifier | None:
        return self.verifier

    def __post_init__(self) -> None:
        self.roster_version = roster_version(self.roster)

    def use_roster(self, roster: Roster, loaded: RosterVersion | None) -> None:
        """Put a roster in force in this process (its version and roster change together)."""
        self.roster = roster
        self.roster_version = loaded.version if loaded else roster_version(roster)
        self.roster_loaded = loaded
        self.remember_roster(self.roster_version, roster)

    def remember_roster(self, version: str, roster: Roster) -> Roster:
        if len(self.pinned_rosters) >= ROSTER_CACHE_SIZE:
            self.pinned_rosters.clear()
        self.pinned_rosters[version] = roster
        return roster

    def remember_run(self, run: PlaybookTriggered) -> PlaybookTriggered:
        if len(self.runs) >= RUN_CACHE_SIZE:
            self.runs.clear()
        self.runs[(run.incident_id, run.run)] = run
        return run

    async def attach(self, nc: Client) -> None:
        """Bind to a connected client. Changes no stream or bucket: raises StreamsNotSetUp
        unless `pathways migrate` has set them up."""
        js = nc.jetstream()
        await require_streams(js, self.settings.nats_url)
        self._nc = nc
        self._js = js
        self.max_payload = nc.max_payload
        self._store = EventStore(nc, self._js, sealer=self.sealer)
        for name in (
            TASKS_BUCKET,
            INCIDENTS_BUCKET,
            PLAYBOOKS_BUCKET,
            INDEX_BUCKET,
            METRICS_BUCKET,
            ROSTERS_BUCKET,
        ):
            self._buckets[name] = await self._js.key_value(name)
        await self._keep_versions()

    async def _keep_versions(self) -> None:
        """Record every loaded playbook version, so what ran can be shown after the YAML changes."""
        for pinned in self.library.values():
            # Another engine starting at the same time may have recorded it first. nats-py
            # then reads the key back to tell a deleted key from a present one, and on a
            # cluster that read can reach a replica that has not applied it yet: not found.
            with contextlib.suppress(KeyWrongLastSequenceError, KeyNotFoundError):
                await self.playbooks.create(
                    version_key(pinned.playbook.id, pinned.version),
                    pinned.model_dump_json().encode(),
                )

    @property
    def nc(self) -> Client:
        if self._nc is None:
            raise NotAttached("runtime used before attach()")
        return self._nc

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise NotAttached("runtime used before attach()")
        return self._js

    @property
    def attached(self) -> bool:
        return self._store is not None

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise NotAttached("runtime used before attach()")
        return self._store

    @property
    def tasks(self) -> KeyValue:
        return self._buckets[TASKS_BUCKET]

    @property
    def incidents(self) -> KeyValue:
        return self._buckets[INCIDENTS_BUCKET]

    @property
    def index(self) -> KeyValue:
        return self._buckets[INDEX_BUCKET]

    @property
    def metrics(self) -> KeyValue:
        return self._buckets[METRICS_BUCKET]

    @property
    def playbooks(self) -> KeyValue:
        return self._buckets[PLAYBOOKS_BUCKET]

    @property
    def rosters(self) -> KeyValue:
        return self._buckets[ROSTERS_BUCKET]


def version_key(playbook_id: str, version: str) -> str:
    return f"{playbook_id}.{version}"
