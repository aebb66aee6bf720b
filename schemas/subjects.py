"""Every subject, stream and bucket name, in one place. Nothing else spells a subject inline.

Events of one incident share the prefix `pw.evt.<incident>.`, so its whole history replays with
one filter; a task's events share `pw.evt.<incident>.task.<key>.`, which is also the filter its
optimistic-concurrency check runs on.
"""

from __future__ import annotations

from datetime import timedelta

from schemas.base import Contract

EVENTS_STREAM = "PATHWAYS_EVENTS"
EVENTS_ALL = "pw.evt.>"

# Timers live in a stream of their own: allowing message schedules on a stream also allows
# rollup headers, and the events stream must never accept one. A pending schedule sits on
# pw.sched.<incident>.<kind>.<key>; when it comes due the server publishes its body to
# pw.timer.<incident>.<kind>.<key> in the same stream, where the engine picks it up.
TIMERS_STREAM = "PATHWAYS_TIMERS"
SCHEDULES_ALL = "pw.sched.>"
TIMERS_FIRED = "pw.timer.>"

# Reactions that failed every delivery (or can never succeed) land here, to be listed and
# replayed by an operator (schemas/deadletters.py): each dead letter on a subject of its own,
# pw.dlq.letter.<consumer>.<id>, and replay requests on pw.dlq.retry.<consumer>.<id>.
DEAD_LETTERS_STREAM = "PATHWAYS_DEAD_LETTERS"
DEAD_LETTERS_ALL = "pw.dlq.>"
LETTERS_ALL = "pw.dlq.letter.>"

TASKS_BUCKET = "pw_tasks"
INCIDENTS_BUCKET = "pw_incidents"
PLAYBOOKS_BUCKET = "pw_playbooks"
# Keys only, ordered the way lists are read: incident.<newest-first time>.<incident> and
# assignee.<person>.<newest-first time>.<incident>.<task key>. Maintained by the projector.
INDEX_BUCKET = "pw_index"
# Response metrics (schemas/metrics.py): a record per task, keyed by task id, and each
# incident's follow-up plan, keyed by incident id. Maintained by the projector.
METRICS_BUCKET = "pw_metrics"
# Every person's in-app notices, <person>.<newest-first time>.<notice token>: written by the
# notifier (services/notifier/inbox_keys.py spells the keys).
INBOX_BUCKET = "pw_inbox"
# The live roster (schemas/roster_versions.py): `current` names the version in force (its
# history is who loaded what, when), `version.<hash>` holds each version loaded, `away` the
# away periods. Written by the engine on `pathways roster load`, `roster away` and `back`.
ROSTERS_BUCKET = "pw_rosters"
# Accounts and their API tokens (services/core/account_keys.py spells the keys): `acct.<user>`,
# `token.<token id>`, and `owner.<user>.<token id>`, which lists an account's tokens.
ACCOUNTS_BUCKET = "pw_accounts"
# Console sign-ins, failed sign-in counters, and the answers to HTTP requests sent with an
# idempotency key: each kept only as long as it can matter.
SESSIONS_BUCKET = "pw_sessions"
THROTTLE_BUCKET = "pw_throttle"
IDEMPOTENCY_BUCKET = "pw_idempotency"

# Who signed in, or tried to (schemas/accounts.py:SignInRecorded), on
# pw.audit.signin.<outcome>; kept for 400 days.
AUDIT_STREAM = "PATHWAYS_AUDIT"
AUDIT_ALL = "pw.audit.>"

# Commands (request-reply, served by queue groups so replicas share the load).
CMD_INCIDENT_LOG = "pw.cmd.incident.log"
CMD_PLAYBOOK_TRIGGER = "pw.cmd.playbook.trigger"
CMD_TASK_ACT = "pw.cmd.task.act"
CMD_INCIDENT_CLOSE = "pw.cmd.incident.close"
CMD_PLAYBOOK_CANCEL = "pw.cmd.playbook.cancel"
CMD_TASK_ASSIGN = "pw.cmd.task.assign"
CMD_TASK_CLAIM = "pw.cmd.task.claim"
CMD_TASK_NOTE = "pw.cmd.task.note"
CMD_ROSTER_LOAD = "pw.cmd.roster.load"
CMD_ROSTER_AWAY = "pw.cmd.roster.away"
CMD_ROSTER_BACK = "pw.cmd.roster.back"
CMD_REVIEW_FINDING = "pw.cmd.review.finding"
CMD_REVIEW_ACTION = "pw.cmd.review.action"

