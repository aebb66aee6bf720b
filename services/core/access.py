"""The access policy: who may do what, and what each reader sees. The only place that decides.

Every handler, the timeline, the notifier and the gateway ask here; none writes a rule of its own.
Pure: it reads a principal, the roster in force and the record in question, and does no I/O.

- **Access roles** come from the roster and the account: whoever holds a role of the command family
  is command staff; whoever holds any other role is a responder; reviewer and admin are granted to
  accounts. An administrator manages accounts and the roster but reads no incident content.
- **Confidential text** by tier: public text goes to whoever may see the task; command-tier text to
  command staff, reviewers, its author and the task's assignee; restricted text to the members of
  the author's team (a partner without a team: their organisation) and to nobody else, command
  staff and administrators included.
- **`--as` on the command line** is an operator acting for a person: accepted only with the example
  roster or in an exercise, and never shown restricted text.
- **An action link** opens one task for one person, and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from schemas.channels import Channel, ChannelKind
from schemas.commands import ErrorCode
from schemas.enums import RoleFamily, TaskStatus, Tier
from schemas.principals import AccessRole, Principal, Via
from schemas.report import Audience
from schemas.roster import Roster
from schemas.tasks import TaskNote, TaskSnapshot
from schemas.views import IncidentSummary
from services.core.errors import Refused

OPERATOR_ONLY_EXAMPLE = (
    "--as works only with the example roster or in an exercise; "
    "sign in as yourself (pathways login) instead"
)


class Action(StrEnum):
    LOG_INCIDENT = "log_incident"
    TRIGGER_PLAYBOOK = "trigger_playbook"
    CANCEL_PLAYBOOK = "cancel_playbook"
    CLOSE_INCIDENT = "close_incident"
    ASSIGN_TASK = "assign_task"
    ACT_ON_TASK = "act_on_task"  # acknowledge, start, complete, decline
    CLAIM_TASK = "claim_task"
    NOTE_TASK = "note_task"
    LOAD_ROSTER = "load_roster"
    RECORD_AVAILABILITY = "record_availability"  # away and back
    LIST_INCIDENTS = "list_incidents"
    READ_INCIDENT = "read_incident"
    LIST_TASKS = "list_tasks"
    READ_TASK = "read_task"
    READ_TIMELINE = "read_timeline"
    READ_ROSTER = "read_roster"
    READ_CHANNELS = "read_channels"  # members' addresses and channel URLs
    READ_INBOX = "read_inbox"
    READ_PLAYBOOKS = "read_playbooks"
    READ_METRICS = "read_metrics"  # aggregates across incidents: no task's text
    MANAGE_ACCOUNTS = "manage_accounts"
    READ_REPORT = "read_report"  # an after-action report, for the target's audience
    RECORD_REVIEW = "record_review"  # findings and corrective actions of an after-action review
    READ_REVIEW = "read_review"


COMMAND_ACTIONS = frozenset(
    {
        Action.LOG_INCIDENT,
        Action.TRIGGER_PLAYBOOK,
        Action.CANCEL_PLAYBOOK,
        Action.CLOSE_INCIDENT,
        Action.ASSIGN_TASK,
    }
)
# What may be done through an action link: the verbs on its own task, and reading it.
LINK_ACTIONS = frozenset({Action.ACT_ON_TASK, Action.READ_TASK})
READS_EVERY_INCIDENT = frozenset({AccessRole.COMMAND, AccessRole.REVIEWER})
# Response metrics are figures, no incident's text: administrators may read them too.
METRICS_READERS = READS_EVERY_INCIDENT | {AccessRole.ADMIN}


@dataclass(frozen=True)
class Reader:
    """A principal resolved against the roster in force."""

    principal: Principal
    roles: frozenset[AccessRole]
    scope: str | None  # `team.<id>` or `org.<id>`: whose restricted text they read
    example_roster: bool
    held_roles: frozenset[str] = field(default=frozenset())
    unknown: str | None = None  # why the principal's person is no roster member, if they are not

    @property
    def person(self) -> str | None:
        return self.principal.person

    @property
    def via(self) -> Via:
        return self.principal.via

    def has(self, role: AccessRole) -> bool:
        return role in self.roles


@dataclass(frozen=True)
class Target:
    """What an action is about, as far as the policy needs to know."""

    task: TaskSnapshot | None = None
    exercise: bool = False
    person: str | None = None  # whose availability or inbox
    tier: Tier | None = None  # of a note being written
    holds_task: bool = False  # the reader holds a task in the incident being read
    audience: Audience | None = None  # of an after-action report


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str = ""
    code: ErrorCode = ErrorCode.FORBIDDEN


ALLOWED = Decision(True)


def scope_of(roster: Roster, person: str | None) -> str | None:
    """Whose restricted text a person reads and writes: their team, else their organisation."""
    member = roster.member(person) if person else None
    if member is None:
        return None
    return f"team.{member.team}" if member.team else f"org.{member.organisation}"


def scope_name(roster: Roster, scope: str) -> str:
    kind, _, ident = scope.partition(".")
    if kind == "team":
        team = next((t for t in roster.teams if t.id == ident), None)
        return team.name if team else ident
    organisation = roster.organisation(ident)
    return organisation.name if organisation else ident


def effective_roles(principal: Principal, roster: Roster) -> frozenset[AccessRole]:
    roles = set(principal.grants)
    member = roster.member(principal.person) if principal.person else None
    if member is not None and member.active:
        families = roster.families_of(member.id)
        if RoleFamily.COMMAND in families:
            roles.add(AccessRole.COMMAND)
        if any(RoleFamily.COMMAND not in _families(roster, r) for r in member.roles):
            roles.add(AccessRole.RESPONDER)
    return frozenset(roles)


def _families(roster: Roster, role_id: str) -> tuple[RoleFamily, ...]:
    role = roster.role(role_id)
    return role.families if role is not None else ()


def reader_of(principal: Principal, roster: Roster) -> Reader:
    member = roster.member(principal.person) if principal.person else None
    return Reader(
        principal=principal,
        roles=effective_roles(principal, roster),
        scope=scope_of(roster, principal.person),
        example_roster=roster.example,
        held_roles=frozenset(member.roles) if member is not None and member.active else frozenset(),
        unknown=roster.unknown_person(principal.person) if principal.person else None,
    )


def _refuse(reason: str, code: ErrorCode = ErrorCode.FORBIDDEN) -> Decision:
    return Decision(False, reason, code)


def _who(reader: Reader) -> str:
    return reader.person or reader.principal.account


def decide(reader: Reader, action: Action, target: Target | None = None) -> Decision:
    target = target or Target()
    if reader.via is Via.OPERATOR and not (reader.example_roster or target.exercise):
        return _refuse(OPERATOR_ONLY_EXAMPLE, ErrorCode.UNAUTHENTICATED)
    if reader.via is Via.LINK:
        return _by_link(reader, action, target)
    if reader.unknown is not None:
        flag = "--as: " if reader.via is Via.OPERATOR else ""
        return _refuse(f"{flag}{reader.unknown}", ErrorCode.INVALID_REQUEST)
    if action in COMMAND_ACTIONS:
        return _needs(reader, AccessRole.COMMAND, action)
    return _RULES[action](reader, target)


_DOING = {
    Action.LOG_INCIDENT: "log an incident",
    Action.TRIGGER_PLAYBOOK: "trigger a playbook",
    Action.CANCEL_PLAYBOOK: "cancel a playbook",
    Action.CLOSE_INCIDENT: "close an incident",
    Action.ASSIGN_TASK: "assign tasks",
    Action.READ_CHANNELS: "read members' addresses and channels",
    Action.MANAGE_ACCOUNTS: "manage accounts",
}
# (who may, what one of them is)
_WHO_MAY = {
    AccessRole.COMMAND: ("command staff", "command staff"),
    AccessRole.ADMIN: ("administrators", "an administrator"),
}


def _needs(reader: Reader, role: AccessRole, action: Action) -> Decision:
    if reader.has(role):
        return ALLOWED
    who_may, one = _WHO_MAY[role]
    return _refuse(f"only {who_may} {_DOING[action]}; {_who(reader)} is not {one}")


def _by_link(reader: Reader, action: Action, target: Target) -> Decision:
    task = target.task
    if action not in LINK_ACTIONS or task is None or task.task_id != reader.principal.task:
        return _refuse("an action link opens its own task and nothing else")
    return ALLOWED


def _act(reader: Reader, target: Target) -> Decision:
    # Only the assignee acts on a task; the task's own rules say so with the details (who holds
    # it, what state it is in), so here it is enough that the reader is a person.
    return ALLOWED if reader.person else _refuse("only a roster member acts on tasks")


def _claim(reader: Reader, target: Target) -> Decision:
    task = target.task
    if task is not None and task.role in reader.held_roles:
        return ALLOWED
    role = task.role if task is not None else "its role"
    return _refuse(f"only holders of {role} may claim it; {_who(reader)} is not one")


def _note(reader: Reader, target: Target) -> Decision:
    task = target.task
    involved = task is not None and (
        reader.person == task.assignee or task.role in reader.held_roles
    )
    if not (involved or reader.has(AccessRole.COMMAND)):
        return _refuse(
            f"{_who(reader)} may not add notes to this task: only its assignee, holders of its "
            "role and command staff may"
        )
    if target.tier is Tier.RESTRICTED and reader.scope is None:
        return _refuse("a restricted note needs a team to keep it for; you belong to none")
    return ALLOWED


def _load_roster(reader: Reader, target: Target) -> Decision:
    if reader.has(AccessRole.COMMAND) or reader.has(AccessRole.ADMIN):
        return ALLOWED
    return _refuse(f"only command staff and administrators load a roster; {_who(reader)} is not")


def _availability(reader: Reader, target: Target) -> Decision:
    if target.person is not None and target.person == reader.person:
        return ALLOWED
    if reader.has(AccessRole.COMMAND) or reader.has(AccessRole.ADMIN):
        return ALLOWED
    return _refuse(
        f"{_who(reader)} may not record {target.person}'s availability: only they themselves, "
        "command staff and administrators may"
    )


def _everything(reader: Reader, target: Target) -> Decision:
    if reader.roles & READS_EVERY_INCIDENT:
        return ALLOWED
    return _refuse("only command staff and reviewers read this; responders see their own tasks")


def _review(reader: Reader, target: Target) -> Decision:
    if reader.roles & READS_EVERY_INCIDENT:
        return ALLOWED
    return _refuse(
        f"only command staff and reviewers record an after-action review; {_who(reader)} is not one"
    )


def _incident(reader: Reader, target: Target) -> Decision:
    if reader.roles & READS_EVERY_INCIDENT or target.holds_task:
        return ALLOWED
    return _refuse(f"{_who(reader)} holds no task in this incident")


def _tasks(reader: Reader, target: Target) -> Decision:
    # Lists are filtered item by item (`may_see_task`); anyone with a role may ask.
    return ALLOWED if reader.roles - {AccessRole.ADMIN} else _refuse(_NO_INCIDENT_CONTENT)


def _task(reader: Reader, target: Target) -> Decision:
    if target.task is not None and may_see_task(reader, target.task):
        return ALLOWED
    return _refuse(f"{_who(reader)} may not see this task", ErrorCode.FORBIDDEN)


def _metrics(reader: Reader, target: Target) -> Decision:
    if reader.roles & METRICS_READERS:
        return ALLOWED
    return _refuse(
        f"only command staff, reviewers and administrators read response metrics; "
        f"{_who(reader)} is none of them"
    )


def _authenticated(reader: Reader, target: Target) -> Decision:
    return ALLOWED


def _channels(reader: Reader, target: Target) -> Decision:
    return _needs(reader, AccessRole.ADMIN, Action.READ_CHANNELS)


def _inbox(reader: Reader, target: Target) -> Decision:
    if target.person is not None and target.person == reader.person:
        return ALLOWED
    return _refuse("an inbox is read only by its owner")


def _accounts(reader: Reader, target: Target) -> Decision:
    return _needs(reader, AccessRole.ADMIN, Action.MANAGE_ACCOUNTS)


# Who may read a report for each audience beyond the public one (whoever reads the timeline).
_REPORT_READERS = {
    Audience.COMMAND: frozenset({AccessRole.COMMAND, AccessRole.REVIEWER, AccessRole.ADMIN}),
    Audience.FULL: frozenset({AccessRole.REVIEWER, AccessRole.ADMIN}),
}
_REPORT_WHO = {
    Audience.COMMAND: "command staff, reviewers and administrators",
    Audience.FULL: "reviewers and administrators",
}


def _report(reader: Reader, target: Target) -> Decision:
    audience = target.audience or Audience.PUBLIC
    # The public report: for whoever reads the timeline, and whoever may read a fuller one.
    wanted = Audience.COMMAND if audience is Audience.PUBLIC else audience
    if reader.roles & _REPORT_READERS[wanted]:
        return ALLOWED
    if audience is Audience.PUBLIC:
        return _everything(reader, target)
    return _refuse(
        f"only {_REPORT_WHO[audience]} read the {audience} report; {_who(reader)} is not one"
    )


_NO_INCIDENT_CONTENT = "administrators read no incident content"
_RULES = {
    Action.ACT_ON_TASK: _act,
    Action.CLAIM_TASK: _claim,
    Action.NOTE_TASK: _note,
    Action.LOAD_ROSTER: _load_roster,
    Action.RECORD_AVAILABILITY: _availability,
    Action.LIST_INCIDENTS: _everything,
    Action.READ_TIMELINE: _everything,
    Action.READ_INCIDENT: _incident,
    Action.LIST_TASKS: _tasks,
    Action.READ_TASK: _task,
    Action.READ_ROSTER: _authenticated,
    Action.READ_PLAYBOOKS: _authenticated,
    Action.READ_METRICS: _metrics,
    Action.READ_CHANNELS: _channels,
    Action.READ_INBOX: _inbox,
    Action.MANAGE_ACCOUNTS: _accounts,
    Action.READ_REPORT: _report,
    Action.RECORD_REVIEW: _review,
    Action.READ_REVIEW: _everything,
}


def require(decision: Decision) -> None:
    if not decision.allowed:
        raise Refused(decision.code, decision.reason)


def check(
    principal: Principal, roster: Roster, action: Action, target: Target | None = None
) -> Reader:
    """The reader, if the policy lets them do `action`; Refused (with the reason) if not."""
    reader = reader_of(principal, roster)
    require(decide(reader, action, target))
    return reader


def may_see_task(reader: Reader, task: TaskSnapshot) -> bool:
    if reader.via is Via.LINK:
        return task.task_id == reader.principal.task
    if reader.roles & READS_EVERY_INCIDENT:
        return True
    person = reader.person
    if person is None:
        return False
    if person == task.assignee or person in task.declined_by:
        return True
    return task.status is TaskStatus.UNASSIGNED and task.role in reader.held_roles


# ---- what each reader sees of confidential text ---------------------------------------------


def may_read(
    reader: Reader,
    roster: Roster,
    tier: Tier,
    author: str | None,
    assignee: str | None,
    sealed_for: str | None = None,
) -> bool:
    """Whether the reader may read a text. Restricted text is for one scope: the one it was
    sealed for (`sealed_for`), else (older, plain text) its author's."""
    if tier is Tier.PUBLIC:
        return True
    if tier is Tier.COMMAND:
        return bool(reader.roles & READS_EVERY_INCIDENT) or (
            reader.person is not None and reader.person in (author, assignee)
        )
    if reader.via is Via.OPERATOR:
        return False  # someone typing `--as` is not the person they name
    scope = sealed_for or scope_of(roster, author)
    return scope is not None and reader.scope == scope


