"""The `pathways` command."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from pydantic import HttpUrl, ValidationError

from schemas.yaml_source import SourceInvalid
from services.app import GATEWAY, SERVICES, check_settings, load_runtime, serve
from services.cli import (
    accounts,
    admin,
    console_key,
    contract,
    inbox,
    incidents,
    keys,
    login,
    playbooks,
    rebuilding,
    record_key,
    review,
    rosters,
    signing_keys,
    task_commands,
    tasks,
    timeline_command,
)
from services.cli.client import errors, execute, fail
from services.cli.migrating import run_migrate
from services.cli.options import DEFAULT_URL, NatsUrl, RosterFile
from services.cli.safe import terminal_safe
from services.cli.signin_banner import demo_lines
from services.core import bundled
from services.core.assertions import KeyFileProblem, installation_verifier
from services.core.datadir import DataDirBusy, make_data_dir
from services.core.embedded import EmbeddedNats
from services.core.library import roles_without_holders
from services.core.links import LinkKeyProblem, installation_links
from services.core.logging import configure_logging, get_logger
from services.core.record_keys import record_signer
from services.core.runtime import Runtime
from services.core.settings import DEFAULT_HOST, DEFAULT_PORT, LogFormat, Settings
from services.gateway.console_setup import ConsoleSetupProblem, read_console_setup
from services.gateway.service import Gateway, PortUnavailable
from services.notifier.service import describe_email

app = typer.Typer(
    help="Pathways: coordinate a trauma-informed response to a high-profile incident.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(incidents.app, name="incident")
app.add_typer(playbooks.app, name="playbook")
app.add_typer(tasks.app, name="task")
app.add_typer(rosters.app, name="roster")
app.add_typer(admin.app, name="admin")
app.add_typer(accounts.users, name="user")
app.add_typer(accounts.tokens, name="token")
# Imported for their commands, which join `pathways task` and `pathways admin`.
_ = (task_commands, rebuilding, signing_keys, record_key, console_key, keys)
app.add_typer(admin.app, name="admin")
app.command("inbox")(inbox.inbox)
app.command("timeline")(timeline_command.timeline)
app.add_typer(review.app, name="review")
app.command("login")(login.login)
app.command("asyncapi")(contract.asyncapi)


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


def _print_migration(lines: list[str]) -> None:
    for line in lines:
        errors.print(line, markup=False)


async def _up(rt: Runtime, embedded: EmbeddedNats | None, gateway: Gateway) -> None:
    stop = _stop_on_signals()
    try:
        if embedded is not None:
            await embedded.start()
        settings = rt.settings
        _print_migration(await run_migrate(settings.nats_url, settings.stream_replicas))
        setup = gateway.console_setup
        demo = setup.demo_password if setup is not None else None
        banner = partial(_banner, rt, gateway.address, demo)
        await _serve(rt, list(SERVICES), stop, banner, gateway)
    finally:
        gateway.close()
        if embedded is not None:
            await embedded.stop()


async def _serve(
    rt: Runtime,
    names: list[str],
    stop: asyncio.Event,
    on_started: Callable[[], None] | None,
    gateway: Gateway | None,
) -> None:
    try:
        await serve(rt, names, stop, on_started, gateway)
    except PortUnavailable as exc:
        fail(str(exc))


def _open_gateway(settings: Settings) -> Gateway:
    """Bind the gateway's port first: if it is taken, nothing else has started yet."""
    try:
        return Gateway(settings)
    except PortUnavailable as exc:
        fail(str(exc))


def _prepare_console(gateway: Gateway, settings: Settings, *, up: bool, example: bool) -> None:
    """The console's key and settings, read now so that a problem is one line; `pathways up`
    makes the key the first time and, with the example roster, the demo accounts' password."""
    try:
        setup = read_console_setup(settings, create=up, demo=up and example)
    except ConsoleSetupProblem as exc:
        gateway.close()
        fail(f"cannot start the console: {exc}")
    gateway.console_setup = setup


