"""The composition root: which services exist, and running any set of them in one process."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from faststream.nats import NatsRouter

from services.core.broker import NatsUnreachable, new_broker
from services.core.library import load_library, load_roster
from services.core.logging import get_logger
from services.core.runtime import Runtime
from services.core.settings import Settings
from services.engine.service import build as build_engine
from services.intake.service import build as build_intake
from services.projector.service import build as build_projector
from services.timeline.service import build as build_timeline

log = get_logger(__name__)

SERVICES: dict[str, Callable[[Runtime], NatsRouter]] = {
    "intake": build_intake,
    "engine": build_engine,
    "projector": build_projector,
    "timeline": build_timeline,
}


def load_runtime(settings: Settings) -> Runtime:
    """Read the playbook library and roster; raises SourceInvalid naming every problem."""
    return Runtime(
        settings=settings,
        library=load_library(settings.playbooks_dir),
        roster=load_roster(settings.roster),
    )


async def serve(rt: Runtime, names: list[str], stop: asyncio.Event) -> None:
    """Run the named services until `stop` is set."""
    broker = new_broker(rt.settings.nats_url)
    for name in names:
        broker.include_router(SERVICES[name](rt))
    try:
        client = await broker.connect()
    except Exception as exc:
        raise NatsUnreachable(rt.settings.nats_url) from exc
    await rt.attach(client)
    await broker.start()
    log.info(
        "services_started",
        services=names,
        playbooks=len(rt.library),
        example_roster=rt.roster.example,
    )
    try:
        await stop.wait()
    finally:
        await broker.stop()
        log.info("services_stopped", services=names)
