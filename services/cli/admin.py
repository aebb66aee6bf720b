"""pathways admin: operating a Pathways installation.

`admin dead-letters list | retry ID | retry --all` read and replay the dead-letter stream
directly on JetStream: a replay request is a message in that stream, so it waits there until
the consumer that failed the message runs, on whichever replica picks it up first.
"""

from __future__ import annotations

import asyncio
import getpass
import re
import textwrap
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from nats.aio.client import Client
from nats.js.errors import NotFoundError

from schemas import subjects
from schemas.deadletters import DeadLetter, ReplayRequested
from services.cli.client import errors, execute, fail
from services.cli.options import DEFAULT_URL, Json, NatsUrl
from services.cli.output import out, print_json
from services.core.broker import connect
from services.core.deadletters import DeadLetterStore, Letter

app = typer.Typer(
    help="Operate Pathways: dead letters, rebuilding projections, sealing keys.",
    no_args_is_help=True,
)
dead_letters = typer.Typer(
    help="Reactions that failed every delivery: list them, replay them.", no_args_is_help=True
)
app.add_typer(dead_letters, name="dead-letters")

LETTER_ID = re.compile(r"^DL-[0-9A-Z]{8}$")
Operator = Annotated[
    str | None,
    typer.Option(
        "--as", envvar="PATHWAYS_ACTOR",
        help="Who asks (recorded with the request); defaults to your user name.",
    ),
]  # fmt: skip
WIDTH = 80
POLL_SECONDS = 0.2


def letter_json(letter: DeadLetter) -> dict[str, Any]:
    return {
        "id": letter.id,
        "at": letter.at.isoformat(),
        "consumer": letter.consumer,
        "stream": letter.stream,
        "stream_seq": letter.stream_seq,
        "subject": letter.subject,
        "deliveries": letter.deliveries,
        "replays": letter.replays,
        "error_type": letter.error_type,
        "error": letter.error,
    }


def letter_text(letter: DeadLetter) -> str:
    """Lines no wider than 80 columns, the id whole and first: id, time, consumer, deliveries;
    then the original subject; then the error."""
    head = f"{letter.id}  {letter.at:%Y-%m-%d %H:%M:%S}  {letter.consumer}  "
    head += f"{letter.deliveries} deliveries"
    if len(head) > WIDTH:  # a long consumer name goes on a line of its own
        head = f"{letter.id}  {letter.at:%Y-%m-%d %H:%M:%S}  {letter.deliveries} deliveries\n"
        head += "\n".join(_fold(letter.consumer, "  "))
    return "\n".join(
        [head, *_fold(letter.subject, "  "), *textwrap.wrap(letter.error, WIDTH - 4,
                                                             initial_indent="    ",
                                                             subsequent_indent="    ")]
    )  # fmt: skip


def _fold(text: str, indent: str) -> list[str]:
    """A subject or name has no spaces to wrap at: cut it into lines that fit."""
    size = WIDTH - len(indent)
    return [indent + text[start : start + size] for start in range(0, len(text), size)]


@dead_letters.command("list")
def list_letters(as_json: Json = False, nats_url: NatsUrl = DEFAULT_URL) -> None:
    """Dead letters not resolved yet, oldest first."""
    letters = execute(_dead(nats_url))
    if as_json:
        print_json([letter_json(letter) for letter in letters])
    elif not letters:
        out.print("No dead letters.")
    else:
        out.print("ID           FAILED (UTC)         CONSUMER  DELIVERIES", markup=False)
        for letter in letters:
            out.print(letter_text(letter), markup=False, overflow="ignore", crop=False)


async def _dead(url: str) -> list[DeadLetter]:
    nc = await connect(url)
    try:
        return [_dead_record(found) for found in await DeadLetterStore(nc.jetstream()).dead()]
    finally:
        await nc.close()


def _dead_record(found: Letter) -> DeadLetter:
    assert isinstance(found.record, DeadLetter)
    return found.record


def _user_name() -> str:
    return re.sub(r"[^a-z0-9._-]", "", getpass.getuser().lower()) or "operator"


@dataclass(frozen=True)
class Answer:
    letter_id: str
    text: str
    failed: bool = False
    is_error: bool = False  # printed on stderr


