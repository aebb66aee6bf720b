"""Who gets what from every route of a real `pathways up`: a table written by hand of each
route × each kind of reader → the status they get, run over HTTP with an API token (the API)
or a console session (the pages); every route of the app must have its row; and a restricted
note of one team, holding a canary, is in no answer to anyone outside that team.

The expectations come from the policy (services/core/access.py, tests/unit/test_access_policy.py)
and are written out here rather than computed, so a change of who may do what shows up as a
change of this table. Readers, in the order each row is run (the ones refused first, so that
what an allowed reader changes cannot change their answer):

    anon     nobody (no token, no session)
    admin    an account granted admin (no roster member: reads no incident content)
    rev      an account granted reviewer
    other    dana.reyes, a responder of another team (community engagement), no task here
    cmd      renee.alvarez, command staff
    resp     aisha.grant, a peer support responder holding the incident's tasks
    link     helen.park, a partner, holding only the session her emailed action link opened

Console pages are asked with the reader's session cookie, console forms with their form token
too; a console page sends anyone not signed in to sign in (303 to /signin, checked below).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, cast

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry
from starlette.routing import Mount

from services.core.runtime import Runtime
from services.gateway.app import create_app
from services.gateway.console import Console
from services.gateway.console_keys import KEY_BYTES, ConsoleKeys
from services.gateway.context import GatewayContext
from tests.e2e.access_answers import API_PREFIXES, KINDS, Answer, RouteKey, answer
from tests.e2e.access_world import LINK, World, access_world

pytestmark = pytest.mark.e2e

Row = tuple[int, int, int, int, int, int, int]
ALL_200: Row = (200, 200, 200, 200, 200, 200, 200)
# A console page: whoever is signed in may open it; anyone else is sent to sign in.
SIGNED_IN: Row = (303, 200, 200, 200, 200, 200, 303)
# Every route of the app, by hand.       anon admin  rev other  cmd resp link
MATRIX: dict[RouteKey, Row] = {
    ("POST", "/api/v1/incidents"): (401, 403, 403, 403, 201, 403, 401),
    ("GET", "/api/v1/incidents"): (401, 403, 200, 403, 200, 403, 401),
    ("GET", "/api/v1/incidents/{incident_id}"): (401, 403, 200, 403, 200, 200, 401),
    ("GET", "/api/v1/incidents/{incident_id}/timeline"): (401, 403, 200, 403, 200, 403, 401),
    # The public report (the default audience): whoever reads the timeline, and administrators.
    ("GET", "/api/v1/incidents/{incident_id}/report"): (401, 200, 200, 403, 200, 403, 401),
    ("POST", "/api/v1/incidents/{incident_id}/close"): (401, 403, 403, 403, 200, 403, 401),
    ("POST", "/api/v1/incidents/{incident_id}/playbook"): (401, 403, 403, 403, 200, 403, 401),
    ("POST", "/api/v1/incidents/{incident_id}/playbook/cancel"): (
        401,
        403,
        403,
        403,
        200,
        403,
        401,
    ),  # fmt: skip
    # The improvement plan: command staff and reviewers record and read it.
    ("POST", "/api/v1/incidents/{incident_id}/findings"): (401, 403, 200, 403, 200, 403, 401),
    ("GET", "/api/v1/incidents/{incident_id}/findings"): (401, 403, 200, 403, 200, 403, 401),
    ("POST", "/api/v1/incidents/{incident_id}/actions"): (401, 403, 200, 403, 200, 403, 401),
    ("GET", "/api/v1/incidents/{incident_id}/actions"): (401, 403, 200, 403, 200, 403, 401),
    ("GET", "/api/v1/tasks"): (401, 403, 200, 200, 200, 200, 401),
    ("GET", "/api/v1/tasks/{task_id}"): (401, 403, 200, 403, 200, 200, 401),
    # Only the assignee acts on a task.
    ("POST", "/api/v1/tasks/{task_id}/acknowledge"): (401, 403, 403, 403, 403, 200, 401),
    ("POST", "/api/v1/tasks/{task_id}/start"): (401, 403, 403, 403, 403, 200, 401),
    ("POST", "/api/v1/tasks/{task_id}/complete"): (401, 403, 403, 403, 403, 200, 401),
    ("POST", "/api/v1/tasks/{task_id}/decline"): (401, 403, 403, 403, 403, 200, 401),
    ("POST", "/api/v1/tasks/{task_id}/assign"): (401, 403, 403, 403, 200, 403, 401),
    ("POST", "/api/v1/tasks/{task_id}/claim"): (401, 403, 403, 403, 403, 200, 401),
    ("POST", "/api/v1/tasks/{task_id}/notes"): (401, 403, 403, 403, 200, 200, 401),
    ("GET", "/api/v1/review/metrics"): (401, 200, 200, 403, 200, 403, 401),
    ("GET", "/api/v1/playbooks"): (401, 200, 200, 200, 200, 200, 401),
    ("GET", "/api/v1/playbooks/{playbook_id}"): (401, 200, 200, 200, 200, 200, 401),
    ("GET", "/api/v1/roster"): (401, 200, 200, 200, 200, 200, 401),
    ("POST", "/api/v1/roster"): (401, 200, 403, 403, 200, 403, 401),
    # Aisha's own away periods: she, command staff and administrators may record them.
    ("POST", "/api/v1/roster/away"): (401, 200, 403, 403, 200, 200, 401),
    ("POST", "/api/v1/roster/back"): (401, 200, 403, 403, 200, 200, 401),
    ("GET", "/api/v1/me"): (401, 200, 200, 200, 200, 200, 401),
    # An inbox is a roster member's: accounts that are none have no inbox to read.
    ("GET", "/api/v1/me/inbox"): (401, 403, 403, 200, 200, 200, 401),
    ("GET", "/api/v1/me/tokens"): (401, 200, 200, 200, 200, 200, 401),
    ("POST", "/api/v1/me/tokens"): (401, 201, 201, 201, 201, 201, 401),
    # Aisha's token: anyone else is told there is no such token of theirs.
    ("DELETE", "/api/v1/me/tokens/{token_id}"): (401, 404, 404, 404, 404, 200, 401),
    # Signing in for a token needs no token: everyone sends Aisha's password.
    ("POST", "/api/v1/session/token"): (201, 201, 201, 201, 201, 201, 201),
    ("GET", "/api/v1/asyncapi.json"): ALL_200,
    ("GET", "/api/v1/openapi.json"): ALL_200,
    ("GET", "/healthz"): ALL_200,
    ("GET", "/readyz"): ALL_200,
    ("GET", "/metrics"): ALL_200,
    ("GET", "/static/{path}"): ALL_200,
    # The console: anyone not signed in is sent to sign in (303). The board lists incidents,
    # so it is for command staff and reviewers; anyone else is sent on to their tasks (303).
    ("GET", "/"): (303, 303, 200, 303, 200, 303, 303),
    ("GET", "/fragments/board"): (303, 403, 200, 403, 200, 403, 303),
    ("GET", "/live/board"): (303, 403, 200, 403, 200, 403, 303),
    ("GET", "/account"): SIGNED_IN,
    ("GET", "/incidents/new"): (303, 403, 403, 403, 200, 403, 303),
    ("POST", "/incidents"): (303, 403, 403, 403, 303, 403, 303),
    # An incident's page: whoever reads every incident, and a responder holding a task in it.
    ("GET", "/incidents/{incident_id}"): (303, 403, 200, 403, 200, 200, 303),
    ("GET", "/fragments/incidents/{incident_id}"): (303, 403, 200, 403, 200, 200, 303),
    ("GET", "/live/incidents/{incident_id}"): (303, 403, 200, 403, 200, 200, 303),
    ("POST", "/incidents/{incident_id}/trigger"): (303, 403, 403, 403, 303, 403, 303),
    ("POST", "/incidents/{incident_id}/close"): (303, 403, 403, 403, 303, 403, 303),
    ("POST", "/tasks/{task_id}/assign"): (303, 403, 403, 403, 303, 403, 303),
    # Every task change, told without ids: for anyone signed in.
    ("GET", "/live/my"): SIGNED_IN,
    ("GET", "/signin"): (200, 303, 303, 303, 303, 303, 200),
    # A wrong password from the sign-in form (401); a signed-in browser has no sign-in form
    # (it was sent on), so no form token: refused (403).
    ("POST", "/signin"): (401, 403, 403, 403, 403, 403, 401),
    # Signing out with the page's token (a session of its own, so the others stay); nobody
    # signed in is sent to sign in.
    ("POST", "/signout"): (303, 303, 303, 303, 303, 303, 303),
    # Only where an OpenID Connect provider is configured (tests/e2e/test_oidc.py): not here.
    ("GET", "/signin/oidc"): (404, 404, 404, 404, 404, 404, 404),
    ("GET", "/signin/oidc/callback"): (404, 404, 404, 404, 404, 404, 404),
    # My tasks: an administrator (no roster member) has none, and sees an empty list.
    ("GET", "/my"): SIGNED_IN,
    ("GET", "/fragments/my"): SIGNED_IN,
    ("GET", "/tasks/{task_id}"): (303, 403, 200, 403, 200, 200, 303),
    # A task's forms, as the API's: a refusal is the task's page (or a refusal page) with the
    # status of the refusal; done is 303 to the task.
    ("POST", "/tasks/{task_id}/acknowledge"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/tasks/{task_id}/start"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/tasks/{task_id}/complete"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/tasks/{task_id}/decline"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/tasks/{task_id}/claim"): (303, 403, 403, 403, 403, 303, 303),
    ("POST", "/tasks/{task_id}/notes"): (303, 403, 403, 403, 303, 303, 303),
    ("GET", "/incidents/{incident_id}/timeline"): (303, 403, 200, 403, 200, 403, 303),
    # Its after-action report, for the highest audience the reader may have (the policy's
    # READ_REPORT: administrators and reviewers the full one, command staff theirs), on a page
    # and as a file; responders get none.
    ("GET", "/incidents/{incident_id}/report"): (303, 200, 200, 403, 200, 403, 303),
    ("GET", "/incidents/{incident_id}/report.html"): (303, 200, 200, 403, 200, 403, 303),
    # Response metrics across incidents: figures, no incident's text.
    ("GET", "/review/metrics"): (303, 200, 200, 403, 200, 403, 303),
    ("GET", "/playbooks"): SIGNED_IN,
    ("GET", "/playbooks/{playbook_id}"): SIGNED_IN,
    ("GET", "/on-call"): SIGNED_IN,
    # The link itself is the credential: whoever opens it gets its session. Only that session
    # opens the task's page and forms; a console session is no link session (403).
    ("GET", "/t/{token}"): (303, 303, 303, 303, 303, 303, 303),
    ("GET", "/t/task/{task_id}"): (403, 403, 403, 403, 403, 403, 200),
    ("POST", "/t/task/{task_id}/acknowledge"): (403, 403, 403, 403, 403, 403, 303),
    ("POST", "/t/task/{task_id}/complete"): (403, 403, 403, 403, 403, 403, 303),
    ("POST", "/t/task/{task_id}/decline"): (403, 403, 403, 403, 403, 403, 303),
    ("GET", "/t/done"): ALL_200,
}
# Where the code answers otherwise than the policy says it should: (route, reader) -> (what it
# answers now, why). Each is a fault to fix in the code, not in MATRIX; once fixed, its entry here
# fails the test until it is removed.
DISAGREES: dict[tuple[RouteKey, str], tuple[int, str]] = {}
# Which record each row is about, where it is not the incident and the task Aisha works on.
TARGETS: dict[RouteKey, dict[str, str]] = {
    ("POST", "/api/v1/incidents/{incident_id}/close"): {"incident_id": "spare:close"},
    ("POST", "/api/v1/incidents/{incident_id}/playbook"): {"incident_id": "spare:trigger"},
    ("POST", "/api/v1/incidents/{incident_id}/playbook/cancel"): {"incident_id": "spare:cancel"},
    ("POST", "/api/v1/tasks/{task_id}/acknowledge"): {"task_id": "task:worked"},
    ("POST", "/api/v1/tasks/{task_id}/start"): {"task_id": "task:worked"},
    ("POST", "/api/v1/tasks/{task_id}/complete"): {"task_id": "task:worked"},
    ("POST", "/api/v1/tasks/{task_id}/decline"): {"task_id": "task:declined"},
    ("POST", "/tasks/{task_id}/acknowledge"): {"task_id": "task:form_worked"},
    ("POST", "/tasks/{task_id}/start"): {"task_id": "task:form_worked"},
    ("POST", "/tasks/{task_id}/complete"): {"task_id": "task:form_worked"},
    ("POST", "/tasks/{task_id}/decline"): {"task_id": "task:form_declined"},
    ("POST", "/incidents/{incident_id}/trigger"): {"incident_id": "spare:form_trigger"},
    ("POST", "/incidents/{incident_id}/close"): {"incident_id": "spare:form_close"},
    ("GET", "/t/task/{task_id}"): {"task_id": "link:acted"},
    ("POST", "/t/task/{task_id}/acknowledge"): {"task_id": "link:acted"},
    ("POST", "/t/task/{task_id}/complete"): {"task_id": "link:acted"},
    ("POST", "/t/task/{task_id}/decline"): {"task_id": "link:declined"},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with access_world(tmp_path_factory.mktemp("access")) as made:
        yield made


@pytest.fixture(scope="module")
def answers(world: World) -> list[Answer]:
    """Every row, each reader in turn (the order of READERS)."""
    return [answer(world, route, kind, TARGETS) for route in MATRIX for kind in KINDS]


def test_every_route_answers_each_reader_as_the_table_says(answers: list[Answer]) -> None:
    wrong = []
    for got in answers:
        expected = MATRIX[got.route][KINDS.index(got.kind)]
        known = DISAGREES.get((got.route, got.kind))
        if known is not None:
            if got.status == expected:
                wrong.append(f"{got.route} as {got.kind} now agrees: remove it from DISAGREES")
            expected = known[0]
        if got.status != expected:
            method, template = got.route
            wrong.append(
                f"{method} {template} as {got.kind}: {got.status}, expected {expected}: "
                f"{got.body[:160]!r}"
            )
    assert not wrong, "\n".join(wrong)


def test_the_console_sends_whoever_is_not_signed_in_to_sign_in(answers: list[Answer]) -> None:
    """A console page or form answers nobody (or a partner holding only a link session) with
    a 303 to the sign-in page; a form that was done, with a 303 to its task or incident."""
    wrong = []
    for got in answers:
        method, template = got.route
        if got.status != 303 or template.startswith((*API_PREFIXES, "/t/", "/signin")):
            continue
        if got.kind in ("anonymous", LINK):
            if not got.location.startswith("/signin"):
                wrong.append(f"{method} {template} as {got.kind} -> {got.location}")
        elif method == "POST" and template != "/signout":
            if not got.location.startswith(("/tasks/", "/incidents/")):
                wrong.append(f"{method} {template} as {got.kind} done -> {got.location}")
        elif template == "/" and got.location != "/my":
            wrong.append(f"GET / as {got.kind} -> {got.location}")
    assert not wrong, "\n".join(wrong)


LIVE_DATA = re.compile(r"^data: ?(.*)$", re.MULTILINE)
ID_ONLY = re.compile(r"^(INC-[0-9A-Z]+(\.[a-z0-9-]+)?|changed)$")


def test_live_streams_tell_of_changes_by_id_and_nothing_else(answers: list[Answer]) -> None:
    """Each stream a reader may open told of the change made while it was heard, with an id
    (My tasks: not even that), never a word of what changed."""
    heard = [a for a in answers if a.route[1].startswith("/live/") and a.status == 200]
    assert {a.route for a in heard} == {r for r in MATRIX if r[1].startswith("/live/")}
    for got in heard:
        data = [d.strip() for d in LIVE_DATA.findall(got.body)]
        assert data, f"{got.route[1]} as {got.kind}: no event in {got.body!r}"
        assert all(ID_ONLY.match(d) for d in data), (got.route[1], got.kind, data)
        if got.route[1] == "/live/my":
            assert set(data) == {"changed"}, (got.kind, data)


def test_a_restricted_note_is_in_no_answer_to_another_team(
    world: World, answers: list[Answer]
) -> None:
    leaks = [
        f"{a.route[0]} {a.route[1]} as {a.kind}"
        for a in answers
        if a.kind != "responder" and world.canary in a.body
    ]
    assert not leaks, f"{world.canary} reached: {leaks}"
    # It is there to be found: her team reads it (so the search above could find it).
    seen = {a.route for a in answers if a.kind == "responder" and world.canary in a.body}
    assert ("GET", "/api/v1/tasks/{task_id}") in seen, seen
    assert ("GET", "/tasks/{task_id}") in seen, seen  # the console's page of the task too
    assert world.canary not in world.stack.service.log_text()


def test_the_report_reads_as_the_highest_audience_and_downloads_as_a_file(
    world: World, answers: list[Answer]
) -> None:
    """Each reader's report page is their highest audience; a higher one is refused; the file
    is an attachment with its own policy (its inline stylesheet, nothing else); only those who
    may read a report find a link to it on the incident's page."""
    report = f"/incidents/{world.incident}/report"
    got = {(a.route[1], a.kind): a for a in answers}
    assert "Reviewers: every task" in got[("/incidents/{incident_id}/report", "reviewer")].body
    assert "Command staff: public" in got[("/incidents/{incident_id}/report", "command")].body
    command = world.console["command"]
    assert command.get(f"{report}?audience=full").status_code == 403
    lower = command.get(f"{report}?audience=public")
    assert lower.status_code == 200 and "Public: public tasks" in lower.text
    assert command.get(f"{report}?audience=everyone").status_code == 400
    downloaded = world.console["reviewer"].get(f"{report}.html?audience=command")
    assert downloaded.status_code == 200, downloaded.text
    assert downloaded.headers["content-disposition"].startswith("attachment; filename=")
    policy = downloaded.headers["content-security-policy"]
    assert "style-src 'unsafe-inline'" in policy and "script" not in policy, policy
    assert "<style>" in downloaded.text and "Command staff: public" in downloaded.text
    link = f'href="{report}"'
    assert link in got[("/incidents/{incident_id}", "command")].body
    assert link in got[("/incidents/{incident_id}", "reviewer")].body
    assert link not in got[("/incidents/{incident_id}", "responder")].body