# Queries (request-reply, read-only).
QRY_INCIDENT_GET = "pw.qry.incident.get"
QRY_INCIDENT_LIST = "pw.qry.incident.list"
QRY_TASK_LIST = "pw.qry.task.list"
QRY_TASK_GET = "pw.qry.task.get"
QRY_TIMELINE = "pw.qry.timeline"
QRY_REVIEW_REPORT = "pw.qry.review.report"
QRY_PLAYBOOK_LIST = "pw.qry.playbook.list"
QRY_PLAYBOOK_GET = "pw.qry.playbook.get"
QRY_INBOX = "pw.qry.inbox"
QRY_ROSTER_GET = "pw.qry.roster.get"
QRY_REVIEW_METRICS = "pw.qry.review.metrics"
QRY_REVIEW_FINDINGS = "pw.qry.review.findings"
QRY_REVIEW_ACTIONS = "pw.qry.review.actions"

# Filters the engine reacts to.
ON_INCIDENT_LOGGED = "pw.evt.*.incident.logged"
ON_PLAYBOOK_TRIGGERED = "pw.evt.*.playbook.triggered"
ON_TASK_COMPLETED = "pw.evt.*.task.*.completed"
ON_TASK_DECLINED = "pw.evt.*.task.*.declined"
ON_FOLLOW_UP_DUE = "pw.evt.*.followup.*.due"
ON_INCIDENT_CLOSED = "pw.evt.*.incident.closed"
ON_PLAYBOOK_CANCELLED = "pw.evt.*.playbook.cancelled"
ALL_CLOSED = "pw.evt.*.incident.closed"
ON_FOLLOW_UP_TIMER = "pw.timer.*.followup.*"
ON_TASK_EVENTS = "pw.evt.*.task.*.*"
ON_DEADLINE_TIMER = "pw.timer.*.deadline.*.*"

# Every event of every incident (for the periodic seals: each one puts the incident's seal off),
# and the seals coming due.
ON_ANY_EVENT = EVENTS_ALL
ON_SEAL_TIMER = "pw.timer.seal.*"

# Filters the notifier reacts to: every task event (it picks those that tell someone something),
# failed deliveries (the role's coordinators are told), and its own delayed sends and retries.
ON_TASK_EVENTS = "pw.evt.*.task.*.*"
ON_NOTICE_FAILED = "pw.evt.*.notice.*.*.failed"
ON_NOTICE_TIMER = "pw.timer.*.notice.>"

# A new roster version put in force: the `current` key of the roster bucket, whose stream one
# engine replica consumes to offer unassigned tasks again.
ROSTERS_STREAM = f"KV_{ROSTERS_BUCKET}"
ON_ROSTER_LOADED = f"$KV.{ROSTERS_BUCKET}.current"
ON_AWAY_CHANGED = f"$KV.{ROSTERS_BUCKET}.away"

# Every playbook run and every completed response, across incidents (the reconciler's scan).
ALL_RUNS = "pw.evt.*.playbook.*"
ALL_RESPONSES_COMPLETED = "pw.evt.*.response.completed"

# The reconciler's own repeating schedule, and where it fires; one engine replica takes each.
RECONCILE_SCHEDULE = "pw.sched.reconcile"
RECONCILE_TICK = "pw.timer.reconcile"


def sign_in_audit(outcome: str) -> str:
    return f"pw.audit.signin.{outcome}"


def dead_letter(consumer: str, letter_id: str) -> str:
    return f"pw.dlq.letter.{consumer}.{letter_id}"


def dead_letter_by_id(letter_id: str) -> str:
    """The dead letter with this id, whichever consumer it belongs to."""
    return f"pw.dlq.letter.*.{letter_id}"


