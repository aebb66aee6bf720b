"""The composition root: which services exist, and running any set of them in one process."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import Awaitable, Callable

from faststream.nats import NatsBroker, NatsRouter
from nats.aio.client import Client

from services.core import bundled, live_roster
from services.core.broker import NatsUnreachable, new_broker, without_credentials
from services.core.library import load_sources, roles_without_holders
from services.core.logging import get_logger
from services.core.migrate import require_streams
from services.core.reactors import start_reactors
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.engine.service import build as build_engine
from services.engine.service import started as engine_started
from services.gateway.service import Gateway
from services.gateway.service import build as build_gateway
from services.intake.service import build as build_intake
from services.notifier.service import build as build_notifier
from services.notifier.service import check_settings as check_notifier_settings
from services.projector.service import build as build_projector
from services.timeline.service import build as build_timeline

log = get_logger(__name__)

SERVICES: dict[str, Callable[[Runtime], NatsRouter]] = {
    "intake": build_intake,
    "engine": build_engine,
    "projector": build_projector,
    "timeline": build_timeline,
    "notifier": build_notifier,
    "gateway": build_gateway,
}
# The service that also answers HTTP (services.gateway.service.Gateway).
GATEWAY = "gateway"
# Settings a service reads for itself, checked before anything starts: each raises ValueError
# with one line naming the variable at fault.
SETTINGS_CHECKS: dict[str, Callable[[], None]] = {"notifier": check_notifier_settings}
# Work a service does once it is connected, in the background (a failure is logged, and the
# service keeps serving).
ON_START: dict[str, Callable[[Runtime], Awaitable[None]]] = {"engine": engine_started}


async def _connect_unless_stopped(
    broker: NatsBroker, url: str, stop: asyncio.Event
) -> Client | None:
    """Connect, retrying while NATS is not up yet (containers start in any order), but give up
    at once when asked to stop."""
    log.info("nats_connecting", url=without_credentials(url))
    connecting = asyncio.create_task(broker.connect())
    stopping = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait({connecting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if connecting not in done:
        connecting.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await connecting
        return None
    stopping.cancel()
    try:
        return connecting.result()
    except Exception as exc:
        raise NatsUnreachable(url) from exc


def check_settings(names: list[str]) -> None:
    """Raise ValueError (one line) if a service among `names` could not start with its settings."""
    for name in names:
        if name in SETTINGS_CHECKS:
            SETTINGS_CHECKS[name]()


def load_runtime(settings: Settings) -> Runtime:
    """Read the roster and the playbook library checked against it; raises SourceInvalid
    naming every problem."""
    library, roster = load_sources(
        bundled.playbooks_dir(settings.playbooks_dir), bundled.roster_file(settings.roster)
    )
    return Runtime(settings=settings, library=library, roster=roster)


# A young collection every 50,000 allocations (the default is 700), each older generation every
# 20 collections of the one below (the default is 10).
COLLECTOR_THRESHOLDS = (50_000, 20, 20)


async def serve(
    rt: Runtime,
    names: list[str],
    stop: asyncio.Event,
    on_started: Callable[[], None] | None = None,
    gateway: Gateway | None = None,
) -> None:
    """Run the named services until `stop` is set; `on_started` once they are connected and
    subscribed and the gateway, if among them, is listening. The gateway's socket is bound
    before anything connects: by the caller (`gateway`), so that a busy port is found before
    NATS is even started, or here. Raises PortUnavailable if it cannot listen."""
    if gateway is None and GATEWAY in names:
        gateway = Gateway(rt.settings)
    try:
        await _serve(rt, names, stop, on_started, gateway)
    finally:
        if gateway is not None:
            gateway.close()


async def _serve(
    rt: Runtime,
    names: list[str],
    stop: asyncio.Event,
    on_started: Callable[[], None] | None,
    gateway: Gateway | None,
) -> None:
    broker = new_broker(rt.settings.nats_url, gateway.metrics if gateway else None)
    routers = [SERVICES[name](rt) for name in names]
    for router in routers:
        broker.include_router(router)
    client = await _connect_unless_stopped(broker, rt.settings.nats_url, stop)
    if client is None:
        return
    # The streams must be there (`pathways migrate`); then the reactors' consumers are set up
    # (created, or updated from an older version), so that an attached runtime is one whose
    # services are about to serve.
    js = client.jetstream()
    await require_streams(js, rt.settings.nats_url)
    await start_reactors(js, routers, rt.settings, broker)
    await rt.attach(client)
    # The stored roster version in force, if any, before anything is decided with a roster.
    await live_roster.adopt(rt, keep_file_version="engine" in names)
    await broker.start()
    background: list[asyncio.Task[None]] = []
    try:
        # HTTP last: whatever it is asked can be answered by now.
        if gateway is not None:
            await gateway.start(rt)
        # What is loaded by now lives as long as the process; keeping it out of the
        # collector's full passes removes pauses of tens of milliseconds under load.
        gc.collect()
        gc.freeze()
        # A replay (the timeline, the report) builds some 10^5 objects that live for one request;
        # at the default threshold of 700 allocations the collector runs hundreds of times over
        # them, a quarter of a long incident's report. Fewer, larger young collections find the
        # same garbage (python.org's gc docs: `set_threshold`).
        gc.set_threshold(*COLLECTOR_THRESHOLDS)
        background = _start_background(rt, names)
        _announce(rt, names, on_started)
        await stop.wait()
    finally:
        for task in background:
            task.cancel()
        await asyncio.gather(*background, return_exceptions=True)
        # HTTP first: requests in flight may still need the broker to finish.
        if gateway is not None:
            await gateway.stop()
        await broker.stop()
        log.info("services_stopped", services=names)


def _start_background(rt: Runtime, names: list[str]) -> list[asyncio.Task[None]]:
    background = [
        asyncio.create_task(_started(name, ON_START[name], rt))
        for name in names
        if name in ON_START
    ]
    background.append(asyncio.create_task(live_roster.follow(rt)))
    return background


def _announce(rt: Runtime, names: list[str], on_started: Callable[[], None] | None) -> None:
    for role, playbooks in roles_without_holders(rt.library.values(), rt.roster).items():
        log.warning("role_without_holders", role=role, playbooks=playbooks)
    if on_started is not None:
        on_started()
    log.info(
        "services_started",
        services=names,
        playbooks=len(rt.library),
        example_roster=rt.roster.example,
        roster_version=rt.roster_version,
        roster_origin="stored" if rt.roster_loaded else "file",
    )


async def _started(name: str, work: Callable[[Runtime], Awaitable[None]], rt: Runtime) -> None:
    try:
        await work(rt)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("start_work_failed", service=name)
