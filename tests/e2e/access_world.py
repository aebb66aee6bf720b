"""What the access matrix reads and acts on: a real `pathways up` with demo accounts, a reader of
each kind holding an API token and a console session, an incident with tasks given to a
responder, a restricted note of her team holding a canary, and a partner's tasks with the
action links her emails carry."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.e2e.api_support import Api, tasks_of
from tests.e2e.console_client import Browser
from tests.e2e.demo_stack import (
    ADMIN,
    DEMO_PASSWORD,
    REVIEWER,
    DemoStack,
    MailedLink,
    demo_stack,
)
from tests.e2e.harness import playbook_tasks, wait_for

COMMAND, RESPONDER, OTHER_TEAM = "renee.alvarez", "aisha.grant", "dana.reyes"
PARTNER, PARTNER_ADDRESS = "helen.park", "helen.park@example.org"
LINK = "link"
# Who each kind of reader is: command staff (office of the chief), a responder of the peer
# support team, a responder of the community engagement team holding no task in the incident,
# an account granted reviewer, one granted admin, nobody at all, and a partner (Northstar
# Wellness, no account used) holding only the session her action link opened.
READERS: dict[str, str | None] = {
    "anonymous": None,
    "admin": ADMIN,
    "reviewer": REVIEWER,
    "other_team": OTHER_TEAM,
    "command": COMMAND,
    "responder": RESPONDER,
    LINK: None,
}
# Someone else of the community engagement team, who takes over the other team's tasks.
STAND_IN = "marcus.bell"
PLAYBOOK = "officer-involved-shooting"


@dataclass
class World:
    stack: DemoStack
    api: dict[str, Api]  # by reader kind
    console: dict[str, Browser]  # by reader kind, signed in (anonymous: not)
    incident: str  # the incident the responder works in
    tasks: dict[str, str]  # what each task is for -> task id
    spare: dict[str, str]  # incidents a command may end or change -> incident id
    token_id: str  # one of the responder's API tokens, to revoke
    canary: str
    links: dict[str, MailedLink]  # what each of the partner's tasks is for -> its link
    opened: list[Browser] = field(default_factory=list)

    def touch(self) -> None:
        """A change to the incident the responder works in (a public note on her task), for
        the live streams to tell of."""
        note = {"text": f"A change to hear of ({uuid.uuid4().hex[:8]})", "tier": "public"}
        self.api["responder"].post(f"/tasks/{self.tasks['noted']}/notes", note)

    def fresh_console(self, kind: str, link: str = "acted") -> Browser:
        """A browser of its own for `kind` (one that signs out ends only its own session); the
        partner's has opened the link of her task `link`."""
        browser = Browser(self.stack.base)
        self.opened.append(browser)
        person = READERS[kind]
        if person is not None:
            assert browser.sign_in(person, DEMO_PASSWORD).status_code == 303
        if kind == LINK:
            opened = browser.get(f"/t/{self.links[link].token}")
            assert opened.status_code == 303, opened.text
        return browser


def log(api: Api, title: str, auto: bool) -> str:
    body = {"incident_type": PLAYBOOK, "title": title, "auto_trigger": auto}
    incident_id: str = api.post("/incidents", body)["data"]["incident"]["incident_id"]
    return incident_id


def by_key(tasks: list[dict[str, Any]], key: str) -> str:
    found: str = next(t["task_id"] for t in tasks if t["key"] == key)
    return found


def theirs(task: dict[str, Any], person: str) -> dict[str, Any] | None:
    return task if task["assignee"] == person else None


def give(command: Api, task: dict[str, Any], person: str) -> None:
    """The task to `person`, unless it is theirs already."""
    if task["assignee"] != person:
        command.post(f"/tasks/{task['task_id']}/assign", {"to": person})


def give_tasks(command: Api, incident: str) -> dict[str, str]:
    """Three peer-support tasks to the responder; the other team's tasks to a stand-in, so
    that its responder holds none in this incident."""
    tasks = tasks_of(command, incident, len(playbook_tasks()))
    mine = {
        "noted": by_key(tasks, "peer-support-defusing"),
        "worked": by_key(tasks, "peer-support-wider-team"),
        "declined": by_key(tasks, "officer-family-support"),
    }
    for task_id in mine.values():
        command.post(f"/tasks/{task_id}/assign", {"to": RESPONDER})
    for task in tasks:
        if task["assignee"] == OTHER_TEAM:
            command.post(f"/tasks/{task['task_id']}/assign", {"to": STAND_IN})
    return mine


def form_tasks(command: Api) -> dict[str, str]:
    """The responder's tasks the console's forms act on, in an incident of their own (the
    API's rows act on the first incident's)."""
    incident = log(command, "Console forms", auto=True)
    tasks = tasks_of(command, incident, len(playbook_tasks()))
    found = {
        "form_worked": by_key(tasks, "peer-support-wider-team"),
        "form_declined": by_key(tasks, "officer-family-support"),
    }
    for task_id in found.values():
        command.post(f"/tasks/{task_id}/assign", {"to": RESPONDER})
    return found


def partner_links(stack: DemoStack, command: Api) -> dict[str, MailedLink]:
    """Two tasks given to the partner, each in an incident of its own, and the links from the
    emails that told her: one to act on (acknowledge, complete), one to decline."""
    links = {}
    for purpose in ("acted", "declined"):
        incident = log(command, f"Partner {purpose}", auto=True)
        tasks = tasks_of(command, incident, len(playbook_tasks()))
        task = next(t for t in tasks if t["key"] == "peer-support-defusing")
        give(command, task, PARTNER)
        path = f"/tasks/{task['task_id']}"
        held = wait_for(lambda: theirs(command.get(path), PARTNER), 20, "her task")  # noqa: B023
        links[purpose] = stack.mailed_link(PARTNER_ADDRESS, task["task_id"], held["assignment"])
    return links


@contextmanager
def access_world(log_dir: Path) -> Iterator[World]:
    with demo_stack(log_dir) as stack:
        stack.add_user(REVIEWER, "reviewer")
        stack.add_user(ADMIN, "admin")
        api = {
            kind: Api(stack.base, person and stack.token_for(person))
            for kind, person in READERS.items()
        }
        command, responder = api["command"], api["responder"]
        incident = log(command, "Access matrix", auto=True)
        tasks = give_tasks(command, incident)
        canary = f"CANARY-{uuid.uuid4()}"
        note = {"text": f"Spoke with the officer {canary}", "tier": "restricted"}
        responder.post(f"/tasks/{tasks['noted']}/notes", note)
        spare = {
            "close": log(command, "To close", auto=False),
            "trigger": log(command, "To trigger", auto=False),
            "cancel": log(command, "To cancel", auto=True),
            "form_close": log(command, "To close from its page", auto=False),
            "form_trigger": log(command, "To trigger from its page", auto=False),
        }
        tasks.update(form_tasks(command))
        token_id: str = responder.post("/me/tokens", {"name": "to revoke"})["id"]
        links = partner_links(stack, command)
        world = World(stack, api, {}, incident, tasks, spare, token_id, canary, links)
        world.console = {kind: world.fresh_console(kind) for kind in READERS}
        try:
            yield world
        finally:
            for browser in world.opened:
                browser.close()
