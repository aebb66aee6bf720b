"""How the access matrix asks each route as each kind of reader: the API with the reader's token,
the console's pages and forms with their session (and a form's token), and the action links'
pages with the partner's link session; what each request sends, and what came back."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from services.gateway.link_sessions import COOKIE as LINK_COOKIE
from tests.e2e.access_world import LINK, PLAYBOOK, READERS, RESPONDER, World
from tests.e2e.console_client import Browser, form_token
from tests.e2e.demo_stack import DEMO_PASSWORD

RouteKey = tuple[str, str]  # (method, route template)
KINDS = tuple(READERS)  # anonymous, admin, reviewer, other_team, command, responder, link
FAR_AHEAD = datetime(2031, 1, 6, tzinfo=UTC)
API_PREFIXES = ("/api/", "/healthz", "/readyz", "/metrics", "/static/")


@dataclass(frozen=True)
class Answer:
    route: RouteKey
    kind: str
    status: int
    body: str
    location: str  # where a redirect sends the browser ("" if none)


def away(kind: str) -> dict[str, str]:
    """An away period of Aisha's, a week of its own for each reader (so that none overlap)."""
    starts = FAR_AHEAD + timedelta(weeks=KINDS.index(kind))
    until = starts + timedelta(days=3)
    return {"person": RESPONDER, "starts": starts.isoformat(), "until": until.isoformat()}


def roster_body(world: World) -> dict[str, Any]:
    """The roster in force, as an administrator reads it (with every channel): loading it
    again changes nothing."""
    full = world.api["admin"].get("/roster")
    return {"roster": full["roster"], "source": "access matrix"}


BODIES: dict[RouteKey, Callable[[World, str], Any]] = {
    ("POST", "/api/v1/incidents"): lambda w, k: {"incident_type": PLAYBOOK, "title": f"By {k}"},
    ("POST", "/api/v1/incidents/{incident_id}/close"): lambda w, k: {"reason": "Over"},
    ("POST", "/api/v1/incidents/{incident_id}/playbook"): lambda w, k: {"playbook_id": PLAYBOOK},
    ("POST", "/api/v1/incidents/{incident_id}/playbook/cancel"): lambda w, k: {"reason": "Wrong"},
    ("POST", "/api/v1/incidents/{incident_id}/findings"): lambda w, k: {
        "kind": "strength",
        "text": f"Found by {k}",
    },
    ("POST", "/api/v1/incidents/{incident_id}/actions"): lambda w, k: {
        "text": f"Given by {k}",
        "owner": RESPONDER,
        "due_on": f"{FAR_AHEAD:%Y-%m-%d}",
    },
    ("POST", "/api/v1/tasks/{task_id}/complete"): lambda w, k: {"note": "Done"},
    ("POST", "/api/v1/tasks/{task_id}/decline"): lambda w, k: {"reason": "Off shift"},
    ("POST", "/api/v1/tasks/{task_id}/assign"): lambda w, k: {"to": RESPONDER},
    ("POST", "/api/v1/tasks/{task_id}/notes"): lambda w, k: {"text": f"By {k}", "tier": "public"},
    ("POST", "/api/v1/roster"): lambda w, k: roster_body(w),
    ("POST", "/api/v1/roster/away"): lambda w, k: away(k),
    ("POST", "/api/v1/roster/back"): lambda w, k: {"person": RESPONDER},
    ("POST", "/api/v1/me/tokens"): lambda w, k: {"name": f"by {k}"},
    ("POST", "/api/v1/session/token"): lambda w, k: {
        "username": RESPONDER,
        "password": DEMO_PASSWORD,
    },
}
# What a console or link form sends besides its token and key, by the action's last word.
FORM_FIELDS = {
    "complete": {"note": "Done"},
    "decline": {"reason": "Off shift"},
    "notes": {"text": "A note", "tier": "public"},
    "assign": {"to": RESPONDER},
    "trigger": {"playbook_id": PLAYBOOK},
    "close": {"reason": "Over"},
    "incidents": {"incident_type": PLAYBOOK, "title": "From the form", "severity": "high"},
}
# How long a live stream is listened to, and when (after it opens) the incident changes.
LIVE_SECONDS, CHANGE_AFTER = 2.5, 0.5


