import pytest
from playwright.sync_api import expect

from studio.credits.selectors import credit_balance
from tests.e2e.browser import log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def logged_in(page, settings):
    settings.STRIPE_SECRET_KEY = ""
    user = UserFactory(email="buyer@example.test")
    log_in(page, user)
    return user


def test_buying_a_pack_through_the_test_checkout_updates_the_header(page, logged_in):
    balance = page.locator("#credit-balance")
    expect(balance).to_have_text("0 credits")

    balance.click()
    expect(page.get_by_role("heading", name="Your credits")).to_be_visible()
    page.get_by_role("link", name="Buy credits").click()

    expect(page.get_by_text("Test mode.")).to_be_visible()
    page.get_by_role("button", name="Buy 50 credits").click()

    expect(page.get_by_text("This is a test checkout.")).to_be_visible()
    expect(page.get_by_text("$12.00")).to_be_visible()
    page.get_by_role("button", name="Pay (test)").click()

    expect(page.get_by_role("heading", name="50 credits added")).to_be_visible()
    expect(balance).to_have_text("50 credits")

    page.get_by_role("link", name="Credit history").click()
    expect(page.get_by_text("Bought 50 credits (Plus pack)")).to_be_visible()
    expect(page.locator(".balance-figure")).to_have_text("50 credits")
    assert credit_balance(user=logged_in) == 50


def test_cancelling_the_test_checkout_charges_nothing(page, logged_in):
    page.goto("/credits/buy/")
    page.get_by_role("button", name="Buy 20 credits").click()
    page.get_by_role("link", name="Cancel and go back").click()

    expect(page.get_by_role("heading", name="Payment cancelled")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text("0 credits")
    assert credit_balance(user=logged_in) == 0


def test_the_return_page_fills_in_when_the_payment_is_confirmed(page, logged_in):
    from studio.credits.purchases import purchase_complete
    from tests.credits.factories import PurchaseFactory

    purchase = PurchaseFactory(user=logged_in)  # back from Stripe Checkout, webhook not here yet
    page.goto(f"/credits/purchases/{purchase.pk}/")
    expect(page.get_by_role("heading", name="Confirming your payment…")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text("0 credits")
    page.evaluate("window.stillTheSamePage = true")

    purchase_complete(purchase_id=purchase.pk, event_id="evt_e2e")

    # The poll swaps in the result and, out of band, the header balance; no reload.
    expect(page.get_by_role("heading", name="50 credits added")).to_be_visible()
    expect(page.locator("#credit-balance")).to_have_text("50 credits")
    assert page.evaluate("window.stillTheSamePage") is True
