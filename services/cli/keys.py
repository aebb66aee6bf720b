"""`pathways admin keys`: the keys that seal restricted text, one per scope.

They live in a directory of their own (`<data-dir>/keys`, or `--keys-dir`), never in NATS. These
commands work on that directory directly, so they run on the machine (or volume) that holds it;
no key is ever printed.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from services.cli.admin import app
from services.cli.client import errors, fail
from services.cli.options import Json
from services.cli.output import out, print_json
from services.cli.safe import terminal_safe
from services.core.sealing import Keyring, KeyringError, ScopeKeys, check_scope
from services.core.settings import Settings

keys = typer.Typer(
    help="Keys that seal restricted notes, one per team or organisation: list, ensure, rotate, "
    "erase. Keys are never printed.",
    no_args_is_help=True,
)
app.add_typer(keys, name="keys")

WIDTH = 80
DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir", envvar="PATHWAYS_DATA_DIR", help="The data directory; keys are in its keys/."
    ),
]
KeysDir = Annotated[
    Path | None,
    typer.Option(
        "--keys-dir",
        envvar="PATHWAYS_KEYS_DIR",
        help="The key directory, when not <data-dir>/keys.",
        show_default=False,
    ),
]
ScopeArg = Annotated[
    str, typer.Argument(metavar="SCOPE", help="team.<team-id> or org.<organisation-id>")
]


def lost(scope: str) -> str:
    return f"notes sealed for {scope} can no longer be read, by anyone"


@contextmanager
def _keyring(data_dir: Path, keys_dir: Path | None) -> Iterator[Keyring]:
    """The ring over the chosen directory; anything wrong with it is one line."""
    try:
        settings = Settings(data_dir=data_dir, keys_dir=keys_dir)
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(p) for p in problem["loc"])
        fail(f"invalid setting {name} (PATHWAYS_{name.upper()}): {problem['msg']}")
    try:
        yield Keyring(settings.key_directory)
    except KeyringError as exc:
        fail(str(exc))


def _scope(scope: str) -> str:
    try:
        return check_scope(scope)
    except KeyringError as exc:
        fail(str(exc))


def scope_json(found: ScopeKeys) -> dict[str, Any]:
    return {
        "scope": found.scope,
        "key_id": found.current.key_id,
        "versions": [
            {"key_id": v.key_id, "created_at": v.created_at.isoformat()} for v in found.versions
        ],
    }


def scope_text(found: ScopeKeys) -> str:
    """One line, or the scope alone on its first line when the whole would pass 80 columns."""
    details = f"{found.current.key_id}  {found.current.created_at:%Y-%m-%d %H:%M}  "
    details += f"{len(found.versions)} version{'s' if len(found.versions) > 1 else ''}"
    line = f"{found.scope:<24}  {details}"
    return line if len(line) <= WIDTH else f"{found.scope}\n{'':24}  {details}"


@keys.command("list")
def list_keys(
    as_json: Json = False, data_dir: DataDir = Path(".pathways"), keys_dir: KeysDir = None
) -> None:
    """Each scope with a key: the key sealing new notes, when made, and its versions."""
    with _keyring(data_dir, keys_dir) as ring:
        found = ring.scopes()
        directory = ring.keys.path
    if as_json:
        print_json([scope_json(scope) for scope in found])
    elif not found:
        out.print(terminal_safe(f"No keys in {directory}."), markup=False)
    else:
        out.print(f"{'SCOPE':<24}  KEY       CREATED (UTC)     VERSIONS", markup=False)
        for scope in found:
            out.print(scope_text(scope), markup=False, overflow="ignore", crop=False)


@keys.command("ensure")
def ensure(
    scopes: Annotated[list[str], typer.Argument(metavar="SCOPE...", help="One or more scopes.")],
    data_dir: DataDir = Path(".pathways"),
    keys_dir: KeysDir = None,
) -> None:
    """Make a key for each scope that has none; keys that exist stay as they are."""
    checked = [_scope(scope) for scope in scopes]
    with _keyring(data_dir, keys_dir) as ring:
        for scope in checked:
            found, made = ring.ensure(scope)
            said = "made" if made else "already there"
            out.print(f"{scope}: key {found.current.key_id} {said}", markup=False)


@keys.command("rotate")
def rotate(
    scope: ScopeArg, data_dir: DataDir = Path(".pathways"), keys_dir: KeysDir = None
) -> None:
    """A new key seals the scope's notes from now on; older keys still open older notes."""
    scope = _scope(scope)
    with _keyring(data_dir, keys_dir) as ring:
        rotated = ring.rotate(scope)
    older = len(rotated.versions) - 1
    out.print(
        f"{scope}: key {rotated.current.key_id} seals new notes; {older} older "
        f"key{'s' if older > 1 else ''} still open{'' if older > 1 else 's'} earlier ones",
        markup=False,
    )


@keys.command("erase")
def erase(
    scope: ScopeArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask: erase at once.")] = False,
    data_dir: DataDir = Path(".pathways"),
    keys_dir: KeysDir = None,
) -> None:
    """Erase every key of the scope: notes sealed for it can no longer be read, by anyone."""
    scope = _scope(scope)
    with _keyring(data_dir, keys_dir) as ring:
        if ring.keys.read(scope) is None:
            fail(f"no key for {scope} in {ring.keys.path}: nothing to erase")
        if not yes:
            _confirm(scope)
        ring.erase(scope)
    out.print(f"Erased the keys of {scope}: {lost(scope)}.", markup=False)


def _confirm(scope: str) -> None:
    if not sys.stdin.isatty():
        fail(f"erase needs --yes when not asked at a terminal: {lost(scope)}")
    errors.print(f"Erasing the keys of {scope}: {lost(scope)}.", markup=False)
    # Asked on stderr and read here (not typer.confirm, which echoes a space on stdout).
    errors.print(f"Erase {scope}? [y/N] ", end="", markup=False)
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        errors.print("Nothing erased.", markup=False)
        raise typer.Exit(1)
