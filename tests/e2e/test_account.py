"""Deleting an account in a real browser: the exact word, the credits it costs, and help text that
stays calm while the error says what is wrong."""

import pytest
from playwright.sync_api import expect

from studio.credits.services import credit_grant
from tests.e2e.browser import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_deleting_the_account_asks_for_the_exact_word_and_names_the_credits(page):
    user = UserFactory()
    credit_grant(user=user, amount=12, key="e2e:gift", reason="Gift")
    log_in(page, user)
    page.goto("/account/delete/")
    expect(page.get_by_role("main")).to_contain_text("Your 12 credits will be lost.")

    page.get_by_label("Type DELETE to confirm").fill("delete")
    page.get_by_role("button", name="Delete my account and lose 12 credits").click()

    error = page.locator(".field-error")
    help_text = page.locator("#id_confirm_helptext")
    expect(error).to_contain_text("exactly as shown")
    colour = "el => getComputedStyle(el).color"
    assert help_text.evaluate(colour) != error.evaluate(colour)  # only the error is red
    expect(page.get_by_role("heading", name="Delete your account")).to_be_visible()  # still here
