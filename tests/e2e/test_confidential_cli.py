"""Restricted text typed on the command line is sealed before it is sent: a raw read of the
streams and the store of `pathways up` finds none of it, the envelope opens with the team's key
to what was typed, and `task show` prints the marker, whoever the operator names."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from schemas import subjects
from schemas.tasks import TaskNote
from services.core.broker import connect
from services.core.confidential import TextField, context
from services.core.sealing import Keyring
from tests.e2e.harness import Cli, Stack, log_incident, playbook_tasks, wait_for_tasks
from tests.raw_reads import RawMessage, every_message, files_holding
from tests.support import sealing_keys

pytestmark = pytest.mark.e2e

AISHA, TOM = "aisha.grant", "tom.kowalski"  # both of the peer support team
HIDDEN = "[restricted: visible to Peer Support Team only]"


def given_to(cli: Cli, tasks: list[Any], key: str, person: str) -> str:
    task = next(t for t in tasks if t["key"] == key)
    assert task["tier"] == "restricted" and task["role"] == "peer_support", task
    cli.ok("task", "assign", task["id"], "--to", person, "--as", "renee.alvarez")
    task_id: str = task["id"]
    return task_id


async def raw_messages(url: str) -> list[RawMessage]:
    nc = await connect(url, name="e2e-raw-read")
    try:
        return await every_message(nc.jetstream())
    finally:
        await nc.close()


def last_note(messages: list[RawMessage], task_id: str) -> TaskNote:
    """The note of the task's `task.noted` event, as stored."""
    _, key = task_id.split(".")
    noted = next(m for m in messages if m.subject.endswith(f".task.{key}.noted"))
    body = json.loads(noted.data)
    return TaskNote.model_validate(body["task"]["notes"][-1])


async def test_the_cli_seals_restricted_text_and_a_raw_read_finds_none_of_it(
    cli: Cli, stack: Stack
) -> None:
    incident_id = log_incident(cli, "Sealed notes")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    canary = f"CANARY-{uuid.uuid4()}"
    # Tom has the defusing first and declines it: having declined it, he may still read it.
    defusing = given_to(cli, tasks, "peer-support-defusing", TOM)
    cli.ok("task", "decline", defusing, "--as", TOM, "--reason", f"busy {canary}")
    given_to(cli, tasks, "peer-support-defusing", AISHA)
    family = given_to(cli, tasks, "officer-family-support", AISHA)

    added = cli.ok(
        "task", "note", defusing, "--as", AISHA, "--tier", "restricted", "--text", f"note {canary}"
    )
    assert added.stdout.strip() == f"Note added to {defusing} (restricted)."
    cli.ok("task", "decline", family, "--as", AISHA, "--reason", f"reason {canary}")
    done = cli.json("task", "complete", defusing, "--as", AISHA, "--note", f"done {canary}")
    assert done["task"]["note"] == HIDDEN  # an operator is never shown restricted text

    messages = await raw_messages(stack.nats_url)
    assert {subjects.EVENTS_STREAM, f"KV_{subjects.TASKS_BUCKET}"} <= {m.stream for m in messages}
    assert [(m.stream, m.seq, m.subject) for m in messages if m.holds(canary)] == []
    assert files_holding(stack.data_dir, canary) == []
    assert canary not in stack.service.log_text()
    # What is stored is the note, sealed for Aisha's team with the key the command line used.
    stored = last_note(messages, defusing)
    assert stored.text is None and stored.sealed is not None
    assert stored.sealed.scope == "team.peer-support"
    bound = context(defusing, AISHA, TextField.NOTE)
    assert Keyring(sealing_keys()).open(stored.sealed, bound) == f"note {canary}"

    # The command line never opens it, even for a member of the team.
    shown = cli.ok("task", "show", defusing, "--as", TOM).stdout
    assert canary not in shown and HIDDEN in shown
    timeline = cli.ok("timeline", incident_id).stdout
    assert canary not in timeline and HIDDEN in timeline


def test_a_key_directory_others_may_read_is_refused_in_one_line(cli: Cli, tmp_path: Path) -> None:
    incident_id = log_incident(cli, "Open key directory")
    tasks = wait_for_tasks(cli, incident_id, len(playbook_tasks()))
    defusing = given_to(cli, tasks, "peer-support-defusing", AISHA)
    keys = tmp_path / "keys"
    keys.mkdir(mode=0o755)
    keys.chmod(0o755)
    open_dir = Cli(cli.env["PATHWAYS_NATS_URL"])
    open_dir.env["PATHWAYS_KEYS_DIR"] = str(keys)
    result = open_dir(
        "task", "note", defusing, "--as", AISHA, "--tier", "restricted", "--text", "Not sent"
    )
    assert result.returncode == 1, str(result)
    assert result.error_lines == [
        f"error: key directory {keys} is open to group or others (mode 755); run `chmod 700 {keys}`"
    ], str(result)
