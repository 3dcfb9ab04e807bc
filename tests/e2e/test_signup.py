import re

import pytest
from django.core import mail
from playwright.sync_api import expect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_visitor_signs_up_confirms_and_lands_on_the_dashboard(page, live_server):
    page.goto("/")
    page.get_by_role("link", name="Create your free account").click()

    page.get_by_label("Email").fill("ada@example.test")
    page.get_by_label("Password", exact=True).fill("a-long-and-unusual-passphrase")
    page.get_by_label("Password (again)").fill("a-long-and-unusual-passphrase")
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("ada@example.test")
    expect(page.get_by_role("link", name="Contact us").first).to_have_attribute("href", "/support/")
    page.get_by_role("button", name="Send the link again").click()
    expect(page.locator("#toasts")).to_contain_text("ada@example.test")

    # The link in the email confirms with one click (the first email or the one sent again).
    body = next(m.body for m in mail.outbox if "confirm" in m.subject.lower())
    assert "Hello from" not in body and "Avatar Studio" in body
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", body).group(0)
    page.goto(link)

    expect(page.get_by_role("heading", name="My avatars")).to_be_visible()
    expect(page.get_by_text("No avatars yet")).to_be_visible()
    expect(page.get_by_role("link", name="Create your first avatar")).to_be_visible()
