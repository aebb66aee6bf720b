"""Signed action links (services.core.links), which notices carry one (services.notifier.notices)
and what a partner's message says of it (services.notifier.render)."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from pydantic import ValidationError

from schemas.enums import TaskStatus, Tier
from schemas.events import TaskCreated
from schemas.roster import Roster
from services.core.links import (
    SALT,
    ActionLinks,
    BadLink,
    ExpiredLink,
    LinkClaim,
    LinkKeyProblem,
    create_link_key,
    installation_links,
    read_link_key,
)
from services.core.settings import Settings
from services.notifier.notices import link_assignment, notices_for
from services.notifier.render import render
from services.notifier.settings import NotifierSettings
from tests.unit.factories import T0, a_task

KEY = bytes(range(32))
CLAIM = LinkClaim("INC-AAAAAAAA.family-contact", "helen.park", 2)


def links(max_age: timedelta = timedelta(days=14), key: bytes = KEY) -> ActionLinks:
    return ActionLinks(key, max_age)


def test_a_link_says_its_task_person_and_assignment_and_nothing_else_passes() -> None:
    token = links().sign(CLAIM)
    assert links().check(token) == CLAIM
    assert links().url("https://pw.example.org/", CLAIM) == f"https://pw.example.org/t/{token}"
    payload, _, signature = token.rpartition(".")
    other = "A" if signature[0] != "A" else "B"
    for altered in (f"{payload}.{other}{signature[1:]}", token[:-3], "", "not-a-link"):
        with pytest.raises(BadLink):
            links().check(altered)
    with pytest.raises(BadLink):  # another installation's key
        links(key=bytes(32)).check(token)
    with pytest.raises(BadLink):  # signed, but not a link's claim
        links().check(URLSafeTimedSerializer(KEY, salt=SALT).dumps({"t": "x", "p": 1}))


class TwentyDaysAgo(TimestampSigner):
    def get_timestamp(self) -> int:
        return int(time.time() - timedelta(days=20).total_seconds())


def test_a_link_older_than_its_lifetime_has_expired() -> None:
    payload = {"t": CLAIM.task_id, "p": CLAIM.person, "a": CLAIM.assignment}
    old = URLSafeTimedSerializer(KEY, salt=SALT, signer=TwentyDaysAgo).dumps(payload)
    with pytest.raises(ExpiredLink):
        links().check(old)
    assert links(max_age=timedelta(days=30)).check(old) == CLAIM
    assert links().expires(T0) == T0 + timedelta(days=14)


def test_the_lifetime_is_a_setting_in_seconds_or_iso_8601(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().link_max_age == timedelta(days=14)
    monkeypatch.setenv("PATHWAYS_LINK_MAX_AGE", "P2D")
    assert Settings().link_max_age == timedelta(days=2)
    monkeypatch.setenv("PATHWAYS_LINK_MAX_AGE", "90")
    assert Settings().link_max_age == timedelta(seconds=90)
    monkeypatch.setenv("PATHWAYS_LINK_MAX_AGE", "0")
    with pytest.raises(ValidationError, match="more than 0 seconds"):
        Settings()


def test_the_key_is_made_once_kept_private_and_checked(tmp_path: Path) -> None:
    path = tmp_path / "secrets" / "links.key"
    create_link_key(path)
    key = read_link_key(path)
    create_link_key(path)  # a second `pathways up` keeps it
    assert read_link_key(path) == key and len(key) == 32
    assert path.stat().st_mode & 0o777 == 0o600
    path.chmod(0o644)
    with pytest.raises(LinkKeyProblem, match="readable by others"):
        read_link_key(path)
    path.chmod(0o600)
    path.write_text("abcd\n")
    with pytest.raises(LinkKeyProblem, match="32 random bytes"):
        read_link_key(path)
    with pytest.raises(LinkKeyProblem, match="no link key"):
        read_link_key(tmp_path / "absent.key")


def test_pathways_up_makes_the_key_and_a_lone_service_uses_what_it_is_given(
    tmp_path: Path,
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert installation_links(settings, create=False) is None  # no key: plain links
    made = installation_links(settings, create=True)
    assert made is not None and (tmp_path / "secrets" / "links.key").exists()
    named = Settings(data_dir=tmp_path, link_key_file=tmp_path / "elsewhere.key")
    with pytest.raises(LinkKeyProblem, match="no link key"):
        installation_links(named, create=True)  # a deployment's key is never made up


ROSTER = Roster.model_validate(
    {
        "agency": "Example",
        "time_zone": "America/Chicago",
        "roles": [
            {"id": "victim_advocate", "title": "Victim advocate", "family": "victim_advocate"},
            {"id": "command_staff", "title": "Command staff", "family": "command"},
        ],
        "organisations": [
            {"id": "ecpd", "name": "ECPD"},
            {"id": "harbor", "name": "Harbor Crisis Center", "partner": True},
        ],
        "members": [
            {"id": "priya.nair", "name": "Priya Nair", "roles": ["victim_advocate"],
             "organisation": "ecpd"},
            {"id": "helen.park", "name": "Dr. Helen Park", "roles": ["victim_advocate"],
             "organisation": "harbor", "time_zone": "America/Denver"},
            {"id": "renee.alvarez", "name": "Renee Alvarez", "roles": ["command_staff"],
             "organisation": "harbor"},
        ],
    }
)  # fmt: skip
SETTINGS = NotifierSettings(public_url="https://pw.example.org/", smtp_url=None)


def assigned_to(person: str, **task: object) -> TaskCreated:
    return TaskCreated(
        event_id="INC-AAAAAAAA.family-contact.created",
        incident_id="INC-AAAAAAAA",
        actor="engine",
        at=T0,
        task=a_task(assignee=person, assignment=3, **task),
    )


def test_only_a_partner_who_holds_the_task_gets_a_link_made_for_them() -> None:
    [partner] = notices_for(assigned_to("helen.park"), ROSTER, SETTINGS, incident_type="ois")
    assert partner.link_assignment == 3
    assert str(partner.link) == "https://pw.example.org/tasks/INC-AAAAAAAA.family-contact"
    [staff] = notices_for(assigned_to("priya.nair"), ROSTER, SETTINGS, incident_type="ois")
    assert staff.link_assignment is None


def test_no_link_for_a_task_its_holder_cannot_act_on() -> None:
    waiting = assigned_to("helen.park", status=TaskStatus.ACKNOWLEDGED)
    assert waiting.task.status is TaskStatus.ACKNOWLEDGED
    member = ROSTER.member("helen.park")
    assert member is not None
    assert link_assignment(waiting.task, member, ROSTER) == 3
    for status in (TaskStatus.COMPLETED, TaskStatus.CANCELLED, TaskStatus.UNASSIGNED):
        task = a_task(assignee="helen.park", assignment=3, status=status)
        assert link_assignment(task, member, ROSTER) is None
    someone_elses = a_task(assignee="priya.nair", assignment=3)
    assert link_assignment(someone_elses, member, ROSTER) is None


def test_a_partners_message_says_the_link_is_theirs_alone_and_until_when() -> None:
    [notice] = notices_for(assigned_to("helen.park"), ROSTER, SETTINGS, incident_type="ois")
    linked = notice.model_copy(update={"link": "https://pw.example.org/t/TOKEN"})
    for tier in (Tier.COMMAND, Tier.RESTRICTED):
        message = render(
            linked.model_copy(update={"restricted": tier is Tier.RESTRICTED}),
            link_until=T0 + timedelta(days=14),
        )
        assert "Open this task: https://pw.example.org/t/TOKEN" in message.text
        assert "This link is for you only" in message.text
        assert "works until" in message.text and "MST" in message.text  # her zone, in December
        assert 'href="https://pw.example.org/t/TOKEN"' in message.html
    plain = render(notice)
    assert "Open it in Pathways: https://pw.example.org/tasks/" in plain.text
    assert "for you only" not in plain.text
    spanish = render(linked.model_copy(update={"language": "es"}), link_until=T0)
    assert "Abra esta tarea: https://pw.example.org/t/TOKEN" in spanish.text