def app_routes() -> set[RouteKey]:
    """(method, template) of every route the gateway's app has, the console's and the
    OpenID Connect sign-in's included, read from the app itself."""
    keys = ConsoleKeys(bytes(KEY_BYTES))
    console = cast(Console, _ConsoleStandIn(keys))
    context = GatewayContext(
        rt=cast(Runtime, None), metrics=CollectorRegistry(), readiness=[], console=console
    )
    app: Any = create_app(context)
    while not isinstance(app, FastAPI):
        app = app.app
    found: set[RouteKey] = set()
    # FastAPI 0.165 keeps included routers whole; this walks them, prefixes joined.
    for route in iter_route_contexts(app.routes):
        assert route.path is not None, route
        if isinstance(route.original_route, Mount):
            found.add(("GET", route.path + "/{path}"))
        else:
            found.update((m, route.path) for m in route.methods or () if m != "HEAD")
    return found


@dataclass
class _ConsoleStandIn:
    """What `create_app` reads of the console: its keys, and an OpenID Connect client (any
    object), so that the provider's routes are in the table too."""

    keys: ConsoleKeys
    oidc: object = object()


def test_every_route_of_the_app_has_a_row() -> None:
    routes = app_routes()
    missing = sorted(routes - set(MATRIX))
    assert not missing, "routes with no row in MATRIX: " + ", ".join(f"{m} {p}" for m, p in missing)
    gone = sorted(set(MATRIX) - routes)
    assert not gone, "rows of MATRIX for no route: " + ", ".join(f"{m} {p}" for m, p in gone)
