"""What the channels send, built without sending it: SMTP URLs, email messages, webhook bodies."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifier.channels.email import SmtpServer, build_message, message_id
from services.notifier.channels.webhook import signed_request, webhook_payload
from services.notifier.redact import redact_url, scrub
from services.notifier.render import render
from services.notifier.settings import NotifierSettings
from tests.support import ROOT
from tests.unit.factories import a_notice

SECRET = "whsec_" + base64.b64encode(b"a partner's signing key, 32 byte").decode()
NOW = datetime(2026, 3, 3, 18, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, False, None, None, None)),
        ("smtp://mail:2525?starttls=true", ("mail", 2525, False, True, None, None)),
        ("smtp://mail?starttls=true", ("mail", 587, False, True, None, None)),
        ("smtp://mail?starttls=false", ("mail", 25, False, False, None, None)),
        ("smtps://mail", ("mail", 465, True, False, None, None)),
        (
            "smtps://pathways:p%40ss%3Aw%2Frd@mail:1465",
            ("mail", 1465, True, False, "pathways", "p@ss:w/rd"),
        ),
        ("smtp://[::1]:2525", ("::1", 2525, False, None, None, None)),
    ],
)
def test_smtp_urls(url: str, expected: tuple[object, ...]) -> None:
    server = SmtpServer.from_url(url)
    assert (
        server.host,
        server.port,
        server.implicit_tls,
        server.starttls,
        server.username,
        server.password,
    ) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://mail:25",
        "smtp://:25",
        "smtp://user:hunter2@mail:port",
        "smtp://user:hunter2@mail?starttls=maybe",
        "smtp://user:hunter2@mail?tls=true",
        "smtps://user:hunter2@mail?starttls=true",
    ],
)
def test_a_bad_smtp_url_is_refused_without_repeating_its_password(url: str) -> None:
    with pytest.raises(ValueError, match="SMTP URL|smtps://") as refused:
        SmtpServer.from_url(url)
    assert "hunter2" not in str(refused.value)


def test_an_smtp_server_is_described_without_its_password() -> None:
    server = SmtpServer.from_url("smtp://pathways:hunter2@mail.example.org:587?starttls=true")
    assert server.describe() == "smtp://pathways:***@mail.example.org:587?starttls=true"
    assert "hunter2" not in repr(server)
    assert SmtpServer.from_url("smtps://mail").describe() == "smtps://mail:465?starttls=false"


def test_a_message_id_is_the_same_for_the_same_notice_and_person_only() -> None:
    notice = a_notice(recipient_id="dana.reyes")
    assert message_id(notice, "example.org") == (
        "<INC-AAAAAAAA=family-contact=assigned=0.dana=reyes@example.org>"
    )
    assert message_id(notice, "example.org") == message_id(
        a_notice(recipient_id="dana.reyes"), "example.org"
    )
    others = {
        message_id(a_notice(recipient_id="dana-reyes"), "example.org"),
        message_id(a_notice(notice_id="INC-AAAAAAAA.family-contact.assigned.1"), "example.org"),
    }
    assert message_id(notice, "example.org") not in others


def test_an_email_has_both_parts_and_the_headers_receivers_need() -> None:
    notice = a_notice(language="es", recipient_name="José Núñez")
    message = build_message(
        notice,
        render(notice),
        to="jose@example.org",
        mail_from="Pathways <pathways@pd.example.org>",
        now=NOW,
    )
    assert message.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in message.iter_parts()] == ["text/plain", "text/html"]
    assert message["To"] == "José Núñez <jose@example.org>"
    assert message["Message-ID"] == message_id(notice, "pd.example.org")
    assert message["Date"] == "Tue, 03 Mar 2026 18:00:05 +0000"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "es"


@pytest.mark.parametrize("to", ["not an address", "dana@", "dana@example.org\r\nBcc: x@y.org"])
def test_an_address_that_is_not_one_is_refused(to: str) -> None:
    notice = a_notice()
    with pytest.raises(ValueError, match="recipient address"):
        build_message(notice, render(notice), to=to, mail_from="p@example.org", now=NOW)


def test_a_webhook_body_is_signed_for_its_notice_id() -> None:
    notice = a_notice(urgent=True)
    body, headers = signed_request(notice, SECRET, NOW)
    assert headers["webhook-id"] == notice.notice_id
    assert headers["webhook-timestamp"] == str(int(NOW.timestamp()))
    payload = json.loads(body)
    assert payload["type"] == "pathways.notice.assigned"
    assert payload["timestamp"] == "2026-03-03T18:00:05Z"
    assert payload["data"]["task_title"] == "Family contact"
    assert payload["data"]["urgent"] is True
    signer = Webhook(SECRET)
    assert headers["webhook-signature"] == signer.sign(notice.notice_id, NOW, body.decode())
    with pytest.raises(WebhookVerificationError):
        Webhook(base64.b64encode(b"somebody else's key").decode()).verify(
            body, headers | {"webhook-timestamp": str(int(datetime.now(UTC).timestamp()))}
        )


def test_a_restricted_webhook_leaves_out_the_title_and_incident_type() -> None:
    payload = webhook_payload(a_notice(restricted=True), NOW)
    assert payload["data"]["task_title"] is None
    assert payload["data"]["incident_type"] is None
    assert "Family contact" not in json.dumps(payload)


def test_an_unusable_webhook_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="signing secret"):
        signed_request(a_notice(), "", NOW)
    with pytest.raises(ValueError, match="signing secret"):
        signed_request(a_notice(), "whsec_not*base64", NOW)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://user:hunter2@hooks.example.org:8443/p/x?token=hunter2#f",
            "https://user:***@hooks.example.org:8443/p/x?***",
        ),
        ("https://hooks.example.org/in", "https://hooks.example.org/in"),
        ("json://[::1]:9000/hook", "json://[::1]:9000/hook"),
        ("not a url hunter2", "***"),
    ],
)
def test_urls_are_shown_without_their_passwords_or_query(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_scrub_hides_every_secret() -> None:
    assert (
        scrub("a hunter2 b dana@example.org", "hunter2", None, "dana@example.org") == "a *** b ***"
    )


def test_request_lines_naming_a_url_stay_out_of_the_logs() -> None:
    """httpx and Apprise log each request's whole URL at info level, tokens and all."""
    script = textwrap.dedent(
        """
        import logging
        from services.core.logging import configure_logging
        from services.core.settings import LogFormat
        configure_logging(LogFormat.JSON, "info")
        for name in ("httpx", "apprise"):
            logging.getLogger(name).info("POST https://hooks.example.org/in?token=hunter2")
        logging.getLogger("pathways").info("shown")
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert "shown" in run.stderr
    assert "hunter2" not in run.stderr


def test_settings_come_from_the_environment_and_keep_the_smtp_url_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATHWAYS_SMTP_URL", "smtps://pathways:hunter2@mail.example.org")
    monkeypatch.setenv("PATHWAYS_MAIL_FROM", "Pathways <pathways@pd.example.org>")
    monkeypatch.setenv("PATHWAYS_PUBLIC_URL", "https://pathways.pd.example.org")
    settings = NotifierSettings()
    assert "hunter2" not in repr(settings)
    assert settings.smtp_url is not None
    server = SmtpServer.from_url(settings.smtp_url.get_secret_value())
    assert (server.implicit_tls, server.password) == (True, "hunter2")
    assert settings.mail_from == "Pathways <pathways@pd.example.org>"
    assert str(settings.public_url) == "https://pathways.pd.example.org/"
