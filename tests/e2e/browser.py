"""Steps the browser tests share."""

from playwright.sync_api import Page, expect

from tests.factories import PASSWORD


def log_in(page: Page, user) -> None:
    """Log in through the real form; returns once "My avatars" is on screen."""
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
    expect(page.get_by_role("heading", name="My avatars")).to_be_visible()
