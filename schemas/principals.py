"""Who is asking: the authenticated principal behind every command and query.

A principal is never something the client says about itself. The gateway sets it from a signed-in
session, an API token or an action link; the command line sets it only as an operator of an example
roster or an exercise. Services receive it in a signed header (`services.core.assertions`) and the
access policy (`services.core.access`) decides from it.

Access roles are not task roles: a victim advocate is a *responder*; whoever holds a role of the
command family is *command* staff. Reviewer and admin are granted to accounts.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from schemas.base import Contract, PersonId, TaskId


class AccessRole(StrEnum):
    COMMAND = "command"  # logs incidents, runs playbooks, assigns and closes
    RESPONDER = "responder"  # works the tasks given to them
    REVIEWER = "reviewer"  # reads incidents, timelines and reports
    ADMIN = "admin"  # manages accounts, tokens and the roster; reads no incident content


# Granted to an account; command and responder come from the roles the roster gives the person.
GRANTABLE = frozenset({AccessRole.REVIEWER, AccessRole.ADMIN})


class Via(StrEnum):
    """How the principal was authenticated."""

    SESSION = "session"  # signed in to the console
    TOKEN = "token"  # an API token (the command line, scripts)
    LINK = "link"  # a signed single-task action link sent to a partner
    OPERATOR = "operator"  # `--as` on the command line: example roster and exercises only
    SERVICE = "service"  # a Pathways service acting on its own (e.g. creating demo accounts)


class Principal(Contract):
    account: str = Field(min_length=1, max_length=64, description="The account, or `operator`")
    person: PersonId | None = Field(
        default=None, description="The roster member the account is; none for a pure admin"
    )
    grants: frozenset[AccessRole] = Field(
        default=frozenset(), description="Access roles the account was granted (reviewer, admin)"
    )
    via: Via
    task: TaskId | None = Field(
        default=None, description="For an action link: the one task it opens"
    )
