import re

import pytest
from playwright.sync_api import expect

from tests.dashboard.factories import make_shop
from tests.e2e.browser import assert_accessible, log_in
from tests.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def shop(db):
    return make_shop()


@pytest.fixture
def operator(page):
    staff = UserFactory(email="ops@example.test", is_staff=True)
    log_in(page, staff)
    return staff


def test_the_period_filter_redraws_the_charts_without_reloading_the_page(page, operator, shop):
    page.get_by_label("Account menu").click()
    page.get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", exact=True)).to_be_visible()
    expect(page.get_by_text("Last 30 days")).to_be_visible()
    revenue = page.get_by_role("img", name=re.compile("^Revenue per day"))
    expect(revenue).to_be_visible()
    expect(page.get_by_role("img", name=re.compile("^Credits per day"))).to_be_visible()
    expect(page.locator("#chart-revenue-usd-desc")).to_contain_text("revenue $18.00")
    bars_in_30_days = page.locator(".chart-bar.chart-revenue").count()
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("90 days").check()

    expect(page.get_by_text("Last 90 days", exact=True)).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="Showing the last 90 days.")).to_be_attached()
    expect(page).to_have_url(re.compile(r"/staff/dashboard/\?days=90$"))
    expect(page.locator("#chart-revenue-usd-desc")).to_contain_text("revenue $42.00")
    expect(page.locator(".chart-bar.chart-revenue")).to_have_count(bars_in_30_days + 1)
    assert page.evaluate("window.stillTheSamePage") is True  # swapped in place, not reloaded

    page.get_by_text("Show the numbers").first.click()
    expect(page.get_by_role("region", name="Revenue per day, table")).to_contain_text("$42.00")
    assert_accessible(page, "dashboard")  # the operator's page meets the customers' rules

    page.go_back()
    expect(page.get_by_text("Last 30 days")).to_be_visible()
    expect(page.get_by_label("30 days")).to_be_checked()


def test_without_javascript_the_period_is_a_plain_form(browser, live_server, shop):
    staff = UserFactory(email="ops-nojs@example.test", is_staff=True)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        log_in(page, staff)
        page.goto("/staff/dashboard/")

        page.get_by_label("7 days").check()
        page.get_by_role("button", name="Show").click()

        expect(page).to_have_url(re.compile(r"/staff/dashboard/\?days=7$"))
        expect(page.get_by_text("Last 7 days")).to_be_visible()
        expect(page.locator("#chart-revenue-usd-desc")).to_contain_text("revenue $18.00")
    finally:
        context.close()
