"""The playbook language: a declarative response plan, validated before it can run."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from pydantic import Field

from schemas.base import Contract, Slug
from schemas.enums import Role, Severity, Tier
from schemas.tasks import TaskPlan
from schemas.yaml_source import SourceInvalid, read_document, validate_document


class Triggers(Contract):
    incident_types: tuple[Slug, ...] = Field(min_length=1)
    min_severity: Severity = Severity.LOW
    auto: bool = Field(default=True, description="Trigger without being asked when this matches")


class Phase(Contract):
    id: Slug
    title: str
    description: str = ""


class TaskTemplate(Contract):
    key: Slug
    title: str = Field(min_length=1, max_length=200)
    role: Role
    phase: Slug | None = None
    instructions: str = ""
    tier: Tier = Tier.COMMAND
    required: bool = True
    depends_on: tuple[Slug, ...] = ()
    acknowledge_within: timedelta = Field(description="ISO 8601 duration after the incident")
    due_within: timedelta = Field(description="ISO 8601 duration after the incident")


class Playbook(Contract):
    id: Slug
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    owner: str = ""
    version_note: str = ""
    triggers: Triggers
    phases: tuple[Phase, ...] = ()
    tasks: tuple[TaskTemplate, ...] = Field(min_length=1)

    def matches(self, incident_type: str, severity: Severity) -> bool:
        return (
            incident_type in self.triggers.incident_types
            and severity.rank >= self.triggers.min_severity.rank
        )

    def plan(self) -> tuple[TaskPlan, ...]:
        return tuple(TaskPlan.model_validate(template.model_dump()) for template in self.tasks)


class PinnedPlaybook(Contract):
    """A playbook together with the exact text it was read from; the hash of that text is the
    version an incident pins when the playbook is triggered."""

    playbook: Playbook
    source: str
    path: str

    @property
    def version(self) -> str:
        return content_version(self.source)


def content_version(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:12]


def cross_field_issues(playbook: Playbook) -> list[tuple[tuple[str | int, ...], str]]:
    """Checks pydantic cannot express field by field; each issue is (field path, message)."""
    issues: list[tuple[tuple[str | int, ...], str]] = []
    keys = [task.key for task in playbook.tasks]
    phases = {phase.id for phase in playbook.phases}
    seen: set[str] = set()
    for index, task in enumerate(playbook.tasks):
        where: tuple[str | int, ...] = ("tasks", index)
        if task.key in seen:
            issues.append(((*where, "key"), f"duplicate task key {task.key!r}"))
        seen.add(task.key)
        for dep_index, dep in enumerate(task.depends_on):
            if dep not in keys:
                issues.append(
                    (
                        (*where, "depends_on", dep_index),
                        f"unknown task key {dep!r}; expected one of: {', '.join(keys)}",
                    )
                )
            elif dep == task.key:
                issues.append(((*where, "depends_on", dep_index), "a task cannot depend on itself"))
        if task.due_within < task.acknowledge_within:
            issues.append(
                ((*where, "due_within"), "due window is shorter than the acknowledge window")
            )
        if task.acknowledge_within <= timedelta(0):
            issues.append(((*where, "acknowledge_within"), "expected a positive duration"))
        if task.phase is not None and task.phase not in phases:
            issues.append(((*where, "phase"), f"unknown phase {task.phase!r}"))
    cycle = _find_cycle({task.key: task.depends_on for task in playbook.tasks})
    if cycle:
        index = keys.index(cycle[0])
        issues.append((("tasks", index, "depends_on"), "dependency cycle: " + " -> ".join(cycle)))
    return issues


def _find_cycle(graph: dict[str, tuple[str, ...]]) -> list[str]:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(node: str) -> list[str]:
        if node in visiting:
            return [*visiting[visiting.index(node) :], node]
        if node in done or node not in graph:
            return []
        visiting.append(node)
        for dep in graph[node]:
            found = visit(dep)
            if found:
                return found
        visiting.pop()
        done.add(node)
        return []

    for start in graph:
        found = visit(start)
        if found:
            return found
    return []


def parse_playbook(raw: bytes, file: str) -> PinnedPlaybook:
    """Validate a playbook file's content; raises SourceInvalid listing every problem found."""
    document = read_document(raw, file)
    playbook = validate_document(document, Playbook)
    issues = cross_field_issues(playbook)
    if issues:
        raise SourceInvalid([document.error(path, message) for path, message in issues])
    return PinnedPlaybook(playbook=playbook, source=raw.decode("utf-8"), path=file)
