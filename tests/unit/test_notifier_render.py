from __future__ import annotations

from datetime import UTC, datetime

import pytest

from schemas.notifications import NoticeKind
from services.notifier.render import (
    RenderedMessage,
    context_for,
    format_when,
    language_for,
    render,
    single_line,
)
from tests.unit.factories import a_notice

ALL_KINDS = list(NoticeKind)


def parts(message: RenderedMessage) -> list[str]:
    return [message.subject, message.text, message.html]


def test_english_message_names_the_task_and_its_deadlines() -> None:
    message = render(a_notice())
    assert message.subject == "New task: Family contact"
    assert "Hello Priya Nair," in message.text
    assert "Task: Family contact" in message.text
    assert "Incident: INC-AAAAAAAA (officer involved shooting)" in message.text
    assert "Acknowledge by: Saturday 21 November 2026, 04:00 CST" in message.text
    assert "Due by: Sunday 22 November 2026, 02:00 CST" in message.text
    assert "<td>Family contact</td>" in message.html


def test_spanish_message_is_in_spanish() -> None:
    message = render(a_notice(language="es"))
    assert message.subject == "Nueva tarea: Family contact"
    assert "Hola, Priya Nair:" in message.text
    assert "Confirmar antes del: sábado 21 de noviembre de 2026, 04:00 CST" in message.text
    assert "Vence el: domingo 22 de noviembre de 2026, 02:00 CST" in message.text
    assert '<html lang="es">' in message.html
    assert "Se le ha asignado una tarea." in message.html


@pytest.mark.parametrize("tag", ["es-MX", "es_US", "ES", "es-419"])
def test_a_regional_tag_uses_its_language(tag: str) -> None:
    assert render(a_notice(language=tag)).subject.startswith("Nueva tarea:")


@pytest.mark.parametrize("tag", ["fr", "de-CH", "zh", "en-GB"])
def test_a_language_without_templates_falls_back_to_english(tag: str) -> None:
    message = render(a_notice(language=tag))
    assert message.subject == "New task: Family contact"
    assert '<html lang="en">' in message.html


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_in_both_languages_with_a_subject_of_its_own(
    kind: NoticeKind, language: str
) -> None:
    message = render(a_notice(kind=kind, language=language, missed_by="sam.okafor", step=2))
    others = {
        render(a_notice(kind=other, language=language, missed_by="sam.okafor")).subject
        for other in ALL_KINDS
        if other is not kind
    }
    assert message.subject not in others
    assert "Family contact" in message.subject
    assert message.text.strip() and message.html.strip()


@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("kind", ALL_KINDS)
def test_a_restricted_task_says_only_that_there_is_a_confidential_task(
    kind: NoticeKind, language: str
) -> None:
    notice = a_notice(
        kind=kind,
        language=language,
        restricted=True,
        task_title="Visit the Alvarez family",
        missed_by="sam.okafor",
        step=3,
        link="https://pathways.example.org/inbox",
    )
    message = render(notice)
    for part in parts(message):
        for secret in ("Alvarez", "family-contact", "officer", "INC-AAAAAAAA", "sam.okafor"):
            assert secret not in part
        assert "confidential" in part.lower() or "confidencial" in part.lower()
    assert "https://pathways.example.org/inbox" in message.text
    assert "Pathways" in message.text


def test_the_templates_of_a_restricted_task_are_not_even_given_what_it_is() -> None:
    context = context_for(a_notice(restricted=True, missed_by="sam.okafor"), "en")
    assert set(context) == {
        "lang",
        "kind",
        "name",
        "restricted",
        "urgent",
        "exercise",
        "link",
        "link_until",
    }


@pytest.mark.parametrize(("language", "mark"), [("en", "EXERCISE"), ("es", "EJERCICIO")])
def test_an_exercise_is_marked_in_subject_and_both_parts(language: str, mark: str) -> None:
    message = render(a_notice(language=language, exercise=True))
    assert message.subject.startswith(f"[{mark}] ")
    assert mark in message.text.splitlines()[0]
    assert mark in message.html
    real = render(a_notice(language=language))
    assert all(mark not in part for part in parts(real))