def _banner(rt: Runtime, console: str, demo_password: str | None) -> None:
    """Printed once every service is connected and subscribed and the gateway listens, so what
    it says is true."""
    errors.print(f"Pathways is up on {rt.settings.nats_url}. Press Ctrl-C to stop.")
    errors.print(f"Console and API: {console}/", markup=False)
    playbooks = bundled.playbooks_dir(rt.settings.playbooks_dir)
    errors.print(f"Playbooks: {len(rt.library)} from {playbooks}", markup=False)
    roster = bundled.roster_file(rt.settings.roster)
    loaded = rt.roster_loaded
    if loaded is not None:
        when = loaded.loaded_at.strftime("%Y-%m-%d %H:%M UTC")
        errors.print(
            terminal_safe(
                f"Roster: version {rt.roster_version} in force, loaded by {loaded.loaded_by} "
                f"at {when} (pathways roster load); {roster} is not used."
            ),
            markup=False,
        )
    else:
        errors.print(
            terminal_safe(f"Roster: {roster} (version {rt.roster_version})."), markup=False
        )
    if rt.roster.example:
        errors.print("Using the EXAMPLE roster (fictional people).", markup=False)
    if demo_password is not None and rt.roster.example:
        for line in demo_lines(rt.roster, console, demo_password):
            errors.print(terminal_safe(line), markup=False)
    errors.print(terminal_safe(describe_email()), markup=False)
    for role, books in roles_without_holders(rt.library.values(), rt.roster).items():
        errors.print(
            f"warning: nobody on the roster holds {role}; its tasks in {', '.join(books)} "
            "will need command staff to assign them",
            markup=False,
        )
    errors.print(
        'Try: pathways incident log --type officer-involved-shooting --title "..." --as PERSON',
        markup=False,
    )


PlaybooksDir = Annotated[
    Path | None,
    typer.Option(
        "--playbooks-dir",
        envvar="PATHWAYS_PLAYBOOKS_DIR",
        help="Playbook library (default: ./playbooks, else the library shipped with Pathways).",
        show_default=False,
    ),
]
LogFormatOpt = Annotated[
    LogFormat, typer.Option("--log-format", envvar="PATHWAYS_LOG_FORMAT", help="Log lines.")
]
LogLevelOpt = Annotated[
    str,
    typer.Option("--log-level", envvar="PATHWAYS_LOG_LEVEL", help="debug, info, warning, error."),
]
HostOpt = Annotated[
    str,
    typer.Option(
        "--host",
        envvar="PATHWAYS_HOST",
        help="Where the console and API listen (0.0.0.0: every interface).",
    ),
]
PortOpt = Annotated[
    int,
    typer.Option(
        "--port", envvar="PATHWAYS_PORT", help="Port of the console and API (0: any free port)."
    ),
]
ReplicasOpt = Annotated[
    int,
    typer.Option(
        "--replicas",
        envvar="PATHWAYS_STREAM_REPLICAS",
        help="Replicas of every stream and bucket (3 on a cluster).",
    ),
]


@app.command()
def up(
    data_dir: Annotated[
        Path, typer.Option("--data-dir", envvar="PATHWAYS_DATA_DIR", help="The embedded store.")
    ] = Path(".pathways"),
    nats_url: Annotated[
        str | None,
        typer.Option(
            "--nats-url", envvar="PATHWAYS_NATS_URL", help="Use this NATS instead of starting one."
        ),
    ] = None,
    nats_port: Annotated[
        int,
        typer.Option("--nats-port", envvar="PATHWAYS_NATS_PORT", help="Port of the bundled NATS."),
    ] = 4222,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    playbooks_dir: PlaybooksDir = None,
    roster: RosterFile = None,
    replicas: ReplicasOpt = 1,
    log_format: LogFormatOpt = LogFormat.AUTO,
    log_level: LogLevelOpt = "info",
) -> None:
    """Run everything in one process, on a bundled NATS server unless --nats-url is given."""
    settings = _settings(
        nats_url=nats_url or DEFAULT_URL,
        data_dir=data_dir,
        nats_port=nats_port,
        host=host,
        port=port,
        playbooks_dir=playbooks_dir,
        roster=roster,
        stream_replicas=replicas,
        log_format=log_format,
        log_level=log_level,
    )
    embedded = None if nats_url else EmbeddedNats(settings.data_dir, settings.nats_port)
    if embedded is not None:
        settings = settings.model_copy(update={"nats_url": embedded.url})
    configure_logging(settings.log_format, settings.log_level)
    _check_services(list(SERVICES))
    gateway = _open_gateway(settings)
    if settings.public_url is None:
        settings = _public_at(settings, gateway.address)
    try:  # after the port is taken, before anything is written in it
        make_data_dir(settings.data_dir)
    except DataDirBusy as exc:
        fail(str(exc))
    rt = _load(settings, create_keys=True)
    _prepare_console(gateway, settings, up=True, example=rt.roster.example)
    execute(_up(rt, embedded, gateway))


def _public_at(settings: Settings, address: str) -> Settings:
    """On one machine, people open Pathways where this process listens. The notifier reads
    PATHWAYS_PUBLIC_URL itself (for the links in messages), so it is set there too."""
    os.environ["PATHWAYS_PUBLIC_URL"] = f"{address}/"
    return settings.model_copy(update={"public_url": HttpUrl(f"{address}/")})


