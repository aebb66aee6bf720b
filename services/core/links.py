"""Signed action links: a partner without an account opens one task, as themselves, from a
message.

A link holds `{t: task id, p: person, a: assignment}` signed with the installation's link key
(itsdangerous, HMAC-SHA1 over a key derived with the salt below) and the time it was made; it
is good for `max_age` (PATHWAYS_LINK_MAX_AGE, 14 days by default). It names the assignment, so it
stops working once the task is handed to someone else, even to the same person again; whoever
uses it also checks that the task is still open (the gateway, services.gateway.links).

The key: one file of 32 random bytes in hex, mode 0600, `<data-dir>/secrets/links.key`, which
`pathways up` makes, or PATHWAYS_LINK_KEY_FILE (a deployment mounts the same file in every
gateway and notifier). A link is a credential: it is made when a message is sent and never
stored (services.notifier.senders).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from schemas.base import TASK_ID_PATTERN, utc_now
from services.core.settings import Settings

KEY_BYTES = 32
SALT = "pw-action-link"
LINK_PATH = "/t/"
_TASK_ID = re.compile(TASK_ID_PATTERN)


class LinkKeyProblem(Exception):
    """The link key file is missing, unreadable, too open or malformed; one line naming it."""


class BadLink(Exception):
    """Not a link this installation made (altered, cut short, or another key's)."""


class ExpiredLink(Exception):
    """A link this installation made, older than the links' lifetime."""


@dataclass(frozen=True)
class LinkClaim:
    """What a link says: this task, for this person, in this assignment of it."""

    task_id: str
    person: str
    assignment: int


@dataclass(frozen=True)
class ActionLinks:
    secret: bytes = field(repr=False)
    max_age: timedelta

    def _serializer(self) -> URLSafeTimedSerializer:
        return URLSafeTimedSerializer(self.secret, salt=SALT)

    def sign(self, claim: LinkClaim) -> str:
        payload = {"t": claim.task_id, "p": claim.person, "a": claim.assignment}
        token: str = self._serializer().dumps(payload)
        return token

    def expires(self, made_at: datetime | None = None) -> datetime:
        """Until when a link made at `made_at` (now) works."""
        return (made_at or utc_now()) + self.max_age

    def url(self, public_url: str, claim: LinkClaim) -> str:
        return f"{public_url.rstrip('/')}{LINK_PATH}{self.sign(claim)}"

    def check(self, token: str) -> LinkClaim:
        """The claim of a good link; BadLink or ExpiredLink otherwise."""
        seconds = int(self.max_age.total_seconds())
        try:
            payload = self._serializer().loads(token, max_age=seconds)
        except SignatureExpired:
            raise ExpiredLink("this link has expired") from None
        except BadSignature:
            raise BadLink("not a Pathways link") from None
        return _claim_of(payload)


def _claim_of(payload: Any) -> LinkClaim:
    # Signed by us, so well formed unless the key was shared with something else: checked
    # anyway, so that nothing odd reaches a query.
    if not isinstance(payload, dict):
        raise BadLink("not a Pathways link")
    task_id, person, assignment = payload.get("t"), payload.get("p"), payload.get("a")
    if not (isinstance(task_id, str) and _TASK_ID.match(task_id)):
        raise BadLink("not a Pathways link")
    if not (isinstance(person, str) and person and isinstance(assignment, int)):
        raise BadLink("not a Pathways link")
    return LinkClaim(task_id, person, assignment)


def create_link_key(path: Path) -> None:
    """Write a new key unless there is one (two processes racing keep one)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as out:
        out.write(secrets.token_bytes(KEY_BYTES).hex().encode() + b"\n")


def read_link_key(path: Path) -> bytes:
    try:
        if path.stat().st_mode & 0o077:
            raise LinkKeyProblem(f"{path} is readable by others; chmod 600 {path}")
        text = path.read_text().strip()
    except FileNotFoundError:
        raise LinkKeyProblem(f"no link key at {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not text"
        raise LinkKeyProblem(f"cannot read {path}: {reason}") from None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < KEY_BYTES:
        raise LinkKeyProblem(
            f"{path} must hold {KEY_BYTES} random bytes in hex (e.g. `openssl rand -hex 32`)"
        )
    return secret


def installation_links(settings: Settings, *, create: bool) -> ActionLinks | None:
    """The installation's action links. `pathways up` (`create`) makes the key the first time;
    a service started on its own uses the key it is given, or the data directory's if there is
    one, and sends no links without (None). A key that is named but unusable is a problem."""
    path = settings.link_key_path
    if create and settings.link_key_file is None:
        create_link_key(path)
    if settings.link_key_file is None and not path.exists():
        return None
    return ActionLinks(read_link_key(path), settings.link_max_age)
