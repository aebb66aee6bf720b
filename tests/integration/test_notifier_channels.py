"""Each channel against a real server on this machine: aiosmtpd for email, an HTTP server that
verifies Standard Webhooks signatures, and an HTTP server that Apprise's json:// posts to."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import email
import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from services.notifier.channels.apprise_channel import send_apprise
from services.notifier.channels.email import SmtpServer, message_id, send_email
from services.notifier.channels.smtp_pool import SmtpConnections
from services.notifier.channels.webhook import send_webhook, signed_request
from services.notifier.render import render
from tests.integration.receivers import Credentials, HttpSink, Request, SmtpSink, start_smtp
from tests.support import free_port
from tests.unit.factories import T0, a_notice

pytestmark = pytest.mark.integration

MAIL_FROM = "Pathways <pathways@pd.example.org>"
SECRET = "whsec_" + base64.b64encode(b"the partner's own signing key!!!").decode()


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[SmtpSink, SmtpServer]]:
    sink = SmtpSink()
    controller = start_smtp(sink)
    yield sink, SmtpServer(host="127.0.0.1", port=controller.port)
    controller.stop()


def parsed(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


async def test_an_email_arrives_whole_and_decodes_in_spanish(
    smtp: tuple[SmtpSink, SmtpServer],
) -> None:
    sink, server = smtp
    notice = a_notice(
        language="es-MX",
        recipient_name="José Núñez",
        task_title="Atención a la familia Peña — señal «urgente»",
    )
    rendered = render(notice)
    delivery = await send_email(
        notice, rendered, server=server, mail_from=MAIL_FROM, to="jose@example.org", now=T0
    )
    assert delivery.ok, delivery.error
    assert delivery.target == f"smtp://127.0.0.1:{server.port}"
    received = sink.received[-1]
    assert received.mail_from == "pathways@pd.example.org"
    assert received.rcpt_tos == ["jose@example.org"]
    message = parsed(received.content)
    assert message["Subject"] == "Nueva tarea: Atención a la familia Peña — señal «urgente»"
    assert message["Message-ID"] == message_id(notice, "pd.example.org")
    assert message["To"] == "José Núñez <jose@example.org>"
    assert message["Date"] == "Sat, 21 Nov 2026 08:00:00 +0000"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    text = plain.get_content().replace("\r\n", "\n")
    assert text == rendered.text
    assert "Hola, José Núñez:" in text
    assert "sábado 21 de noviembre de 2026" in text
    assert "<td>Atención a la familia Peña — señal «urgente»</td>" in html.get_content()


async def test_sending_the_same_notice_twice_gives_the_same_message_id(
    smtp: tuple[SmtpSink, SmtpServer],
) -> None:
    sink, server = smtp
    notice = a_notice(notice_id="INC-AAAAAAAA.family-contact.assigned.7")
    for _ in range(2):
        delivery = await send_email(
            notice, render(notice), server=server, mail_from=MAIL_FROM, to="priya@example.org"
        )
        assert delivery.ok
    first, second = (parsed(r.content)["Message-ID"] for r in sink.received[-2:])
    assert first == second == "<INC-AAAAAAAA=family-contact=assigned=7.priya=nair@pd.example.org>"


async def test_a_550_rejection_is_permanent_and_does_not_repeat_the_address(
    smtp: tuple[SmtpSink, SmtpServer],
) -> None:
    _, server = smtp
    notice = a_notice()
    delivery = await send_email(
        notice, render(notice), server=server, mail_from=MAIL_FROM, to="nobody@example.org"
    )
    assert not delivery.ok
    assert delivery.permanent
    assert delivery.error is not None
    assert "550 5.1.1" in delivery.error
    assert "nobody@example.org" not in delivery.error


async def test_a_451_is_worth_another_try(smtp: tuple[SmtpSink, SmtpServer]) -> None:
    _, server = smtp
    notice = a_notice()
    delivery = await send_email(
        notice, render(notice), server=server, mail_from=MAIL_FROM, to="busy@example.org"
    )
    assert not delivery.ok
    assert not delivery.permanent
    assert delivery.error is not None and "451" in delivery.error


async def test_a_closed_port_is_worth_another_try() -> None:
    server = SmtpServer(host="127.0.0.1", port=free_port())
    notice = a_notice()
    delivery = await send_email(
        notice, render(notice), server=server, mail_from=MAIL_FROM, to="priya@example.org"
    )
    assert not delivery.ok
    assert not delivery.permanent
    assert delivery.error is not None and "SMTPConnectError" in delivery.error


async def test_a_server_that_never_answers_times_out_and_is_worth_another_try() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never greets
        writer.close()

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    notice = a_notice()
    try:
        delivery = await send_email(
            notice,
            render(notice),
            server=SmtpServer(host="127.0.0.1", port=port),
            mail_from=MAIL_FROM,
            to="priya@example.org",
            timeout=0.5,
        )
    finally:
        listener.close()
    assert not delivery.ok
    assert not delivery.permanent
    assert delivery.error is not None and "timed out" in delivery.error


async def test_starttls_required_of_a_server_without_it_is_permanent(
    smtp: tuple[SmtpSink, SmtpServer],
) -> None:
    _, plain = smtp
    server = SmtpServer.from_url(f"smtp://127.0.0.1:{plain.port}?starttls=true")
    notice = a_notice()
    delivery = await send_email(
        notice, render(notice), server=server, mail_from=MAIL_FROM, to="priya@example.org"
    )
    assert not delivery.ok
    assert delivery.permanent
    assert delivery.error is not None and "STARTTLS" in delivery.error


async def test_a_member_without_an_email_address_is_a_permanent_failure(
    smtp: tuple[SmtpSink, SmtpServer],
) -> None:
    _, server = smtp
    notice = a_notice()
    delivery = await send_email(notice, render(notice), server=server, mail_from=MAIL_FROM, to=None)
    assert (delivery.ok, delivery.permanent) == (False, True)


# aiosmtpd itself sets a deprecated session attribute once a login succeeds.
@pytest.mark.filterwarnings("ignore:Session.login_data is deprecated")
async def test_credentials_in_the_url_reach_the_server_and_never_the_delivery() -> None:
    sink, credentials = SmtpSink(), Credentials("pathways", "p@ss w:rd")
    controller = start_smtp(sink, credentials)
    base = f"127.0.0.1:{controller.port}"
    notice = a_notice()
    try:
        good = SmtpServer.from_url(f"smtp://pathways:p%40ss%20w%3Ard@{base}")
        delivery = await send_email(
            notice, render(notice), server=good, mail_from=MAIL_FROM, to="priya@example.org"
        )
        bad = SmtpServer.from_url(f"smtp://pathways:guess@{base}")
        refused = await send_email(
            notice, render(notice), server=bad, mail_from=MAIL_FROM, to="priya@example.org"
        )
    finally:
        controller.stop()
    assert delivery.ok, delivery.error
    assert credentials.seen[0] == (b"pathways", b"p@ss w:rd")
    assert delivery.target == f"smtp://pathways:***@{base}"
    assert len(sink.received) == 1
    assert not refused.ok
    assert refused.permanent
    assert refused.error is not None and "535" in refused.error
    assert "guess" not in refused.error + refused.target


def verifying(secret: str) -> HttpSink:
    """An HTTP receiver that checks every POST's signature as a partner would; /status/N
    answers N whatever the signature."""

    def respond(request: Request) -> int:
        try:
            request.verified = Webhook(secret).verify(request.body, request.headers)
        except WebhookVerificationError as error:
            request.verified = error
            return 401
        if request.path.startswith("/status/"):
            return int(request.path.rsplit("/", 1)[1])
        return 204

    return HttpSink(respond).start()


@pytest.fixture(scope="module")
def partner() -> Iterator[HttpSink]:
    sink = verifying(SECRET)
    yield sink
    sink.stop()


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


async def test_a_signed_webhook_is_delivered_and_verified_by_the_receiver(
    partner: HttpSink, client: httpx.AsyncClient
) -> None:
    notice = a_notice(language="es", task_title="Visita a la familia Peña")
    delivery = await send_webhook(
        notice, url=f"{partner.url}/hooks/pathways", secret=SECRET, client=client
    )
    assert delivery.ok, delivery.error
    request = partner.requests[-1]
    assert request.headers["webhook-id"] == notice.notice_id
    assert request.verified["type"] == "pathways.notice.assigned"
    assert request.verified["data"]["task_title"] == "Visita a la familia Peña"
    assert request.verified["data"]["notice_id"] == notice.notice_id


async def test_a_tampered_body_is_rejected_by_the_verifier(
    partner: HttpSink, client: httpx.AsyncClient
) -> None:
    body, headers = signed_request(a_notice(), SECRET, datetime.now(UTC))
    tampered = body.replace(b"Family contact", b"Family contacT")
    response = await client.post(f"{partner.url}/hooks/pathways", content=tampered, headers=headers)
    assert response.status_code == 401
    assert isinstance(partner.requests[-1].verified, WebhookVerificationError)
    untouched = await client.post(f"{partner.url}/hooks/pathways", content=body, headers=headers)
    assert untouched.status_code == 204


async def test_a_webhook_signed_with_another_secret_is_refused_for_good(
    partner: HttpSink, client: httpx.AsyncClient
) -> None:
    other = base64.b64encode(b"not the partner's key").decode()
    delivery = await send_webhook(a_notice(), url=partner.url, secret=other, client=client)
    assert (delivery.ok, delivery.permanent) == (False, True)
    assert delivery.error == "HTTP 401 Unauthorized"


@pytest.mark.parametrize(
    ("status", "permanent"),
    [(500, False), (503, False), (408, False), (429, False), (410, True), (400, True), (302, True)],
)
async def test_webhook_replies_that_are_worth_another_try_and_those_that_are_not(
    partner: HttpSink, client: httpx.AsyncClient, status: int, permanent: bool
) -> None:
    delivery = await send_webhook(
        a_notice(), url=f"{partner.url}/status/{status}", secret=SECRET, client=client
    )
    assert not delivery.ok
    assert delivery.permanent is permanent
    assert delivery.error is not None and delivery.error.startswith(f"HTTP {status}")


async def test_a_webhook_to_a_closed_port_is_worth_another_try(client: httpx.AsyncClient) -> None:
    url = f"http://127.0.0.1:{free_port()}/hook?token=hunter2"
    delivery = await send_webhook(a_notice(), url=url, secret=SECRET, client=client)
    assert (delivery.ok, delivery.permanent) == (False, False)
    assert delivery.error is not None and "ConnectError" in delivery.error
    assert "hunter2" not in delivery.target + delivery.error


@pytest.fixture(scope="module")
def apprise_receiver() -> Iterator[HttpSink]:
    sink = HttpSink(lambda r: 500 if r.path.startswith("/broken") else 200).start()
    yield sink
    sink.stop()


async def test_apprise_posts_the_message_to_a_json_receiver(apprise_receiver: HttpSink) -> None:
    notice = a_notice(language="es", task_title="Llamar a la familia Peña")
    rendered = render(notice)
    url = apprise_receiver.url.replace("http://", "json://pathways:hunter2@") + "/notify"
    delivery = await send_apprise(notice, rendered, url=url)
    assert delivery.ok, delivery.error
    assert "hunter2" not in delivery.target
    request = apprise_receiver.requests[-1]
    assert request.path == "/notify"
    posted = json.loads(request.body)
    assert posted["title"] == rendered.subject
    assert posted["message"] == rendered.text.rstrip("\n")  # Apprise trims the end
    assert "Llamar a la familia Peña" in posted["message"]


async def test_apprise_failures_are_worth_another_try(apprise_receiver: HttpSink) -> None:
    notice = a_notice()
    broken = apprise_receiver.url.replace("http://", "json://") + "/broken"
    closed = f"json://127.0.0.1:{free_port()}/notify"
    for url in (broken, closed):
        delivery = await send_apprise(notice, render(notice), url=url, timeout=5)
        assert (delivery.ok, delivery.permanent) == (False, False), url
        assert delivery.error


async def test_an_apprise_url_it_cannot_read_is_a_permanent_failure() -> None:
    notice = a_notice()
    delivery = await send_apprise(notice, render(notice), url="nosuchservice://hunter2/x")
    assert (delivery.ok, delivery.permanent) == (False, True)
    assert "hunter2" not in delivery.target


class CountingSink(SmtpSink):
    """Also counts the connections made to it (one EHLO each)."""

    def __init__(self) -> None:
        super().__init__()
        self.connections = 0

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        self.connections += 1
        session.host_name = hostname
        return responses


@contextlib.contextmanager
def counting_smtp(**smtp_parameters: Any) -> Iterator[tuple[CountingSink, SmtpServer]]:
    sink = CountingSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), **smtp_parameters)
    controller.start()
    try:
        yield sink, SmtpServer(host="127.0.0.1", port=controller.port)
    finally:
        controller.stop()


async def test_kept_connections_carry_many_messages_each_arriving_once() -> None:
    with counting_smtp() as (sink, server):
        pool = SmtpConnections(server, size=2)
        notices = [
            a_notice(notice_id=f"INC-AAAAAAAA.n{n}", task_title=f"Task {n}") for n in range(20)
        ]
        deliveries = await asyncio.gather(
            *(
                send_email(
                    n,
                    render(n),
                    server=server,
                    mail_from=MAIL_FROM,
                    to="priya@example.org",
                    connections=pool,
                )  # fmt: skip
                for n in notices
            )
        )
        await pool.close()
    assert all(d.ok for d in deliveries), [d.error for d in deliveries if not d.ok]
    ids = sorted(str(parsed(r.content)["Message-ID"]) for r in sink.received)
    assert ids == sorted(message_id(n, "pd.example.org") for n in notices)
    assert sink.connections == pool.opened <= 2


async def test_a_connection_the_server_closed_while_idle_costs_no_failed_try() -> None:
    # aiosmtpd closes a connection idle for `timeout` seconds, as mail servers do.
    with counting_smtp(timeout=0.3) as (sink, server):
        pool = SmtpConnections(server, size=1)
        first, second = a_notice(notice_id="INC-AAAAAAAA.n1"), a_notice(notice_id="INC-AAAAAAAA.n2")
        one = await send_email(first, render(first), server=server, mail_from=MAIL_FROM,
                               to="priya@example.org", connections=pool)  # fmt: skip
        await asyncio.sleep(1.0)  # past the server's idle timeout, not the pool's
        two = await send_email(second, render(second), server=server, mail_from=MAIL_FROM,
                               to="priya@example.org", connections=pool)  # fmt: skip
        await pool.close()
    assert one.ok and two.ok, (one.error, two.error)
    assert len(sink.received) == 2
    assert pool.opened == 2


async def test_a_refused_recipient_fails_its_message_and_the_connection_carries_the_next() -> None:
    with counting_smtp() as (sink, server):
        pool = SmtpConnections(server, size=1)
        refused, fine = a_notice(notice_id="INC-AAAAAAAA.n1"), a_notice(notice_id="INC-AAAAAAAA.n2")
        no = await send_email(refused, render(refused), server=server, mail_from=MAIL_FROM,
                              to="nobody@example.org", connections=pool)  # fmt: skip
        yes = await send_email(fine, render(fine), server=server, mail_from=MAIL_FROM,
                               to="priya@example.org", connections=pool)  # fmt: skip
        await pool.close()
    assert (no.ok, no.permanent, yes.ok) == (False, True, True)
    assert len(sink.received) == 1
    assert pool.opened == sink.connections == 1


async def test_kept_connections_to_a_closed_port_fail_as_worth_another_try() -> None:
    pool = SmtpConnections(SmtpServer(host="127.0.0.1", port=free_port()), size=1)
    notice = a_notice()
    delivery = await send_email(notice, render(notice), server=pool.server, mail_from=MAIL_FROM,
                                to="priya@example.org", connections=pool)  # fmt: skip
    assert (delivery.ok, delivery.permanent) == (False, False)


class ClosingOnceSink(CountingSink):
    """Says it is closing (421) to the second MAIL it is given, as a server shutting down or
    timing out a quiet client does, and drops that connection."""

    def __init__(self) -> None:
        super().__init__()
        self.mails = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        self.mails += 1
        if self.mails == 2:
            server.transport.close()  # type: ignore[union-attr]
            return "421 4.3.2 closing the connection"
        envelope.mail_from = address
        return "250 OK"


async def test_a_kept_connection_the_server_is_closing_sends_its_message_on_a_new_one() -> None:
    sink = ClosingOnceSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    server = SmtpServer(host="127.0.0.1", port=controller.port)
    pool = SmtpConnections(server, size=1)
    try:
        sent = []
        for n in (1, 2):
            notice = a_notice(notice_id=f"INC-AAAAAAAA.n{n}")
            sent.append(await send_email(notice, render(notice), server=server, mail_from=MAIL_FROM,
                                         to="priya@example.org", connections=pool))  # fmt: skip
        await pool.close()
    finally:
        controller.stop()
    assert [d.ok for d in sent] == [True, True], [d.error for d in sent]
    assert len(sink.received) == 2
    assert pool.opened == 2
