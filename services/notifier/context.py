"""What the notifier's handlers share, wired once when the service is built."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from nats.js.kv import KeyValue

from schemas import subjects
from schemas.base import split_task_id
from schemas.events import IncidentLogged, TaskEvent
from schemas.tasks import TaskSnapshot
from services.core.runtime import Runtime
from services.notifier.channels.email import SmtpServer
from services.notifier.channels.smtp_pool import SmtpConnections
from services.notifier.secrets import read_secrets
from services.notifier.settings import NotifierSettings, NotifierSettingsInvalid

# Incidents kept in memory; what is read of one never changes once it is logged.
INCIDENT_CACHE = 4096


@dataclass(frozen=True)
class IncidentFacts:
    """What the notifier needs of an incident: its type (in messages) and, for an exercise,
    how its windows are scaled (channel delays are scaled alike)."""

    incident_type: str
    time_scale: float = 1.0


def smtp_server(settings: NotifierSettings) -> SmtpServer | None:
    if settings.smtp_url is None:
        return None
    try:
        return SmtpServer.from_url(settings.smtp_url.get_secret_value())
    except ValueError as exc:
        raise NotifierSettingsInvalid(f"PATHWAYS_SMTP_URL: {exc}") from None


@dataclass
class Notifier:
    rt: Runtime
    settings: NotifierSettings
    secrets: Mapping[str, str]
    smtp: SmtpServer | None
    # Kept open and reused (services.notifier.channels.smtp_pool); left to close at exit.
    mail: SmtpConnections | None = None
    _incidents: dict[str, IncidentFacts] = field(default_factory=dict)
    _inbox: KeyValue | None = None

    @classmethod
    def from_runtime(cls, rt: Runtime, settings: NotifierSettings) -> Notifier:
        smtp = smtp_server(settings)
        mail = SmtpConnections(smtp) if smtp is not None else None
        return cls(rt, settings, read_secrets(rt.roster, settings), smtp, mail)

    @property
    def email_enabled(self) -> bool:
        return self.smtp is not None

    @property
    def retry_delays(self) -> tuple[float, ...]:
        return self.rt.settings.retry_delays

    async def inbox(self) -> KeyValue:
        if self._inbox is None:
            self._inbox = await self.rt.js.key_value(subjects.INBOX_BUCKET)
        return self._inbox

    async def incident(self, incident_id: str) -> IncidentFacts:
        """Read from the stream's incident.logged (always there before any task of it), once."""
        known = self._incidents.get(incident_id)
        if known is not None:
            return known
        found = await self.rt.store.last_of(subjects.incident_logged(incident_id), IncidentLogged)
        if found is None:
            raise LookupError(f"no incident.logged for {incident_id} yet")
        if len(self._incidents) >= INCIDENT_CACHE:
            self._incidents.clear()
        facts = IncidentFacts(found.event.incident_type, found.event.time_scale)
        self._incidents[incident_id] = facts
        return facts

    async def task(self, task_id: str) -> TaskSnapshot | None:
        """The task as it stands now: its last event carries all of it."""
        incident_id, key = split_task_id(task_id)
        found = await self.rt.store.last(subjects.task_filter(incident_id, key))
        if found is None or not isinstance(found.event, TaskEvent):
            return None
        return found.event.task
