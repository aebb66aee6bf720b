"""Validating a playbook file: the model's field checks, then the checks across fields and, given
the roster it will run with, the roles and organisations it names — all reported at once with
file, line, column and field."""

from __future__ import annotations

from datetime import timedelta

from schemas.condition_types import Declared, type_problems
from schemas.conditions import ConditionError, names, parse
from schemas.enums import Severity
from schemas.playbook import AttributeType, PinnedPlaybook, Playbook
from schemas.roster import Roster
from schemas.suggest import unknown
from schemas.tasks import Anchor, TaskTemplate
from schemas.yaml_source import SourceInvalid, read_document, validate_document

FieldPath = tuple[str | int, ...]
Issue = tuple[FieldPath, str]


def parse_playbook(raw: bytes, file: str, roster: Roster | None = None) -> PinnedPlaybook:
    """Validate a playbook file's content, and against the roster when one is given (roles are
    the roster's, so without one any well-formed role id passes); raises SourceInvalid listing
    every problem found."""
    document = read_document(raw, file)
    playbook = validate_document(document, Playbook)
    issues = cross_field_issues(playbook)
    if roster is not None:
        issues += roster_reference_issues(playbook, roster)
    if issues:
        errors = [document.error(path, message) for path, message in issues]
        raise SourceInvalid(sorted(errors, key=lambda e: (e.line, e.column)))
    return PinnedPlaybook(playbook=playbook, source=raw.decode("utf-8"), path=file)


def cross_field_issues(playbook: Playbook) -> list[Issue]:
    """Checks pydantic cannot express field by field; each issue is (field path, message)."""
    issues: list[Issue] = []
    keys = [task.key for task in playbook.tasks]
    phases = [phase.id for phase in playbook.phases]
    known = declared_attributes(playbook)
    issues += _duplicates(("phases",), phases, "phase id")
    issues += _duplicates(("tasks",), keys, "task key")
    for index, task in enumerate(playbook.tasks):
        issues += _task_issues(("tasks", index), task, keys, phases, known)
    cycle = _find_cycle({task.key: task.depends_on for task in playbook.tasks})
    if cycle:
        index = keys.index(cycle[0])
        issues.append((("tasks", index, "depends_on"), "dependency cycle: " + " -> ".join(cycle)))
    return issues


def roster_reference_issues(playbook: Playbook, roster: Roster) -> list[Issue]:
    """Roles and organisations the playbook names that the roster does not declare: its tasks
    would go to nobody, whoever is on the roster."""
    issues: list[Issue] = []
    organisations = [o.id for o in roster.organisations]
    for index, task in enumerate(playbook.tasks):
        problem = roster.unknown_role(task.role)
        if problem is not None:
            issues.append((("tasks", index, "role"), problem))
        wanted = task.assignee.organisation
        # Rosters that declare no organisations name them in free text: nothing to check.
        if wanted is not None and organisations and wanted not in organisations:
            issues.append(
                (
                    ("tasks", index, "assignee", "organisation"),
                    unknown("organisation", wanted, organisations),
                )
            )
    return issues


def declared_attributes(playbook: Playbook) -> dict[str, Declared]:
    """What the playbook's conditions may read: its declared attributes and the built-in ones."""
    declared = {
        name: Declared(spec.type, spec.values)
        for name, spec in playbook.triggers.attributes.items()
    }
    declared["severity"] = Declared(AttributeType.TEXT, tuple(s.value for s in Severity))
    declared["incident_type"] = Declared(AttributeType.TEXT, playbook.triggers.incident_types)
    return declared


def _duplicates(where: FieldPath, ids: list[str], what: str) -> list[Issue]:
    seen: set[str] = set()
    issues: list[Issue] = []
    for index, value in enumerate(ids):
        if value in seen:
            issues.append(
                (
                    (*where, index, "key" if what == "task key" else "id"),
                    f"duplicate {what} {value!r}",
                )
            )
        seen.add(value)
    return issues


# A task id's key is at most 63 characters; a follow-up adds `-follow-up-99` to its task's key and
# a later run of the playbook `-r99`, and both must still fit.
TASK_KEY_MAX = 40


def _task_issues(
    where: FieldPath,
    task: TaskTemplate,
    keys: list[str],
    phases: list[str],
    known: dict[str, Declared],
) -> list[Issue]:
    issues: list[Issue] = []
    for dep_index, dep in enumerate(task.depends_on):
        if dep == task.key:
            issues.append(((*where, "depends_on", dep_index), "a task cannot depend on itself"))
        elif dep not in keys:
            issues.append(
                (
                    (*where, "depends_on", dep_index),
                    f"unknown task key {dep!r}; expected one of: {', '.join(keys)}",
                )
            )
    issues += _window_issues(where, task.acknowledge_within, task.due_within)
    if len(task.key) > TASK_KEY_MAX:
        issues.append(
            (
                (*where, "key"),
                f"at most {TASK_KEY_MAX} characters (this one has {len(task.key)}), so that its "
                "follow-ups and later runs get task ids of their own",
            )
        )
    if task.phase is not None and task.phase not in phases:
        expected = ", ".join(phases) or "no phases are declared"
        issues.append(((*where, "phase"), f"unknown phase {task.phase!r}; expected: {expected}"))
    if task.relative_to is Anchor.PHASE and task.phase is None:
        issues.append(((*where, "relative_to"), "relative_to: phase needs the task's `phase`"))
    if task.relative_to is Anchor.PREREQUISITES and not task.depends_on:
        issues.append(((*where, "relative_to"), "relative_to: prerequisites needs `depends_on`"))
    if task.when is not None:
        issues += _condition_issues((*where, "when"), task.when, known)
    if task.assignee.language_from is not None and task.assignee.language_from not in known:
        issues.append(
            (
                (*where, "assignee", "language_from"),
                f"attribute {task.assignee.language_from!r} is not declared in triggers.attributes",
            )
        )
    if task.follow_ups is not None:
        follow = task.follow_ups
        issues += _window_issues(
            (*where, "follow_ups"), follow.acknowledge_within, follow.due_within
        )
        for offset_index, offset in enumerate(follow.after):
            if offset <= timedelta(0):
                issues.append(
                    ((*where, "follow_ups", "after", offset_index), "expected a positive duration")
                )
    return issues


def _window_issues(where: FieldPath, acknowledge: timedelta, due: timedelta) -> list[Issue]:
    issues: list[Issue] = []
    if acknowledge <= timedelta(0):
        issues.append(((*where, "acknowledge_within"), "expected a positive duration"))
    if due < acknowledge:
        issues.append(((*where, "due_within"), "due window is shorter than the acknowledge window"))
    return issues


def _condition_issues(where: FieldPath, source: str, known: dict[str, Declared]) -> list[Issue]:
    try:
        node = parse(source)
    except ConditionError as exc:
        return [(where, f"invalid condition: {exc}")]
    unknown = sorted(names(node) - set(known))
    if unknown:
        declared = ", ".join(sorted(known))
        return [
            (
                where,
                f"condition reads {', '.join(unknown)}, which the triggers cannot supply; "
                f"declare it under triggers.attributes (known: {declared})",
            )
        ]
    return [(where, f"invalid condition: {problem}") for problem in type_problems(node, known)]


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