@dead_letters.command("retry")
def retry(
    letter_id: Annotated[
        str | None, typer.Argument(metavar="ID", help="A dead letter id, e.g. DL-7Q3XK2AB")
    ] = None,
    every: Annotated[bool, typer.Option("--all", help="Replay every dead letter.")] = False,
    wait: Annotated[
        float, typer.Option("--wait", min=0, help="Seconds to wait for the outcome.")
    ] = 30.0,
    actor: Operator = None,
    nats_url: NatsUrl = DEFAULT_URL,
) -> None:
    """Replay dead letters to the consumer that failed them, once the cause is fixed."""
    if every == (letter_id is not None):
        fail("give one dead letter id, or --all")
    if letter_id is not None and not LETTER_ID.match(letter_id):
        fail(f"invalid dead letter id {letter_id!r}: expected an id like DL-7Q3XK2AB")
    who = (actor or _user_name())[:64]
    answers = execute(_retry(nats_url, [letter_id] if letter_id else None, who, wait))
    if not answers:
        out.print("No dead letters.")
    for answer in answers:
        (errors if answer.is_error else out).print(answer.text, markup=False, soft_wrap=True)
    if any(answer.failed for answer in answers):
        raise typer.Exit(1)


async def _retry(url: str, ids: list[str] | None, who: str, wait: float) -> list[Answer]:
    nc = await connect(url)
    try:
        store = DeadLetterStore(nc.jetstream())
        letters = await store.dead() if ids is None else [await _find(store, i) for i in ids]
        requested: list[Letter] = []
        answers: dict[str, Answer] = {}
        for found in letters:
            if isinstance(found, Answer):
                answers[found.letter_id] = found
            elif await _pending(nc, found):
                answers[found.record.id] = Answer(found.record.id, _waiting(found))
            else:
                assert isinstance(found.record, DeadLetter)
                await store.request_replay(found.record, found.seq, who)
                requested.append(found)
        outcomes = await _outcomes(store, requested, wait)
        answers.update({answer.letter_id: answer for answer in outcomes})
        order = [f.letter_id if isinstance(f, Answer) else f.record.id for f in letters]
        return [answers[letter_id] for letter_id in order]
    finally:
        await nc.close()


async def _find(store: DeadLetterStore, letter_id: str) -> Letter | Answer:
    found = await store.find(letter_id)
    if found is None:
        return Answer(letter_id, f"error: no dead letter {letter_id}", failed=True, is_error=True)
    if not isinstance(found.record, DeadLetter):
        return Answer(letter_id, f"{letter_id} is resolved already: nothing to retry.")
    return found


async def _pending(nc: Client, found: Letter) -> bool:
    """A replay of this very record was requested and not answered yet."""
    subject = subjects.replay_request(found.record.consumer, found.record.id)
    try:
        msg = await nc.jetstream().get_msg(subjects.DEAD_LETTERS_STREAM, subject=subject)
    except NotFoundError:
        return False
    request = ReplayRequested.model_validate_json(msg.data or b"")
    return request.letter_seq == found.seq


def _waiting(found: Letter) -> str:
    return (
        f"{found.record.id}: a retry is already requested; {found.record.consumer} "
        "replays it when it runs."
    )


async def _outcomes(store: DeadLetterStore, requested: list[Letter], wait: float) -> list[Answer]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    answers: dict[str, Answer] = {}
    while True:
        for found in requested:
            letter_id = found.record.id
            if letter_id not in answers:
                now = await store.find(letter_id)
                if now is not None and now.seq != found.seq:
                    answers[letter_id] = _outcome(now)
        if len(answers) == len(requested) or loop.time() >= deadline:
            break
        await asyncio.sleep(POLL_SECONDS)
    return [answers.get(found.record.id) or Answer(found.record.id, _waiting(found))
            for found in requested]  # fmt: skip


def _outcome(now: Letter) -> Answer:
    record = now.record
    if isinstance(record, DeadLetter):
        return Answer(record.id, f"{record.id} failed again: {record.error}", failed=True)
    return Answer(record.id, f"{record.id} resolved: {record.consumer} handled it.")