def concrete(world: World, route: RouteKey, targets: Mapping[RouteKey, dict[str, str]]) -> str:
    """The route's path for this world: the incident and the task Aisha works on, unless
    `targets` names another record (`spare:…` an incident, `link:…` a partner's task, `task:…`)."""
    values = {
        "incident_id": world.incident,
        "task_id": world.tasks["noted"],
        "token_id": world.token_id,
        "playbook_id": PLAYBOOK,
        "path": "console.css",
        "token": world.links["acted"].token,
    }
    for name, target in targets.get(route, {}).items():
        what, _, which = target.partition(":")
        if what == "spare":
            values[name] = world.spare[which]
        elif what == "link":
            values[name] = world.links[which].task_id
        else:
            values[name] = world.tasks[which]
    return route[1].format(**values)


def _form(token: str, action: str) -> dict[str, str]:
    return {"csrf_token": token, "form_key": uuid.uuid4().hex, **FORM_FIELDS.get(action, {})}


def _signed_form_token(world: World, kind: str) -> str:
    """The form token a page of this reader's console session carries ("" without one)."""
    return world.console[kind].page_token("/playbooks") if READERS[kind] else ""


def console_answer(world: World, route: RouteKey, kind: str, path: str) -> httpx.Response:
    method, template = route
    if template.startswith("/t/"):
        return link_answer(world, route, kind, path)
    if method == "GET":
        return world.console[kind].get(path)
    if route == ("POST", "/signin"):
        browser = world.fresh_console(kind)
        page = browser.get("/signin")
        token = form_token(page.text) if page.status_code == 200 else ""
        form = {"username": READERS[kind] or "nobody.here", "password": "not it"}
        return browser.post("/signin", {**form, "csrf_token": token})
    if route == ("POST", "/signout"):
        browser = world.fresh_console(kind)
        token = browser.page_token("/account") if READERS[kind] else ""
        return browser.post("/signout", {"csrf_token": token})
    assert template.startswith(("/tasks/", "/incidents")), route
    action = template.rsplit("/", 1)[1]
    return world.console[kind].post(path, _form(_signed_form_token(world, kind), action))


def live_answer(world: World, route: RouteKey, kind: str, path: str) -> Answer:
    """A live stream, listened to for a few seconds while the incident changes: every event
    that came (or the refusal, read whole)."""
    with world.console[kind].stream(path, quiet_for=LIVE_SECONDS) as got:
        if got.status_code != 200:
            got.read()
            return Answer(route, kind, got.status_code, got.text, got.headers.get("location", ""))
        change = threading.Timer(CHANGE_AFTER, world.touch)
        change.start()
        heard: list[str] = []
        until = time.monotonic() + LIVE_SECONDS
        try:
            for chunk in got.iter_text():
                heard.append(chunk)
                if time.monotonic() > until:
                    break
        except httpx.ReadTimeout:
            pass  # quiet since the last event
        change.join()
    return Answer(route, kind, 200, "".join(heard), "")


def link_answer(world: World, route: RouteKey, kind: str, path: str) -> httpx.Response:
    """An action link's pages: the link opened in a browser of its own (so that no other
    reader's browser holds its session afterwards); its forms with the link session's token
    for the partner, and with none (there is no link session to take it from) for anyone else."""
    method, template = route
    if template == "/t/{token}":
        return world.fresh_console(kind).get(path)
    if method == "GET":
        return world.console[kind].get(path)
    task_page, _, action = path.rpartition("/")
    if kind != LINK:
        return world.console[kind].post(path, _form("", action))
    purpose = "declined" if action == "decline" else "acted"
    browser: Browser = world.fresh_console(LINK, purpose)
    page = browser.get(task_page)
    assert page.status_code == 200, page.text
    return browser.post(path, _form(form_token(page.text), action))


def api_answer(world: World, route: RouteKey, kind: str, path: str) -> httpx.Response:
    body = BODIES.get(route)
    sent = body(world, kind) if body is not None else None
    # The partner's browser sends her link session's cookie: it must open nothing here.
    link = world.console[LINK].cookies.get(LINK_COOKIE) if kind == LINK else None
    headers = {"cookie": f"{LINK_COOKIE}={link}"} if link else None
    return world.api[kind](route[0], world.stack.base + path, json=sent, headers=headers)


def answer(world: World, route: RouteKey, kind: str, targets: Mapping[RouteKey, Any]) -> Answer:
    path = concrete(world, route, targets)
    if route[1].startswith("/live/"):
        return live_answer(world, route, kind, path)
    if route[1].startswith(API_PREFIXES):
        got = api_answer(world, route, kind, path)
    else:
        got = console_answer(world, route, kind, path)
    return Answer(route, kind, got.status_code, got.text, got.headers.get("location", ""))