def replay_request(consumer: str, letter_id: str) -> str:
    return f"pw.dlq.retry.{consumer}.{letter_id}"


def replay_requests(consumer: str) -> str:
    """What one consumer's retry consumer reads: replays of its own dead letters."""
    return f"pw.dlq.retry.{consumer}.*"


def incident_events(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.>"


def record_sealed(incident_id: str) -> str:
    """Where an incident's periodic seals go; `record_seals` is the filter each one's append
    expects the previous one on, so removing a seal breaks the next."""
    return f"pw.evt.{incident_id}.record.sealed"


def record_seals(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.record.>"


def seal_schedule(incident_id: str) -> str:
    """The pending periodic seal of an incident, replaced at each of its events. Not under
    `pw.sched.<incident>.`: closing an incident purges those, and its record is sealed still."""
    return f"pw.sched.seal.{incident_id}"


def seal_timer(incident_id: str) -> str:
    return f"pw.timer.seal.{incident_id}"


def incident_logged(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.incident.logged"


def incident_closed(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.incident.closed"


def incident_schedules(incident_id: str) -> str:
    """Every pending schedule of an incident, in the timers stream."""
    return f"pw.sched.{incident_id}.>"


def incident_filter(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.incident.>"


def playbook_triggered(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.playbook.triggered"


def run_in_place(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.playbook.in_place"


def playbook_cancelled(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.playbook.cancelled"


def playbook_filter(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.playbook.>"


def task_event(incident_id: str, key: str, verb: str) -> str:
    return f"pw.evt.{incident_id}.task.{key}.{verb}"


def incident_tasks(incident_id: str) -> str:
    """Every event of every task of an incident: pw.evt.<incident>.task.<key>.<verb>."""
    return f"pw.evt.{incident_id}.task.*.*"


def task_filter(incident_id: str, key: str) -> str:
    return f"pw.evt.{incident_id}.task.{key}.>"


def follow_up_schedule(incident_id: str, key: str) -> str:
    return f"pw.sched.{incident_id}.followup.{key}"


def follow_up_timer(incident_id: str, key: str) -> str:
    """Where the server publishes a follow-up's schedule when it comes due."""
    return f"pw.timer.{incident_id}.followup.{key}"


def incident_follow_up_timers(incident_id: str) -> str:
    """An incident's follow-ups in the timers stream, pending (pw.sched) or fired (pw.timer)."""
    return f"pw.*.{incident_id}.followup.*"


def deadline_schedule(incident_id: str, key: str, token: str) -> str:
    """One reminder or escalation step of a task: `token` is `<assignment>-<kind>-<number>`."""
    return f"pw.sched.{incident_id}.deadline.{key}.{token}"


def deadline_timer(incident_id: str, key: str, token: str) -> str:
    return f"pw.timer.{incident_id}.deadline.{key}.{token}"


def task_deadline_schedules(incident_id: str, key: str) -> str:
    """Every pending reminder and escalation step of one task."""
    return f"pw.sched.{incident_id}.deadline.{key}.*"


def follow_up_due(incident_id: str, key: str) -> str:
    return f"pw.evt.{incident_id}.followup.{key}.due"


def incident_follow_ups_due(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.followup.*.due"


def follow_up_filter(incident_id: str, key: str) -> str:
    return f"pw.evt.{incident_id}.followup.{key}.>"


def finding_added(incident_id: str, finding_id: str) -> str:
    """One finding of the incident's review: one subject each, so a retried request finds its
    finding already there."""
    return f"pw.evt.{incident_id}.review.finding.{finding_id}"


def incident_findings(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.review.finding.*"


def response_completed(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.response.completed"


def response_filter(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.response.>"


def notice_token(notice_id: str) -> str:
    """A notice id as one subject token: its dots spelled `=`, which no notice id holds."""
    return notice_id.replace(".", "=")


def notice_outcome(incident_id: str, notice_id: str, channel_key: str, outcome: str) -> str:
    """Where what came of one notice on one channel is recorded: `sent` or `failed`."""
    return f"pw.evt.{incident_id}.notice.{notice_token(notice_id)}.{channel_key}.{outcome}"


def notice_outcomes(incident_id: str, notice_id: str, channel_key: str) -> str:
    """Every outcome of one notice on one channel: at most one is ever appended."""
    return notice_outcome(incident_id, notice_id, channel_key, "*")


def incident_notices(incident_id: str) -> str:
    return f"pw.evt.{incident_id}.notice.>"


def notice_schedule(incident_id: str, notice_id: str, channel_key: str) -> str:
    """A pending send (a delayed channel or another try), in the timers stream."""
    return f"pw.sched.{incident_id}.notice.{notice_token(notice_id)}.{channel_key}"


def notice_timer(incident_id: str, notice_id: str, channel_key: str) -> str:
    """Where the server publishes a pending send when its time comes."""
    return f"pw.timer.{incident_id}.notice.{notice_token(notice_id)}.{channel_key}"


class StreamSpec(Contract):
    name: str
    subjects: tuple[str, ...]
    duplicate_window: timedelta
    description: str
    max_age: timedelta | None = None  # None: kept for ever


class BucketSpec(Contract):
    name: str
    description: str
    history: int = 1
    ttl: timedelta | None = None  # None: a value stays until it is replaced or deleted


EVENTS = StreamSpec(
    name=EVENTS_STREAM,
    subjects=(EVENTS_ALL,),
    duplicate_window=timedelta(minutes=2),
    description="Every Pathways event, the source of truth for incidents and tasks",
)
TIMERS = StreamSpec(
    name=TIMERS_STREAM,
    subjects=(SCHEDULES_ALL, TIMERS_FIRED),
    duplicate_window=timedelta(minutes=2),
    description="Pending deadlines and follow-ups (NATS scheduled messages), and those that fired",
)
DEAD_LETTERS = StreamSpec(
    name=DEAD_LETTERS_STREAM,
    subjects=(DEAD_LETTERS_ALL,),
    duplicate_window=timedelta(minutes=2),
    description="Reactions that failed every delivery, kept for an operator to replay",
)
AUDIT = StreamSpec(
    name=AUDIT_STREAM,
    subjects=(AUDIT_ALL,),
    duplicate_window=timedelta(minutes=2),
    description="Sign-in attempts and their outcomes, kept for 400 days",
    max_age=timedelta(days=400),
)
BUCKETS = (
    BucketSpec(name=TASKS_BUCKET, description="Projection: the latest snapshot of every task"),
    BucketSpec(name=INCIDENTS_BUCKET, description="Projection: a summary of every incident"),
    BucketSpec(
        name=INDEX_BUCKET, description="Projection: keys that order incidents and tasks for lists"
    ),
    BucketSpec(
        name=METRICS_BUCKET,
        description="Projection: response metrics per task, and each incident's follow-ups",
    ),
    BucketSpec(
        name=PLAYBOOKS_BUCKET,
        description="Every playbook version an engine has loaded, by id and content hash",
    ),
    BucketSpec(name=INBOX_BUCKET, description="Every person's in-app notices, newest first"),
    # 64 (the most a bucket keeps): the history of `current` is the record of roster loads.
    BucketSpec(
        name=ROSTERS_BUCKET,
        description="The live roster: the version in force, every version loaded, away periods",
        history=64,
    ),
    BucketSpec(name=ACCOUNTS_BUCKET, description="Accounts and API tokens (hashes only)"),
    # The longest a console session may last; the gateway also ends idle ones sooner.
    BucketSpec(name=SESSIONS_BUCKET, description="Console sessions", ttl=timedelta(hours=12)),
    # The window failed sign-ins are counted in.
    BucketSpec(
        name=THROTTLE_BUCKET,
        description="Failed sign-ins counted per username and per client",
        ttl=timedelta(minutes=15),
    ),
    BucketSpec(
        name=IDEMPOTENCY_BUCKET,
        description="Requests by idempotency key, so a retried request is not applied twice",
        ttl=timedelta(hours=24),
    ),
)
