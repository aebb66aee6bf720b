"""Getting the console ready: its key and settings (read before anything starts, so a problem
is one line), and, with the example roster under `pathways up`, the demo accounts.

Demo accounts are for trying Pathways out: one per member of the fictional example roster, all
with one password that `pathways up` makes once and keeps in `<data-dir>/secrets/demo-password`
(or PATHWAYS_DEMO_PASSWORD). They are made only where no account of that name exists, and never
for a roster that is not the example."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from schemas.accounts import password_problem
from services.core.accounts import ensure_demo_accounts
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.gateway.console import Console, ConsoleSetup, open_console
from services.gateway.console_keys import (
    KEY_BYTES,
    ConsoleKeyProblem,
    ConsoleKeys,
    create_console_key,
    read_console_keys,
)
from services.gateway.console_settings import read_console_settings

log = get_logger(__name__)

DEMO_PASSWORD_FILE = "demo-password"
# Easy to read out and type: no 0/o, 1/l/i.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


class ConsoleSetupProblem(Exception):
    """The console cannot start as configured; one line naming the setting or file."""


def read_console_setup(settings: Settings, *, create: bool, demo: bool) -> ConsoleSetup:
    """The console's key (made first if `create` and none is configured) and settings; with
    `demo`, the demo accounts' password too."""
    try:
        console_settings = read_console_settings()
        path = console_settings.key_path(settings.data_dir)
        if create and console_settings.console_key_file is None:
            create_console_key(path)
        keys = read_console_keys(path)
    except (ValueError, ConsoleKeyProblem) as exc:
        raise ConsoleSetupProblem(str(exc)) from None
    except OSError as exc:
        raise ConsoleSetupProblem(f"cannot make the console key: {exc.strerror}") from None
    password = None
    if demo:
        given = console_settings.demo_password
        password = given.get_secret_value() if given else demo_password_in(settings.data_dir)
        problem = password_problem(password)
        if problem is not None:
            raise ConsoleSetupProblem(f"PATHWAYS_DEMO_PASSWORD: {problem}")
    return ConsoleSetup(keys=keys, settings=console_settings, demo_password=password)


def demo_password_in(data_dir: Path) -> str:
    """The data directory's demo password, made the first time (mode 0600)."""
    path = data_dir / "secrets" / DEMO_PASSWORD_FILE
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    made = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as out:
        out.write(made + "\n")
    return made


async def start_console(rt: Runtime, setup: ConsoleSetup | None) -> Console:
    """The console, its demo accounts made first when there are to be any. Without a setup
    (services started from code, not by a command) the key is one for this process alone."""
    if setup is None:
        keys = ConsoleKeys(secrets.token_bytes(KEY_BYTES))
        setup = ConsoleSetup(keys=keys, settings=read_console_settings())
        log.warning("console_key_for_this_process_only")
    console = await open_console(rt, setup)
    if setup.demo_password is not None and rt.roster.example:
        created = await ensure_demo_accounts(console.accounts, rt.roster, setup.demo_password)
        log.info("demo_accounts", created=len(created))
    return console
