"""Getting the console ready: its key and settings (read before anything starts, so a problem
is one line), and, with the example roster under `pathways up`, the demo accounts.

Demo accounts are for trying Pathways out: one per member of the fictional example roster, all
with one password that `pathways up` makes once and keeps in `<data-dir>/secrets/demo-password`
(or PATHWAYS_DEMO_PASSWORD). They are made only where no account of that name exists, and never
for a roster that is not the example."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from schemas.accounts import password_problem
from services.core.settings import Settings
from services.gateway.console_keys import (
    ConsoleKeyProblem,
    ConsoleKeys,
    create_console_key,
    read_console_keys,
)
from services.gateway.console_settings import ConsoleSettings, read_console_settings

DEMO_PASSWORD_FILE = "demo-password"
# Easy to read out and type: no 0/o, 1/l/i.
_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


@dataclass(frozen=True)
class ConsoleSetup:
    """What the console is given before it starts (read by the command that runs it)."""

    keys: ConsoleKeys
    settings: ConsoleSettings
    # The demo accounts' password; only `pathways up` gives one, used with the example roster.
    demo_password: str | None = None


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
        try:
            password = given.get_secret_value() if given else demo_password_in(settings.data_dir)
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not text"
            raise ConsoleSetupProblem(f"cannot keep the demo password: {reason}") from None
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
