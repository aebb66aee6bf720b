"""The after-action report of a real exercise, opened from its file in Chromium: it asks for
nothing over the network, has no serious accessibility fault, shows both charts, and prints to a
PDF whose every page says it is an exercise. Its screenshot is kept with the test's results."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Request
from pypdf import PdfReader

from schemas.report import ReviewReport
from services.core.report_html import report_html
from tests.browser.conftest import COMMAND, DESKTOP, NewContext, screenshot
from tests.browser.test_accessibility import blocking
from tests.e2e.api_support import Api, tasks_of
from tests.e2e.demo_stack import REVIEWER, DemoStack
from tests.e2e.harness import playbook_tasks

pytestmark = pytest.mark.browser

# A quarter of an hour passes in under half a second: some windows are met, most are missed.
TIME_SCALE = 0.0005


class People:
    """An API client per person, made when first needed."""

    def __init__(self, demo: DemoStack) -> None:
        self.demo = demo
        self.clients: dict[str, Api] = {}

    def __call__(self, person: str) -> Api:
        if person not in self.clients:
            self.clients[person] = Api(self.demo.base, self.demo.token_for(person))
        return self.clients[person]


def act(people: People, task_id: str, verb: str, body: dict[str, Any] | None = None) -> None:
    """The verb on the task by whoever holds it now (escalation may have handed it on)."""
    for _ in range(10):
        task = people(COMMAND).get(f"/tasks/{task_id}")
        holder = task["assignee"]
        if holder is None:
            people(COMMAND).post(f"/tasks/{task_id}/assign", {"to": "kim.liu"})
            continue
        done = people(holder)("POST", f"/tasks/{task_id}/{verb}", json=body or {})
        if done.status_code in (200, 201):
            return
        time.sleep(0.1)
    raise AssertionError(f"could not {verb} {task_id}")


def run_an_exercise(demo: DemoStack) -> str:
    people = People(demo)
    body = {
        "incident_type": "officer-involved-shooting",
        "title": "Riverside tabletop",
        "exercise": True,
        "time_scale": TIME_SCALE,
    }
    incident: str = people(COMMAND).post("/incidents", body)["data"]["incident"]["incident_id"]
    listed = tasks_of(people(COMMAND), incident, len(playbook_tasks()))
    tasks = {t["key"]: t["task_id"] for t in listed}
    act(people, tasks["command-activation"], "acknowledge")
    act(people, tasks["public-initial-statement"], "acknowledge")
    act(people, tasks["community-leader-briefing"], "decline", {"reason": "Off shift"})
    time.sleep(1.5)
    act(people, tasks["peer-support-defusing"], "acknowledge")
    act(people, tasks["command-activation"], "complete", {"note": "Command post set up"})
    time.sleep(1.5)
    act(people, tasks["public-initial-statement"], "complete", {"note": "Statement posted"})
    act(people, tasks["community-leader-briefing"], "acknowledge")
    time.sleep(2)
    act(people, tasks["community-leader-briefing"], "complete")
    return incident


@pytest.fixture(scope="module")
def report_file(demo: DemoStack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    incident = run_an_exercise(demo)
    reviewer = Api(demo.base, demo.token_for(REVIEWER))
    answer = reviewer.get(f"/incidents/{incident}/report", params={"audience": "full"})
    report = ReviewReport.model_validate(answer)
    assert report.incident.exercise and len(report.tasks) >= len(playbook_tasks()) - 1
    assert report.overall.escalations > 0 and report.overall.declines == 1
    path = tmp_path_factory.mktemp("report") / "report.html"
    path.write_text(report_html(report))
    return path


async def opened(new_context: NewContext, path: Path, requests: list[str]) -> Page:
    context = await new_context(**DESKTOP)
    page = await context.new_page()

    def record(request: Request) -> None:
        requests.append(request.url)

    page.on("request", record)
    await page.goto(path.as_uri())
    return page


async def test_the_report_opens_from_its_file_and_asks_for_nothing_else(
    new_context: NewContext, report_file: Path, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    requests: list[str] = []
    page = await opened(new_context, report_file, requests)
    assert requests == [report_file.as_uri()]
    assert await page.locator("h1").count() == 1
    charts = page.locator("figure svg")
    assert await charts.count() == 2
    for index in range(2):
        box = await charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 800 and box["height"] > 100, box
        await charts.nth(index).screenshot(path=tmp_path / f"chart-{index}.png")
    faults = blocking((await Axe().run(page)).response)
    assert not faults, "\n".join(faults)
    await screenshot(page, "after-action-report", tmp_path, request)


async def test_the_report_prints_with_the_exercise_on_every_page(
    new_context: NewContext, report_file: Path, tmp_path: Path
) -> None:
    page = await opened(new_context, report_file, [])
    printed = tmp_path / "report.pdf"
    await page.pdf(path=printed, format="A4")
    pages = PdfReader(printed).pages
    assert len(pages) >= 2
    for number, each in enumerate(pages, 1):
        assert "EXERCISE: not a real incident" in each.extract_text(), f"page {number}"
    await page.emulate_media(media="print")
    background = await page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)"), background
