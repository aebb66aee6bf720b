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

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from schemas.base import TASK_ID_PATTERN, utc_now
from services.core.secret_files import SecretFileProblem, create_secret_file, read_secret_file
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
    create_secret_file(path, KEY_BYTES)


def read_link_key(path: Path) -> bytes:
    try:
        return read_secret_file(path, KEY_BYTES, "link key")
    except SecretFileProblem as exc:
        raise LinkKeyProblem(str(exc)) from None


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
