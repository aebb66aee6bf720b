"""The HTTP API of a real `pathways up`, called with API tokens the way a script would: every
route with a token of the right role, refusals as problem details, Idempotency-Key, pages with
a Link header, and restricted notes opened only for their author's team."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from schemas.api import PROBLEM_MEDIA_TYPE
from tests.e2e.api_support import PASSWORD, Api, ApiStack, api_stack, tasks_of
from tests.e2e.harness import playbook_tasks, wait_for

pytestmark = pytest.mark.e2e

TASKS = len(playbook_tasks())
RENEE, JAMES = "renee.alvarez", "james.thornton"  # command staff
AISHA, TOM = "aisha.grant", "tom.kowalski"  # peer support, one team
HIDDEN = "[restricted: visible to Peer Support Team only]"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiStack]:
    with api_stack(tmp_path_factory.mktemp("api")) as running:
        yield running


def log(api: Api, title: str, key: str | None = None, **fields: Any) -> Any:
    headers = {"Idempotency-Key": key} if key else None
    body = {"incident_type": "officer-involved-shooting", "title": title, **fields}
    return api("POST", "/incidents", json=body, headers=headers)


def problem_of(answer: Any, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM_MEDIA_TYPE
    found: dict[str, Any] = answer.json()
    assert (found["status"], found["code"], found["title"]) == (status, code, found["title"])
    return found


def task(tasks: list[dict[str, Any]], key: str) -> str:
    found: str = next(t["task_id"] for t in tasks if t["key"] == key)
    return found


def test_a_repeated_post_with_one_key_logs_one_incident(stack: ApiStack) -> None:
    renee, james = stack.as_user(RENEE), stack.as_user(JAMES)
    title, key = f"Once {uuid.uuid4().hex[:8]}", str(uuid.uuid4())
    first = log(renee, title, key)
    assert first.status_code == 201, first.text
    incident = first.json()["data"]["incident"]
    assert first.json()["changed"] is True
    assert first.headers["location"] == f"/api/v1/incidents/{incident['incident_id']}"

    again = log(renee, title, key)
    assert again.status_code == 200 and again.json()["changed"] is False
    assert again.json()["data"]["incident"]["incident_id"] == incident["incident_id"]
    other = problem_of(log(renee, title + " (edited)", key), 422, "invalid_request")
    assert "Idempotency-Key" in other["detail"]
    # Another account's same key is another request.
    theirs = log(james, title, key)
    assert theirs.status_code == 201
    assert theirs.json()["data"]["incident"]["incident_id"] != incident["incident_id"]

    def listed() -> list[str] | None:
        items = renee.get("/incidents", params={"limit": 500})["items"]
        titles = [i["title"] for i in items if i["title"] == title]
        return titles if len(titles) >= 2 else None

    assert wait_for(listed, 10, "both incidents listed") == [title, title]  # one each
    assert renee.get(f"/incidents/{incident['incident_id']}")["title"] == title


def test_refusals_are_problems(stack: ApiStack) -> None:
    renee, aisha = stack.as_user(RENEE), stack.as_user(AISHA)
    anonymous = stack.anonymous()
    missing = anonymous("GET", "/me")
    problem_of(missing, 401, "unauthenticated")
    assert missing.headers["www-authenticate"] == "Bearer"
    forged = Api(stack.base, "pwt_0123456789abcdef_" + "x" * 43)
    problem_of(forged("GET", "/tasks"), 401, "unauthenticated")
    assert "www-authenticate" in forged("GET", "/me").headers

    problem_of(log(aisha, "Not mine to log"), 403, "forbidden")
    problem_of(aisha("GET", "/incidents"), 403, "forbidden")
    problem_of(renee("GET", "/tasks/INC-00000000.nothing-here"), 404, "not_found")
    problem_of(renee("GET", "/incidents/INC-00000000"), 404, "not_found")
    invalid = problem_of(renee("POST", "/incidents", json={"title": ""}), 422, "invalid_request")
    assert {e["field"] for e in invalid["errors"]} == {"body.incident_type", "body.title"}
    problem_of(renee("POST", "/incidents", json={"actor": "x"}), 422, "invalid_request")
    problem_of(renee("GET", "/tasks", params={"limit": 501}), 422, "invalid_request")
    problem_of(renee("GET", "/tasks", params={"cursor": "nope"}), 422, "invalid_request")

    incident_id = log(renee, "Closed early").json()["data"]["incident"]["incident_id"]
    tasks = tasks_of(renee, incident_id, TASKS)
    taken = next(t for t in tasks if t["assignee"] not in (None, AISHA))
    claimed = aisha("POST", f"/tasks/{taken['task_id']}/claim")
    assert claimed.status_code in (403, 409), claimed.text
    renee.post(f"/incidents/{incident_id}/close", {"reason": "Logged by mistake"})
    again = renee("POST", f"/incidents/{incident_id}/playbook", json={"playbook_id": "hate-crime"})
    problem_of(again, 409, "invalid_transition")


def test_command_staff_run_the_response_and_responders_work_their_tasks(stack: ApiStack) -> None:
    renee, aisha = stack.as_user(RENEE), stack.as_user(AISHA)
    logged = log(renee, "Through the API").json()["data"]
    assert logged["automatic_playbook"] == "officer-involved-shooting"
    incident_id = logged["incident"]["incident_id"]
    tasks = tasks_of(renee, incident_id, TASKS)
    defusing = task(tasks, "peer-support-defusing")
    assert renee.get(f"/tasks/{defusing}")["task_id"] == defusing

    assigned = renee.post(f"/tasks/{defusing}/assign", {"to": AISHA})["data"]
    assert assigned["assignee"] == AISHA
    for verb, status in (("acknowledge", "acknowledged"), ("start", "in_progress")):
        done = aisha.post(f"/tasks/{defusing}/{verb}")
        assert (done["changed"], done["data"]["status"]) == (True, status)
    claimed = aisha.post(f"/tasks/{defusing}/claim")  # hers already
    assert (claimed["changed"], claimed["data"]["assignee"]) == (False, AISHA)
    noted = aisha.post(f"/tasks/{defusing}/notes", {"text": "Met the team", "tier": "public"})
    assert noted["data"]["notes"][-1]["text"] == "Met the team"
    completed = aisha.post(f"/tasks/{defusing}/complete", {"note": "Defusing held"})["data"]
    assert (completed["status"], completed["note"]) == ("completed", "Defusing held")
    mine = aisha.get("/tasks", params={"assignee": AISHA, "incident": incident_id})["items"]
    assert defusing in [t["task_id"] for t in mine]

    family = task(tasks, "officer-family-support")
    renee.post(f"/tasks/{family}/assign", {"to": AISHA})
    declined = aisha.post(f"/tasks/{family}/decline", {"reason": "Off shift"})
    assert declined["changed"] is True and AISHA in declined["data"]["declined_by"]

    timeline = renee.get(f"/incidents/{incident_id}/timeline")
    assert timeline["incident"]["incident_id"] == incident_id
    assert any(e["type"] == "task.completed" for e in timeline["entries"])
    completed = renee.get(
        f"/incidents/{incident_id}/timeline", params={"type": ["task.completed"]}
    )["entries"]
    assert completed and {e["type"] for e in completed} == {"task.completed"}
    assert len(completed) < len(timeline["entries"])
    cancelled = renee.post(f"/incidents/{incident_id}/playbook/cancel", {"reason": "Wrong one"})
    assert cancelled["data"]["playbook_id"] == "officer-involved-shooting"
    second = renee.post(f"/incidents/{incident_id}/playbook", {"playbook_id": "hate-crime"})
    assert (second["data"]["run"], second["data"]["trigger"]) == (2, "manual")
    closed = renee.post(f"/incidents/{incident_id}/close", {"reason": "Response over"})
    assert closed["data"] == {"incident_id": incident_id, "closed_by": RENEE}


def test_a_restricted_note_opens_for_its_team_only(stack: ApiStack) -> None:
    renee, aisha, tom = stack.as_user(RENEE), stack.as_user(AISHA), stack.as_user(TOM)
    incident_id = log(renee, "Sealed through the API").json()["data"]["incident"]["incident_id"]
    defusing = task(tasks_of(renee, incident_id, TASKS), "peer-support-defusing")
    # Tom has it first and declines it: having declined it, he may still read it.
    renee.post(f"/tasks/{defusing}/assign", {"to": TOM})
    tom.post(f"/tasks/{defusing}/decline", {"reason": "With another officer"})
    renee.post(f"/tasks/{defusing}/assign", {"to": AISHA})
    secret = f"Officer asked for a chaplain {uuid.uuid4().hex[:6]}"
    written = aisha.post(f"/tasks/{defusing}/notes", {"text": secret, "tier": "restricted"})
    assert written["data"]["notes"][-1]["text"] == secret

    assert tom.get(f"/tasks/{defusing}")["notes"][-1]["text"] == secret
    seen_by_command = renee.get(f"/tasks/{defusing}")["notes"][-1]
    assert (seen_by_command["text"], seen_by_command.get("sealed")) == (HIDDEN, None)
    entries = renee.get(f"/incidents/{incident_id}/timeline")["entries"]
    noted = [e for e in entries if e["type"] == "task.noted"]
    assert noted and all(e["note"] != secret and e.get("note_sealed") is None for e in noted)
    assert secret not in stack.service.log_text()


def test_pages_of_tasks_follow_the_link_header(stack: ApiStack) -> None:
    renee = stack.as_user(RENEE)
    incidents = [
        log(renee, f"Paging {n}").json()["data"]["incident"]["incident_id"] for n in range(8)
    ]
    expected = {t["task_id"] for i in incidents for t in tasks_of(renee, i, TASKS)}
    assert len(expected) == 8 * TASKS > 120

    seen: list[str] = []
    answer = renee("GET", "/tasks", params={"limit": 50})
    pages = 0
    while True:
        assert answer.status_code == 200, answer.text
        page = answer.json()
        pages += 1
        seen += [t["task_id"] for t in page["items"]]
        if page["next_cursor"] is None:
            assert "link" not in answer.headers
            break
        link = answer.headers["link"]
        assert link.endswith('>; rel="next"') and f"cursor={page['next_cursor']}" in link
        answer = renee("GET", stack.base + link[1 : link.index(">")])
    assert len(seen) == len(set(seen)) and expected <= set(seen)
    assert pages >= 3


def test_playbooks_roster_and_away_periods(stack: ApiStack) -> None:
    renee, aisha = stack.as_user(RENEE), stack.as_user(AISHA)
    admin = stack.as_user("e2e-admin", "admin")
    books = renee.get("/playbooks")
    assert "officer-involved-shooting" in [b["id"] for b in books]
    shown = renee.get("/playbooks/officer-involved-shooting")
    version = shown["info"]["version"]
    pinned = renee.get("/playbooks/officer-involved-shooting", params={"version": version})
    assert pinned["source"] == shown["source"] and pinned["playbook"]["id"] == shown["info"]["id"]

    roster = renee.get("/roster")

    def kinds(shown: dict[str, Any]) -> set[str]:
        return {c["kind"] for m in shown["roster"]["members"] for c in m.get("channels", [])}

    assert kinds(roster) == {"inbox"}  # addresses are for administrators
    full = admin.get("/roster")
    assert "email" in kinds(full)
    loaded = admin.post("/roster", {"roster": full["roster"], "source": "e2e"})["data"]
    assert loaded["version"] == full["version"]

    period = {"person": AISHA, "starts": "2031-01-01T00:00:00Z", "until": "2031-01-08T00:00:00Z"}
    away = aisha.post("/roster/away", period)
    assert away["changed"] is True and away["data"]["recorded_by"] == AISHA
    problem_of(aisha("POST", "/roster/away", json={**period, "person": TOM}), 403, "forbidden")
    back = aisha.post("/roster/back", {"person": AISHA})
    assert back["data"]["id"] == AISHA


def test_me_tokens_inbox_and_a_password_for_a_token(stack: ApiStack) -> None:
    aisha = stack.as_user(AISHA)
    assert aisha.get("/me") == {
        "account": AISHA, "person": AISHA, "grants": [], "roles": ["responder"]
    }  # fmt: skip
    inbox = aisha.get("/me/inbox", params={"limit": 5})
    assert set(inbox) == {"items", "next_cursor", "remaining", "remaining_exact"}

    created = aisha("POST", "/me/tokens", json={"name": "script"})
    assert created.status_code == 201
    fresh = created.json()
    second = Api(stack.base, fresh["token"])
    assert second.get("/me")["account"] == AISHA
    listed = aisha.get("/me/tokens")
    assert fresh["id"] in [t["id"] for t in listed] and all("token" not in t for t in listed)
    revoked = aisha.ok("DELETE", f"/me/tokens/{fresh['id']}")
    assert revoked["revoked_at"] is not None
    problem_of(second("GET", "/me"), 401, "unauthenticated")
    problem_of(aisha("DELETE", "/me/tokens/0123456789abcdef"), 404, "not_found")

    anonymous = stack.anonymous()
    signed_in = anonymous.post("/session/token", {"username": AISHA, "password": PASSWORD})
    assert Api(stack.base, signed_in["token"]).get("/me")["account"] == AISHA
    wrong = {"username": AISHA, "password": PASSWORD + "!"}
    problem_of(anonymous("POST", "/session/token", json=wrong), 401, "unauthenticated")
    nobody = {"username": "nobody-here", "password": PASSWORD}
    problem_of(anonymous("POST", "/session/token", json=nobody), 401, "unauthenticated")

    document = anonymous.get("/asyncapi.json")
    assert document["asyncapi"].startswith("3.") and "pw.cmd.task.act" in document["channels"]


def test_the_inbox_fills_as_tasks_are_assigned(stack: ApiStack) -> None:
    renee, tom = stack.as_user(RENEE), stack.as_user(TOM)
    incident_id = log(renee, "Inbox").json()["data"]["incident"]["incident_id"]
    wider = task(tasks_of(renee, incident_id, TASKS), "peer-support-wider-team")
    renee.post(f"/tasks/{wider}/assign", {"to": TOM})

    def arrived() -> list[Any] | None:
        items = tom.get("/me/inbox", params={"limit": 500})["items"]
        return [i for i in items if i["task_id"] == wider] or None

    assert wait_for(arrived, 20, "Tom's notice")[0]["recipient_id"] == TOM


def test_password_sign_in_for_a_token_is_throttled_like_the_sign_in_page(stack: ApiStack) -> None:
    # Nobody else in this module signs in as this member, so its counter is this test's own.
    guessed = "miguel.santos"
    anonymous = stack.anonymous()
    wrong = {"username": guessed, "password": "not-" + PASSWORD}
    for _ in range(5):
        problem_of(anonymous("POST", "/session/token", json=wrong), 401, "unauthenticated")
    refused = anonymous("POST", "/session/token", json={"username": guessed, "password": PASSWORD})
    assert refused.status_code == 429, refused.text
    assert refused.headers["content-type"] == PROBLEM_MEDIA_TYPE
    assert 0 < int(refused.headers["retry-after"]) <= 15 * 60
    assert "token" not in refused.json()