def withheld(roster: Roster, author: str | None, sealed_for: str | None = None) -> str:
    """What a reader who may not read a restricted text sees in its place."""
    scope = sealed_for or scope_of(roster, author)
    if scope is None:
        return "[restricted]"
    return f"[restricted: visible to {scope_name(roster, scope)} only]"


def task_view(reader: Reader, roster: Roster, task: TaskSnapshot) -> TaskSnapshot:
    """The task as this reader may see it: notes they may not read are replaced by a marker.
    A reader who may read a sealed note gets it sealed, for whoever holds its key to open
    (services.core.confidential.open_view)."""
    update: dict[str, object] = {}
    # A completion note is written by whoever completed the task: its assignee at the time.
    sealed_for = task.note_sealed.scope if task.note_sealed else None
    has_note = bool(task.note) or sealed_for is not None
    if has_note and not may_read(
        reader, roster, task.tier, task.assignee, task.assignee, sealed_for
    ):
        restricted = task.tier is Tier.RESTRICTED
        update["note"] = withheld(roster, task.assignee, sealed_for) if restricted else None
        update["note_sealed"] = None
    notes = tuple(_note_view(reader, roster, task, n) for n in task.notes)
    if notes != task.notes:
        update["notes"] = tuple(n for n in notes if n is not None)
    return task.model_copy(update=update) if update else task


