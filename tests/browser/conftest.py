"""Browser tests: Debian's Chromium (`make browser`), driven by Playwright through
pytest-playwright-asyncio, against one `pathways up` with the example roster's demo accounts.

Playwright never downloads a browser here: the launch names the system's `chromium`. A test that
fails keeps a screenshot of each page it had open (in a temporary folder, named in the report)."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
from playwright.async_api import BrowserContext, Page

from tests.e2e.access_world import PARTNER, PARTNER_ADDRESS, give, log, theirs
from tests.e2e.api_support import Api, tasks_of
from tests.e2e.demo_stack import (
    ADMIN,
    DEMO_PASSWORD,
    REVIEWER,
    DemoStack,
    MailedLink,
    demo_stack,
)
from tests.e2e.harness import playbook_tasks, wait_for
from tests.support import ROOT

# Without a sandbox: tests run as root in a container, where Chromium's sandbox cannot start.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}}
PHONE: dict[str, Any] = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 3,
    "is_mobile": True,
    "has_touch": True,
}
# Where the failure screenshots go (the plugin's --output, emptied at the start of a run).
RESULTS = Path(tempfile.gettempdir()) / "pathways-browser-results"


def pytest_configure(config: pytest.Config) -> None:
    # Keep a screenshot of every page of a failed test, unless asked otherwise on the command line.
    if config.getoption("--screenshot", default="off") == "off":
        config.option.screenshot = "only-on-failure"
        config.option.full_page_screenshot = True
    if config.getoption("--output", default="test-results") == "test-results":
        config.option.output = str(RESULTS)


SHOTS = pytest.StashKey[list[str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    """Remember the screenshots a failed test left (the plugin keeps their paths in the
    teardown report's user_properties; a test adds the ones it takes itself to its item's)."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "teardown":
        return
    failed = report.failed or any(
        getattr(getattr(item, f"rep_{when}", None), "failed", False) for when in ("setup", "call")
    )
    found = [*item.user_properties, *report.user_properties]
    shots = sorted({str(v) for k, v in found if "screenshot" in k})
    if failed and shots:
        item.config.stash.setdefault(SHOTS, []).extend(f"{item.nodeid}: {s}" for s in shots)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    shots = config.stash.get(SHOTS, [])
    if shots:
        terminalreporter.section("screenshots of the failed browser tests")
        for line in shots:
            terminalreporter.write_line(line)


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.fail("browser tests need Debian's chromium: run `make browser` (as root)")
    return found


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": chromium(), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoStack]:
    """The example roster's people, and a reviewer and an administrator (no roster members),
    all with the demo password."""
    with demo_stack(tmp_path_factory.mktemp("browser-stack")) as running:
        running.add_user(REVIEWER, "reviewer")
        running.add_user(ADMIN, "admin")
        yield running


COMMAND, RESPONDER = "renee.alvarez", "aisha.grant"


@dataclass(frozen=True)
class Logged:
    """An incident logged by command staff, with a task of the responder's holding a restricted
    note of her team, and a task of the partner's with the link her email carries."""

    incident: str
    task: str
    link: MailedLink


def task_with(api: Api, task: dict[str, Any], person: str) -> dict[str, Any]:
    """The task, once given to `person`."""
    give(api, task, person)
    path = f"/tasks/{task['task_id']}"
    found: dict[str, Any] = wait_for(lambda: theirs(api.get(path), person), 20, f"{path} given")
    return found


@pytest.fixture(scope="session")
def logged(demo: DemoStack) -> Logged:
    command = Api(demo.base, demo.token_for(COMMAND))
    responder = Api(demo.base, demo.token_for(RESPONDER))
    incident = log(command, "Officer-involved shooting at 5th and Main", auto=True)
    tasks = {t["key"]: t for t in tasks_of(command, incident, len(playbook_tasks()))}
    mine = task_with(command, tasks["peer-support-defusing"], RESPONDER)
    note = {"text": "Spoke with the officer; follow up tomorrow.", "tier": "restricted"}
    responder.post(f"/tasks/{mine['task_id']}/notes", note)
    hers = task_with(command, tasks["officer-family-support"], PARTNER)
    link = demo.mailed_link(PARTNER_ADDRESS, hers["task_id"], hers["assignment"])
    return Logged(incident, mine["task_id"], link)


@pytest.fixture(scope="session")
def base_url(demo: DemoStack) -> str:
    """Where `page.goto("/…")` goes (and pytest warns when no fixture gives one)."""
    return demo.base


class NewContext(Protocol):
    def __call__(self, **kwargs: Any) -> Awaitable[BrowserContext]: ...


class SignIn(Protocol):
    def __call__(self, person: str, *, phone: bool = False) -> Awaitable[Page]: ...


async def sign_in_page(page: Page, person: str, password: str = DEMO_PASSWORD) -> None:
    """Fill the sign-in form as a person would, and wait until the console answers."""
    await page.goto("/signin")
    await page.get_by_label("Username").fill(person)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/signin" not in url)


@pytest.fixture
def signed_in(new_context: NewContext) -> SignIn:
    """`await signed_in("aisha.grant", phone=True)`: a page of a new browser context (desktop
    1280×800, or a 390×844 phone), signed in as that person with the demo password."""

    async def open_as(person: str, *, phone: bool = False) -> Page:
        context = await new_context(**(PHONE if phone else DESKTOP))
        page = await context.new_page()
        await sign_in_page(page, person)
        return page

    return open_as


@pytest.fixture
def anonymous(new_context: NewContext) -> Callable[..., Awaitable[Page]]:
    """A page of a new desktop (or phone) context, signed in as nobody."""

    async def open_page(*, phone: bool = False) -> Page:
        context = await new_context(**(PHONE if phone else DESKTOP))
        return await context.new_page()

    return open_page


# ---- screenshots ----------------------------------------------------------------------------

SCREENSHOTS = ROOT / "docs" / "screenshots"


def keep_screenshots() -> bool:
    return os.environ.get("PATHWAYS_SCREENSHOTS") == "1"


async def screenshot(page: Page, name: str, folder: Path, request: pytest.FixtureRequest) -> None:
    """A full-page picture in `folder` (named in the report if the test fails), and in
    docs/screenshots/ when they are being made."""
    shot = folder / f"{name}.png"
    await page.screenshot(path=shot, full_page=True)
    request.node.user_properties.append(("screenshot", str(shot)))
    if keep_screenshots():
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        (SCREENSHOTS / shot.name).write_bytes(shot.read_bytes())


async def assert_fits_the_screen(page: Page) -> None:
    """Nothing is wider than the window: no sideways scrolling (on a phone above all)."""
    widths = await page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{page.url} is {widths[0]} px wide in {widths[1]}"