def test_a_restricted_exercise_is_still_marked() -> None:
    message = render(a_notice(exercise=True, restricted=True))
    assert message.subject.startswith("[EXERCISE] ")
    assert "EXERCISE" in message.text


def test_times_are_shown_in_the_recipients_zone_with_its_abbreviation_and_the_year() -> None:
    new_year = datetime(2026, 1, 1, 3, 30, tzinfo=UTC)
    assert format_when(new_year, "America/Chicago", "en") == "Wednesday 31 December 2025, 21:30 CST"
    assert format_when(new_year, "Europe/Madrid", "es") == "jueves 1 de enero de 2026, 04:30 CET"
    summer = datetime(2026, 7, 4, 18, 0, tzinfo=UTC)
    assert format_when(summer, "America/Chicago", "en") == "Saturday 4 July 2026, 13:00 CDT"
    assert format_when(summer, "UTC", "fr") == "Saturday 4 July 2026, 18:00 UTC"


def test_the_message_uses_the_notices_zone() -> None:
    text = render(a_notice(time_zone="Asia/Kolkata")).text
    assert "Acknowledge by: Saturday 21 November 2026, 15:30 IST" in text


CONTROL_TITLE = "Call the family\r\nBcc: someone@example.org\x00\x1b[31m\u2028now\u202e\tplease"


def test_control_characters_in_a_title_cannot_break_the_subject_header() -> None:
    message = render(a_notice(task_title=CONTROL_TITLE))
    assert message.subject == ("New task: Call the family Bcc: someone@example.org [31m now please")
    assert message.subject.isprintable()


def test_control_characters_in_a_title_stay_on_one_line_of_the_text() -> None:
    text = render(a_notice(task_title=CONTROL_TITLE)).text
    assert "Task: Call the family Bcc: someone@example.org [31m now please\n" in text
    assert "\r" not in text and "\x00" not in text and "\x1b" not in text


def test_a_long_title_shortens_the_subject() -> None:
    subject = render(a_notice(task_title="word " * 40)).subject
    assert len(subject) <= 150
    assert subject.endswith("…")


def test_markup_in_a_title_or_name_is_escaped_in_html_and_left_plain_in_text() -> None:
    message = render(
        a_notice(task_title="<script>alert('x')</script>", recipient_name="Dana <b>Reyes</b>")
    )
    assert "<script>" not in message.html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in message.html
    assert "Dana &lt;b&gt;Reyes&lt;/b&gt;" in message.html
    assert "Task: <script>alert('x')</script>" in message.text
    assert "&lt;" not in message.text and "&lt;" not in message.subject


def test_a_link_is_given_when_there_is_one() -> None:
    with_link = render(a_notice(link="https://pathways.example.org/tasks/x?a=1&b=2"))
    assert "Open it in Pathways: https://pathways.example.org/tasks/x?a=1&b=2" in with_link.text
    assert 'href="https://pathways.example.org/tasks/x?a=1&amp;b=2"' in with_link.html
    without = render(a_notice())
    assert "Open Pathways to see it." in without.text
    assert "href" not in without.html


def test_escalations_say_who_missed_it_and_which_step() -> None:
    text = render(a_notice(kind="escalation", missed_by="sam.okafor", step=2)).text
    assert "sam.okafor missed a deadline on this task (escalation step 2)." in text
    failed = render(a_notice(kind="delivery_failed", missed_by="sam.okafor", language="es"))
    assert failed.subject == "No se pudo contactar a sam.okafor: Family contact"


def test_language_for_and_single_line() -> None:
    assert language_for("es-MX") == "es"
    assert language_for("pt-BR") == "en"
    assert single_line(" a\n\n b\u0085c\u200b ") == "a b c"
