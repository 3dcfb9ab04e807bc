"""Steps the browser tests share."""

import time

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def log_in(page: Page, user) -> None:
    """Log in through the real form; returns once "My avatars" is on screen."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="My avatars")).to_be_visible()


_AXE = Axe()


def assert_accessible(page: Page, name: str) -> None:
    """axe-core's accessibility rules (names, labels, contrast, landmarks, roles) find nothing on
    the page as it is now."""
    audit = _AXE.run(page)
    assert audit.violations_count == 0, f"{name}: {audit.generate_report()}"


# What the page does when its tab is shown again: every poll of the page asks the server at once.
POLL_NOW = """() => document.querySelectorAll("[data-poll]").forEach(elt => htmx.trigger(elt, "studio:visible"))"""


def polled(page: Page, assertion, *args, timeout: float = 60) -> None:
    """`assertion(*args)` (an `expect(...)` method) holds once the page's polls bring it in.

    For work in other threads (the worker, the sandbox) that the page shows when it next polls:
    rather than wait up to a poll's 2 or 3 seconds after the work is done, the page polls now, as
    it does when its tab is shown again, and again every half second until the assertion holds.
    Still the page's own requests and swaps, without a reload; that the polls also run by
    themselves is test_gallery's `test_images_appear_while_you_watch`."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            assertion(*args, timeout=500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        page.evaluate(POLL_NOW)
