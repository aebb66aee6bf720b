"""A live region never pulls a form from under the person filling it in, not even with a refetch
that was already on its way when they started; it catches up once they leave the form."""

from __future__ import annotations

import asyncio

import pytest
from playwright.async_api import Page, Route, expect

from tests.browser.conftest import COMMAND, RESPONDER, SignIn
from tests.e2e.access_world import PARTNER, log
from tests.e2e.api_support import Api, tasks_of
from tests.e2e.demo_stack import DemoStack
from tests.e2e.harness import playbook_tasks

pytestmark = pytest.mark.browser

# Long enough that the person starts on the form while the refetch is on its way.
FRAGMENT_DELAY_S = 1.5


async def _slowly(route: Route) -> None:
    await asyncio.sleep(FRAGMENT_DELAY_S)
    await route.continue_()


async def test_a_refetch_on_its_way_does_not_replace_a_form_being_filled_in(
    signed_in: SignIn, demo: DemoStack
) -> None:
    command = Api(demo.base, demo.token_for(COMMAND))
    incident = log(command, "Live region under a chooser", auto=True)
    tasks = {t["key"]: t for t in tasks_of(command, incident, len(playbook_tasks()))}
    chosen, changed = tasks["peer-support-defusing"], tasks["officer-family-support"]
    page: Page = await signed_in(COMMAND)
    await page.goto(f"/incidents/{incident}")
    chooser = page.locator(f"#assign-{chosen['key']}")
    other = page.locator(f"#assign-{changed['key']}")
    await expect(chooser).to_be_visible()
    await page.route("**/fragments/incidents/**", _slowly)
    pick = RESPONDER if await chooser.input_value() != RESPONDER else PARTNER
    moved_to = PARTNER if changed["assignee"] != PARTNER else RESPONDER

    # Someone else changes another task: the page hears it and refetches, slowly.
    async with page.expect_request(f"**/fragments/incidents/{incident}"):
        command.post(f"/tasks/{changed['task_id']}/assign", {"to": moved_to})
    await chooser.focus()
    await chooser.select_option(pick)
    await asyncio.sleep(FRAGMENT_DELAY_S + 1.0)  # the refetch has come back by now
    await expect(chooser).to_have_value(pick)
    await expect(other).not_to_have_value(moved_to)  # what came back was not shown

    # Leaving the form lets the page catch up (the chooser shows the task's holder again).
    await page.unroute("**/fragments/incidents/**")
    await page.locator("h1").click()
    await expect(other).to_have_value(moved_to, timeout=10_000)