log = get_logger(__name__)
# The services that append events, and so seal them (deploy/nats/accounts.conf).
WRITERS = ("intake", "engine", "notifier")


def _settings(**flags: object) -> Settings:
    """Flags over PATHWAYS_* variables; a bad value is one line naming it."""
    try:
        return Settings(**flags)  # type: ignore[arg-type]
    except ValidationError as exc:
        problem = exc.errors(include_url=False)[0]
        name = ".".join(str(p) for p in problem["loc"])
        fail(f"invalid setting {name} (PATHWAYS_{name.upper()}): {problem['msg']}")


def _check_services(names: list[str]) -> None:
    try:
        check_settings(names)
    except ValueError as exc:
        fail(f"cannot start: {exc}")


def _load(settings: Settings, *, create_keys: bool = False) -> Runtime:
    try:
        rt = load_runtime(settings)
    except SourceInvalid as exc:
        for problem in exc.errors:
            errors.print(terminal_safe(str(problem)), markup=False)
        fail(f"cannot start: {len(exc.errors)} problem(s) in playbooks or roster")
    try:
        rt.verifier = installation_verifier(settings, create=create_keys)
    except (KeyFileProblem, OSError) as exc:
        fail(
            f"cannot start: {exc} (the key that checks who is asking; "
            "see PATHWAYS_PRINCIPAL_PUBLIC_KEY_FILE in docs/architecture.md)"
        )
    try:
        rt.sealer = record_signer(settings, create=create_keys)
    except (KeyFileProblem, OSError) as exc:
        fail(f"cannot start: {exc} (the key that seals the record; PATHWAYS_RECORD_KEY_FILE)")
    try:
        rt.links = installation_links(settings, create=create_keys)
    except (LinkKeyProblem, OSError) as exc:
        fail(f"cannot start: {exc} (the key of partners' action links; PATHWAYS_LINK_KEY_FILE)")
    return rt


@app.command()
def run(
    service: Annotated[
        str, typer.Argument(metavar="SERVICE", help=f"One of: {', '.join(SERVICES)}")
    ],
    nats_url: NatsUrl = DEFAULT_URL,
    host: HostOpt = DEFAULT_HOST,
    port: PortOpt = DEFAULT_PORT,
    playbooks_dir: PlaybooksDir = None,
    roster: RosterFile = None,
    log_format: LogFormatOpt = LogFormat.AUTO,
    log_level: LogLevelOpt = "info",
) -> None:
    """Run one service against an existing NATS; start as many replicas as you like.
    --host and --port are the gateway's."""
    if service not in SERVICES:
        fail(f"unknown service {service!r}; expected one of: {', '.join(SERVICES)}")
    settings = _settings(
        nats_url=nats_url,
        host=host,
        port=port,
        playbooks_dir=playbooks_dir,
        roster=roster,
        log_format=log_format,
        log_level=log_level,
    )
    configure_logging(settings.log_format, settings.log_level)
    _check_services([service])
    gateway = _open_gateway(settings) if service == GATEWAY else None
    rt = _load(settings)
    if rt.sealer is None and service in WRITERS:
        # Not fatal, so an installation from before sealing keeps running; but what it appends
        # now fails `pathways timeline verify` (an unsealed event after sealed ones), so say so.
        log.warning("record_unsealed", service=service, key_file=str(settings.record_key_path))
    if gateway is not None:
        _prepare_console(gateway, settings, up=False, example=False)

    async def main() -> None:
        await _serve(rt, [service], _stop_on_signals(), None, gateway)

    execute(main())


@app.command()
def migrate(
    nats_url: NatsUrl = DEFAULT_URL,
    replicas: Annotated[
        int | None,
        typer.Option(
            "--replicas",
            envvar="PATHWAYS_STREAM_REPLICAS",
            help="Replicas of every stream and bucket (3 on a cluster); never lowered.",
        ),
    ] = None,
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Keep trying to reach NATS for this many seconds."),
    ] = 0.0,
) -> None:
    """Create or upgrade the streams and buckets (run it as the admin user); never narrows."""
    flags: dict[str, object] = {"nats_url": nats_url}
    if replicas is not None:
        flags["stream_replicas"] = replicas
    settings = _settings(**flags)
    lines = execute(run_migrate(settings.nats_url, settings.stream_replicas, wait))
    sys.stdout.write("".join(f"{line}\n" for line in lines))


def main() -> None:
    app()
