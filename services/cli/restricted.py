"""Restricted text typed on the command line is sealed here, before it leaves the machine.

The operator path (`--as`) seals with the key directory beside the data directory of `pathways
up` (`PATHWAYS_KEYS_DIR`, default `<data-dir>/keys`), making a team's key the first time one of
its members writes restricted text, for the scope of the person `--as` names as the roster in
force declares it. The command line never opens sealed text: an operator is never shown it.
"""

from __future__ import annotations

from pydantic import ValidationError

from schemas import subjects
from schemas.commands import ActOnTask, GetTask
from schemas.enums import Tier
from schemas.tasks import TaskSnapshot
from services.cli.client import execute, fail, request, speaking_over_http
from services.cli.roster_source import from_server
from services.core.confidential import CannotSeal, CommandT, has_restricted_text, seal_command
from services.core.sealing import Keyring, KeyringError
from services.core.settings import Settings


def sealed(nats_url: str, command: CommandT) -> CommandT:
    """`command`, its restricted text sealed; as it is when it has none. A completion note or
    a decline reason is restricted when its task is: the task is read first to know."""
    if speaking_over_http():
        return command  # the gateway seals it, with the keys it holds
    tier = task_tier(nats_url, command) if isinstance(command, ActOnTask) else None
    if not has_restricted_text(command, tier):
        return command
    roster = execute(from_server(nats_url)).roster
    try:
        directory = Settings().key_directory
    except ValidationError as exc:
        fail(f"cannot read the settings: {exc.errors()[0]['msg']}")
    try:
        return seal_command(
            Keyring(directory, create_missing=True), roster, command, task_tier=tier
        )
    except (KeyringError, CannotSeal, ValueError) as exc:
        fail(str(exc))


def task_tier(nats_url: str, command: ActOnTask) -> Tier | None:
    """The tier of the task `command` acts on, when it carries text that may be restricted."""
    if not (command.note or command.reason):
        return None
    query = GetTask(task_id=command.task_id)
    reply = execute(request(nats_url, subjects.QRY_TASK_GET, query))
    return TaskSnapshot.model_validate(reply.data).tier