def _note_view(
    reader: Reader, roster: Roster, task: TaskSnapshot, note: TaskNote
) -> TaskNote | None:
    sealed_for = note.sealed.scope if note.sealed else None
    if may_read(reader, roster, note.tier, note.author, task.assignee, sealed_for):
        return note
    if note.tier is Tier.RESTRICTED:
        # That a confidential note exists is part of the record; its words are not.
        marker = withheld(roster, note.author, sealed_for)
        return note.model_copy(update={"text": marker, "sealed": None})
    return None


def without_channels(roster: Roster) -> Roster:
    """The roster with members' addresses and channel URLs left out (everyone keeps the inbox):
    Apprise URLs and webhook addresses can hold tokens."""
    inbox = (Channel(kind=ChannelKind.INBOX),)
    members = tuple(m.model_copy(update={"channels": inbox, "email": None}) for m in roster.members)
    return roster.model_copy(update={"members": members})


def incident_view(reader: Reader, summary: IncidentSummary) -> IncidentSummary:
    """Responders see what the incident is, not who was involved nor its attributes."""
    if reader.roles & READS_EVERY_INCIDENT:
        return summary
    return summary.model_copy(
        update={
            "involved": (),
            "attributes": {},
            "close_reason": None,
            "playbook_cancel_reason": None,
        }
    )


