"""The report for each audience, built from events with notes of every tier: who may ask for
which audience, and that a planted word of a tier an audience may not read reaches none of its
formats (restricted words reach no audience at all)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from schemas.enums import TaskStatus, Tier
from schemas.events import (
    AnyEvent,
    FindingAdded,
    TaskAcknowledged,
    TaskCompleted,
    TaskCreated,
    TaskDeclined,
    TaskEscalated,
    TaskNoted,
)
from schemas.principals import AccessRole, Principal, Via
from schemas.report import Audience, ReviewReport
from schemas.tasks import TaskNote, TaskSnapshot
from schemas.views import IncidentSummary
from services.core import access
from services.core.access import Action, Target
from services.core.metrics import families_in
from services.core.report_build import build_report
from services.core.report_html import report_html
from services.core.report_text import report_document, report_markdown
from services.timeline.render import Reading, entries
from tests.unit.factories import T0, a_task, an_incident
from tests.unit.test_access_policy import READERS, allowed, roster

M = timedelta(minutes=1)
PUBLIC_WORD, COMMAND_WORD, RESTRICTED_WORD = "PUBLIC-b1e0", "COMMAND-77aa", "RESTRICTED-c3d4"
DECLINE_WORD = "DECLINE-5f5f"


def _task(key: str, tier: Tier, role: str, assignee: str, **changes: object) -> TaskSnapshot:
    return a_task(
        task_id=f"INC-AAAAAAAA.{key}", key=key, title=key, tier=tier, role=role,
        assignee=assignee, assigned_at=T0, acknowledge_window=15 * M, due_window=60 * M,
        assignment=1, **changes,
    )  # fmt: skip


def _event(
    kind: type[AnyEvent], task: TaskSnapshot, minutes: int, actor: str, **more: object
) -> AnyEvent:
    return kind.model_validate(
        {"event_id": f"{task.key}.{minutes}.{kind.__name__}", "incident_id": "INC-AAAAAAAA",
         "actor": actor, "at": T0 + minutes * M, "task": task, **more}
    )  # fmt: skip


def _noted(task: TaskSnapshot, minutes: int, author: str, tier: Tier, text: str) -> AnyEvent:
    note = TaskNote(author=author, at=T0 + minutes * M, tier=tier, text=text)
    return _event(TaskNoted, task.model_copy(update={"notes": (note,)}), minutes, author)


def events() -> list[AnyEvent]:
    statement = _task("statement", Tier.PUBLIC, "public_information", "kim.liu")
    briefing = _task("briefing", Tier.COMMAND, "community_liaison", "dana.reyes")
    defusing = _task("defusing", Tier.RESTRICTED, "peer_support", "aisha.grant")
    done = statement.model_copy(update={"status": TaskStatus.COMPLETED, "note": PUBLIC_WORD})
    return [
        an_incident(exercise=True),
        *(_event(TaskCreated, t, 0, "engine") for t in (statement, briefing, defusing)),
        _event(TaskAcknowledged, statement, 4, "kim.liu"),
        _noted(statement, 5, "renee.alvarez", Tier.COMMAND, COMMAND_WORD),
        _noted(statement, 6, "aisha.grant", Tier.RESTRICTED, RESTRICTED_WORD + "-1"),
        _event(TaskCompleted, done, 30, "kim.liu"),
        _event(
            TaskEscalated, briefing, 15, "engine", deadline="acknowledge", step=1, action="remind"
        ),
        _event(TaskDeclined, briefing, 20, "dana.reyes", reason=DECLINE_WORD),
        _noted(defusing, 8, "aisha.grant", Tier.RESTRICTED, RESTRICTED_WORD + "-2"),
    ]


def report_for(audience: Audience) -> ReviewReport:
    stream = events()
    reader = access.audience_reader(READERS["reviewer"], audience)
    seen = entries([(e, n) for n, e in enumerate(stream, 1)], Reading(reader, roster()))
    incident = IncidentSummary.from_logged(stream[0])  # type: ignore[arg-type]
    families = families_in(roster())
    return build_report(incident, reader, audience, stream, seen, families, T0 + 60 * M)


def rendered(report: ReviewReport) -> dict[str, str]:
    return {
        "html": report_html(report),
        "md": report_markdown(report),
        "json": str(report_document(report)),
    }


@pytest.mark.parametrize("audience", list(Audience))
def test_each_audience_reads_only_its_tiers_and_restricted_words_never(audience: Audience) -> None:
    report = report_for(audience)
    # The public report has no timeline, so none of the words people wrote.
    with_words = audience is not Audience.PUBLIC
    for form, text in rendered(report).items():
        assert (PUBLIC_WORD in text) == with_words, form
        assert (COMMAND_WORD in text) == with_words, form
        assert (DECLINE_WORD in text) == with_words, form
        assert RESTRICTED_WORD not in text, form
        assert ("restricted: visible to Peer Support Team only" in text) == with_words, form
        assert ("defusing" in text) == (audience is Audience.FULL), form
    tiers = {t.tier for t in report.tasks}
    assert tiers == access.AUDIENCE_TIERS[audience]


def test_the_public_report_has_no_figures_by_role_and_counts_what_it_leaves_out() -> None:
    public = report_for(Audience.PUBLIC)
    assert public.by_role == {} and public.by_family and public.by_phase
    # Every entry: the public report has no timeline (its entries name people).
    assert public.entries == ()
    # All eleven but the statement's command-tier note, not the public's to count.
    assert public.entries_withheld == len(report_for(Audience.FULL).entries) - 1 == 10
    assert report_for(Audience.COMMAND).entries_withheld == 2
    assert report_for(Audience.FULL).entries_withheld == 0


def test_the_public_report_names_nobody() -> None:
    """Not the responders, not who logged the incident: only the agency."""
    people = [(m.id, m.name) for m in roster().members]
    report = report_for(Audience.PUBLIC)
    assert report.incident.logged_by == access.AGENCY
    for form, text in rendered(report).items():
        for person, name in people:
            assert person not in text and name not in text, (form, person)
    command = rendered(report_for(Audience.COMMAND))["html"]
    assert "kim.liu" in command  # the same report for command staff names who acted


def test_the_public_report_says_the_improvement_plan_is_elsewhere() -> None:
    """Not "none recorded": the public report leaves the plan out, it does not lack one."""
    elsewhere = "The improvement plan is not part of the public report"
    for form, text in rendered(report_for(Audience.PUBLIC)).items():
        if form != "json":
            assert elsewhere in text and "None recorded yet." not in text, form
    assert "None recorded yet." in rendered(report_for(Audience.COMMAND))["md"]


def test_escalations_are_placed_on_their_task() -> None:
    (briefing,) = [t for t in report_for(Audience.FULL).tasks if t.key == "briefing"]
    assert briefing.escalated_at == (T0 + 15 * M,) and briefing.escalation_steps == 1


REPORT_READERS = {
    Audience.PUBLIC: {"command", "reviewer", "admin"},
    Audience.COMMAND: {"command", "reviewer", "admin"},
    Audience.FULL: {"reviewer", "admin"},
}


@pytest.mark.parametrize("audience", list(Audience))
def test_who_may_ask_for_each_audience(audience: Audience) -> None:
    target = Target(audience=audience)
    readers = {name for name in READERS if allowed(name, Action.READ_REPORT, target)}
    assert readers == REPORT_READERS[audience]
    refused = access.decide(
        access.reader_of(READERS["responder"], roster()), Action.READ_REPORT, target
    )
    assert not refused.allowed and refused.reason


def test_the_audiences_reader_is_nobody_in_no_team_whoever_asked() -> None:
    asker = Principal(
        account="aisha.grant", person="aisha.grant", via=Via.SESSION,
        grants=frozenset({AccessRole.REVIEWER}),
    )  # fmt: skip
    reader = access.audience_reader(asker, Audience.FULL)
    assert reader.person is None and reader.scope is None
    assert not access.may_read(reader, roster(), Tier.RESTRICTED, "aisha.grant", "aisha.grant")


def test_findings_reach_command_staff_and_reviewers_not_the_public() -> None:
    finding = FindingAdded(
        event_id="f-1", incident_id="INC-AAAAAAAA", actor="renee.alvarez", at=T0 + 50 * M,
        finding_id="f-abcd1234", kind="improvement", text="Briefings started late",
        family="community_liaison",
    )  # fmt: skip
    stream = [*events(), finding]
    for audience in Audience:
        reader = access.audience_reader(READERS["reviewer"], audience)
        incident = IncidentSummary.from_logged(stream[0])  # type: ignore[arg-type]
        built = build_report(
            incident, reader, audience, stream, (), families_in(roster()), T0 + 60 * M
        )
        shown = audience is not Audience.PUBLIC
        assert ("Briefings started late" in report_html(built)) == shown, audience
        assert bool(built.findings) == shown and all("recorded_by" not in f for f in built.findings)
