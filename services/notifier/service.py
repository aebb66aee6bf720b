"""The notifier: turns task events into notices, delivers them through each person's channels
(the in-app inbox, email, signed webhooks, Apprise) and records what came of each as events;
answers `pw.qry.inbox`.

Every CLI command imports the services' wiring (services.app), and only a process that runs the
notifier needs its senders and their libraries (Apprise, httpx, aiosmtplib, Jinja2: a quarter of
a second on each command). So `build`, `check_settings` and `describe_email` import them when
called."""

from __future__ import annotations

from functools import partial

from faststream.nats import NatsRouter
from pydantic import ValidationError

from schemas import subjects
from schemas.commands import ListInbox
from services.core.broker import TIMERS_JSTREAM
from services.core.logging import get_logger
from services.core.reactors import consume
from services.core.rpc import serve
from services.core.runtime import Runtime
from services.notifier.settings import NotifierSettings, NotifierSettingsInvalid

QUEUE = "notifier"
log = get_logger(__name__)


def build(rt: Runtime) -> NatsRouter:
    from services.notifier import reactions
    from services.notifier.context import Notifier
    from services.notifier.inbox import list_inbox

    notifier = Notifier.from_runtime(rt, NotifierSettings())
    if not notifier.email_enabled:
        log.info("email_not_configured", hint="set PATHWAYS_SMTP_URL to send email")
    router = NatsRouter()
    serve(
        router,
        subjects.QRY_INBOX,
        ListInbox,
        partial(list_inbox, notifier),
        queue=QUEUE,
        verifier=rt.verifying_key,
    )
    wait = rt.settings.ack_wait_seconds
    consume(router, subjects.ON_TASK_EVENTS, reactions.TASK_EVENTS,
            partial(reactions.on_task_event, notifier), max_workers=8, ack_wait=wait)  # fmt: skip
    consume(router, subjects.ON_NOTICE_FAILED, reactions.NOTICE_FAILED,
            partial(reactions.on_notice_failed, notifier), max_workers=4,
            ack_wait=wait)  # fmt: skip
    consume(router, subjects.ON_NOTICE_TIMER, reactions.TIMERS,
            partial(reactions.on_timer, notifier), max_workers=8, ack_wait=wait,
            stream=TIMERS_JSTREAM)  # fmt: skip
    return router


def check_settings() -> None:
    """Raise NotifierSettingsInvalid, in one line naming the variable (never its value), for a
    setting the notifier could not start with."""
    from services.notifier.context import smtp_server

    try:
        settings = NotifierSettings()
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(part) for part in problem["loc"])
        raise NotifierSettingsInvalid(f"PATHWAYS_{name.upper()}: {problem['msg']}") from None
    smtp_server(settings)


def describe_email() -> str:
    """One line on where email goes (the server without its password, and the sender), or that
    it is off; for a banner, once check_settings has passed."""
    from services.notifier.context import smtp_server

    settings = NotifierSettings()
    server = smtp_server(settings)
    if server is None:
        return "Email: off (set PATHWAYS_SMTP_URL to send it; the in-app inbox works without it)."
    return f"Email: through {server.describe()}, from {settings.mail_from}."