# What each audience of a report reads of the record, as a reader: nobody's person, in no team,
# so command-tier text is read only with the roles that read every incident, and restricted text
# by no audience at all (it keeps the marker that says it exists).
_AUDIENCE_ROLES = {
    Audience.PUBLIC: frozenset[AccessRole](),
    Audience.COMMAND: frozenset({AccessRole.COMMAND}),
    Audience.FULL: frozenset({AccessRole.REVIEWER}),
}
# The tiers of the tasks each audience sees.
AUDIENCE_TIERS = {
    Audience.PUBLIC: frozenset({Tier.PUBLIC}),
    Audience.COMMAND: frozenset({Tier.PUBLIC, Tier.COMMAND}),
    Audience.FULL: frozenset({Tier.PUBLIC, Tier.COMMAND, Tier.RESTRICTED}),
}

# The audiences whose report names people. The public one does not: its timeline (whose entries
# name who acted, and quote them) is left out, and the incident says the agency logged it. A
# report read at a community meeting must not expose a victim advocate, or an officer in peer
# support and the colleague who supports them.
AUDIENCES_NAMING_PEOPLE = frozenset({Audience.COMMAND, Audience.FULL})
AGENCY = "the agency"


def report_incident_view(
    reader: Reader, audience: Audience, summary: IncidentSummary
) -> IncidentSummary:
    """The incident as a report for `audience` shows it (`reader` is its `audience_reader`)."""
    seen = incident_view(reader, summary)
    if audience in AUDIENCES_NAMING_PEOPLE:
        return seen
    return seen.model_copy(
        update={
            "logged_by": AGENCY,
            "closed_by": AGENCY if seen.closed_by else None,
            "playbook_cancelled_by": AGENCY if seen.playbook_cancelled_by else None,
        }
    )


def audience_reader(principal: Principal, audience: Audience) -> Reader:
    """The reader a report for `audience` is written for, whoever asked for it."""
    return Reader(
        principal=principal.model_copy(update={"person": None, "grants": frozenset()}),
        roles=_AUDIENCE_ROLES[audience],
        scope=None,
        example_roster=False,
    )
