"""Who the command line asks as.

Until the command line signs in (an API token), it speaks for the installation's operator, with
the key `pathways up` keeps in its data directory: as the person `--as` names, or, reading without
`--as`, as a reviewer. The services accept an operator only with the example roster or in an
exercise (services.core.access), so `--as` cannot be used to act as someone on a real roster.
"""

from __future__ import annotations

from pydantic import BaseModel, ValidationError

from schemas.commands import Command
from schemas.principals import AccessRole, Principal, Via
from services.core.assertions import KeyFileProblem, read_signer
from services.core.rpc import Caller
from services.core.settings import Settings

OPERATOR = "operator"


class NoOperatorKey(Exception):
    """The operator key cannot be read; the message says where it was looked for and why."""


def operator_principal(person: str | None) -> Principal:
    if person is not None:
        return Principal(account=OPERATOR, person=person, via=Via.OPERATOR)
    return Principal(
        account=OPERATOR,
        via=Via.OPERATOR,
        # The operator of an example installation reads what reviewers read and, as its
        # administrator, the roster's channels.
        grants=frozenset({AccessRole.REVIEWER, AccessRole.ADMIN}),
    )


def caller_for(request: BaseModel, person: str | None = None) -> Caller:
    """The caller of `request`: a command acts as its actor; a query reads as `person`."""
    if isinstance(request, Command):
        person = request.actor
    try:
        path = Settings().signing_key_path
    except ValidationError as exc:
        raise NoOperatorKey(f"cannot read the settings: {exc.errors()[0]['msg']}") from None
    try:
        signer = read_signer(path)
    except KeyFileProblem as exc:
        raise NoOperatorKey(
            f"{exc}: the command line signs as the installation's operator with the key "
            "`pathways up` keeps in its data directory (run it there, or set PATHWAYS_DATA_DIR "
            "or PATHWAYS_PRINCIPAL_KEY_FILE)"
        ) from None
    return Caller(signer, operator_principal(person))
