"""The web console's shared parts: what its routes need (class Console, on `app.state`), the
router every console page joins, and how a page is answered (templates, no caching).

Pages are HTML rendered on the server from `templates/`, with their assets in `static/`: no
inline script or style (the Content-Security-Policy forbids both) and nothing from elsewhere."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from nats.js.kv import KeyValue
from starlette.staticfiles import StaticFiles

from schemas.subjects import ACCOUNTS_BUCKET, SESSIONS_BUCKET, THROTTLE_BUCKET
from services.core.accounts import AccountStore, ensure_demo_accounts
from services.core.logging import get_logger
from services.core.passwords import Passwords
from services.core.runtime import Runtime
from services.gateway import csrf
from services.gateway.console_keys import KEY_BYTES, ConsoleKeys
from services.gateway.console_settings import read_console_settings
from services.gateway.console_setup import ConsoleSetup
from services.gateway.live import LiveFeed, start_live
from services.gateway.refusals import ConsoleRefusal, install_refusals
from services.gateway.sessions import SessionStore
from services.gateway.throttle import Throttle

HERE = Path(__file__).parent
log = get_logger(__name__)


@dataclass
class Console:
    rt: Runtime
    setup: ConsoleSetup
    accounts: AccountStore
    accounts_kv: KeyValue
    sessions: SessionStore
    throttle: Throttle
    # The agency's OpenID Connect provider (authlib's Starlette client), when configured.
    oidc: Any = None
    # Live updates of incidents and tasks (services.gateway.live), once started.
    live: LiveFeed | None = None

    @property
    def keys(self) -> ConsoleKeys:
        return self.setup.keys

    def own_origins(self, request: Request) -> set[str]:
        """Where a form of ours may come from: the public address, and the one it was sent to."""
        origins = {f"{request.url.scheme}://{request.headers.get('host', '')}".lower()}
        public = self.rt.settings.public_url
        if public is not None:
            origins.add(csrf.origin_of(str(public)))
        return origins


async def open_console(rt: Runtime, setup: ConsoleSetup) -> Console:
    js = rt.js
    passwords = Passwords(rt.settings.password_profile)
    idle = timedelta(seconds=setup.settings.session_idle_seconds)
    accounts_kv = await js.key_value(ACCOUNTS_BUCKET)
    console = Console(
        rt=rt,
        setup=setup,
        accounts=AccountStore(rt.nc, accounts_kv, passwords),
        accounts_kv=accounts_kv,
        sessions=SessionStore(await js.key_value(SESSIONS_BUCKET), idle),
        throttle=Throttle(await js.key_value(THROTTLE_BUCKET), setup.keys.counters),
    )
    if setup.settings.oidc_configured:
        from services.gateway.oidc import agency_client

        console.oidc = agency_client(setup.settings)
    return console


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
    console.live = await start_live(rt.js)
    return console


async def stop_console(console: Console) -> None:
    """End what outlives a request: the live streams, so that no client holds the stop."""
    if console.live is not None:
        await console.live.stop()


def console_of(request: Request) -> Console:
    return cast(Console, request.app.state.console)


async def refuse_cross_site(request: Request) -> None:
    """On every console route: a POST (or any unsafe method) from another site is refused."""
    if request.method in csrf.SAFE_METHODS:
        return
    if csrf.cross_site(request.headers, console_of(request).own_origins(request)):
        raise ConsoleRefusal(403, "This form was sent from another site, so it was not accepted.")


def console_router() -> APIRouter:
    """The router console pages join: out of the API schema, and refusing cross-site posts.
    Every POST route must also depend on a token check (services.gateway.signed_in)."""
    return APIRouter(include_in_schema=False, dependencies=[Depends(refuse_cross_site)])


def install(app: FastAPI, console: Console) -> None:
    """The console's routes, assets and error pages."""
    from services.gateway import (
        account,
        board,
        incident_actions,
        incident_page,
        library_pages,
        links,
        live_streams,
        metrics_page,
        my_tasks,
        new_incident,
        not_found,
        on_call,
        report_page,
        signin,
        task_forms,
        task_page,
        timeline_page,
    )

    app.state.console = console
    install_refusals(app)
    not_found.install_not_found(app)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(signin.router)
    # /incidents/new before /incidents/{incident_id}, which would otherwise take it.
    for module in (account, board, new_incident, incident_page, incident_actions, live_streams):
        app.include_router(module.router)
    for pages in (my_tasks, task_page, task_forms, timeline_page, library_pages, on_call):
        app.include_router(pages.router)
    for pages in (report_page, metrics_page):
        app.include_router(pages.router)
    app.include_router(links.router)
    if console.oidc is not None:
        from services.gateway import oidc

        oidc.install(app, console)
