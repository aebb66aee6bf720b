"""A `pathways up` with the example roster and its demo accounts, whose password the tests set,
and a real SMTP server taking its mail: what the browser tests and the access matrix sign in to,
and where a partner's action link is read from the email that carries it."""

from __future__ import annotations

import email
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

from itsdangerous import URLSafeTimedSerializer

from services.core.links import SALT, read_link_key
from tests.e2e.api_support import FAST_PASSWORDS
from tests.e2e.harness import (
    MAIL_FROM,
    Cli,
    Service,
    local_roster,
    process_env,
    unexpected_tracebacks,
    up_ports,
    wait_for,
)
from tests.integration.receivers import SmtpSink, start_smtp
from tests.support import free_port

# Every example person's password on this stack (PATHWAYS_DEMO_PASSWORD).
DEMO_PASSWORD = "demo-pass-for-tests-7q"
# Accounts that are no roster member, made with `pathways user add --grant`.
REVIEWER, ADMIN = "olga.reviewer", "root.admin"
_LINK = re.compile(r"^Open this task: (http://\S+/t/(\S+))$", re.MULTILINE)


@dataclass(frozen=True)
class MailedLink:
    url: str  # the whole address, as the email gives it
    token: str  # what follows /t/
    task_id: str
    assignment: int


@dataclass(frozen=True)
class DemoStack:
    service: Service
    base: str  # the console and API, http://127.0.0.1:PORT
    cli: Cli  # the operator's command line, over NATS
    data_dir: Path
    sink: SmtpSink  # every email the notifier sent

    def add_user(self, username: str, *grants: str) -> None:
        flags = [arg for grant in grants for arg in ("--grant", grant)]
        added = self.cli("user", "add", username, *flags, "--password-stdin", stdin=DEMO_PASSWORD)
        assert added.returncode == 0 or "exists already" in added.stderr, str(added)

    def token_for(self, username: str) -> str:
        created = self.cli.ok("token", "create", "--user", username, "--name", "tests")
        return created.stdout.strip()

    def mailed_link(self, address: str, task_id: str, assignment: int) -> MailedLink:
        """The action link in the newest email to `address` about that assignment of the task
        (a restricted task's email does not name it: the link's claim does), once it came."""
        secret = read_link_key(self.data_dir / "secrets" / "links.key")
        reader = URLSafeTimedSerializer(secret, salt=SALT)

        def found() -> MailedLink | None:
            for received in reversed(list(self.sink.received)):
                match = _LINK.search(mail_text(received)) if address in received.rcpt_tos else None
                if match is None:
                    continue
                claim = reader.loads(match.group(2))
                if claim["t"] == task_id and claim["a"] == assignment:
                    return MailedLink(match.group(1), match.group(2), task_id, assignment)
            return None

        return wait_for(found, 30, f"the email to {address} about {task_id}", interval=0.2)


def mail_text(received: Any) -> str:
    message = email.message_from_bytes(received.content, policy=policy.default)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    text: str = body.get_content().replace("\r\n", "\n")
    return text


@contextmanager
def demo_stack(log_dir: Path) -> Iterator[DemoStack]:
    """`pathways up` on free ports (never 4222 or 8080), with the example roster's people
    reached by inbox and email only (sent at once, to a local SMTP server), stopped afterwards;
    the services must have logged no error and no traceback."""
    nats_port, http_port = free_port(), free_port()
    sink = SmtpSink()
    smtp = start_smtp(sink)
    roster, _ = local_roster(log_dir)
    data_dir = log_dir / "data"
    argv = ["up", "--data-dir", str(data_dir), "--nats-port", str(nats_port),
            "--roster", str(roster)]  # fmt: skip
    env = process_env(PATHWAYS_DEMO_PASSWORD=DEMO_PASSWORD,
                      PATHWAYS_SMTP_URL=f"smtp://127.0.0.1:{smtp.port}",
                      PATHWAYS_MAIL_FROM=MAIL_FROM, **FAST_PASSWORDS)  # fmt: skip
    service = Service("up", [*argv, *up_ports(http_port)], env, log_dir)
    cli = Cli(f"nats://127.0.0.1:{nats_port}")
    cli.env.update(FAST_PASSWORDS)
    try:
        service.wait_started()
        yield DemoStack(service, f"http://127.0.0.1:{http_port}", cli, data_dir, sink)
    finally:
        service.stop()
        smtp.stop()
    failures = [e for e in service.log_events() if e.get("level") in ("error", "critical")]
    assert not failures, failures
    assert not unexpected_tracebacks(service.log_text()), service.describe()
