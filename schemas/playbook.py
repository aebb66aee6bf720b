"""The playbook language: a declarative response plan, validated before it can run."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

from schemas.base import Contract, Slug
from schemas.enums import Severity
from schemas.tasks import TaskTemplate


class AttributeType(StrEnum):
    TEXT = "text"
    NUMBER = "number"
    BOOLEAN = "boolean"


# The spellings a boolean attribute accepts at `incident log` (any case), and nothing else: a
# mistyped flag must be refused, not read as false.
TRUE_SPELLINGS = ("true", "yes")
FALSE_SPELLINGS = ("false", "no")


def parse_boolean(raw: str) -> bool | None:
    """True or False for an accepted spelling, None for anything else."""
    lowered = raw.strip().lower()
    if lowered in TRUE_SPELLINGS:
        return True
    if lowered in FALSE_SPELLINGS:
        return False
    return None


class AttributeSpec(Contract):
    """An incident attribute a playbook's conditions may read (`--attr KEY=VALUE` at logging)."""

    type: AttributeType = AttributeType.TEXT
    values: tuple[str, ...] = Field(default=(), description="The allowed values, if a closed set")
    description: str = ""


AttributeName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,62}$")]


class Triggers(Contract):
    incident_types: tuple[Slug, ...] = Field(min_length=1)
    min_severity: Severity = Severity.LOW
    auto: bool = Field(default=True, description="Trigger without being asked when this matches")
    attributes: dict[AttributeName, AttributeSpec] = Field(
        default={}, description="Incident attributes the conditions of this playbook may read"
    )


class Phase(Contract):
    id: Slug
    title: str
    description: str = ""
    starts_after: timedelta = Field(
        default=timedelta(0), description="ISO 8601 duration after the incident"
    )


class Playbook(Contract):
    id: Slug
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    owner: str = ""
    version_note: str = Field(
        default="", description="What changed, for people; the version is the content hash"
    )
    triggers: Triggers
    phases: tuple[Phase, ...] = ()
    tasks: tuple[TaskTemplate, ...] = Field(min_length=1)

    def matches(self, incident_type: str, severity: Severity) -> bool:
        return (
            incident_type in self.triggers.incident_types
            and severity.rank >= self.triggers.min_severity.rank
        )

    def phase_offset(self, phase_id: str | None) -> timedelta:
        return next((p.starts_after for p in self.phases if p.id == phase_id), timedelta(0))


class PinnedPlaybook(Contract):
    """A playbook together with the exact text it was read from; the hash of that text is the
    version an incident pins when the playbook is triggered."""

    playbook: Playbook
    source: str
    path: str

    @property
    def version(self) -> str:
        return content_version(self.source)


def declared_for(playbooks: Iterable[Playbook], incident_type: str) -> dict[str, AttributeSpec]:
    """The attributes declared by every playbook for this incident type. Where two declare the
    same name, the first (by playbook id) is the one checked; validation keeps them consistent."""
    declared: dict[str, AttributeSpec] = {}
    for book in sorted(playbooks, key=lambda b: b.id):
        if incident_type in book.triggers.incident_types:
            for name, spec in book.triggers.attributes.items():
                declared.setdefault(name, spec)
    return declared


def content_version(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def playbook_json_schema() -> str:
    schema = Playbook.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Pathways playbook"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
