"""The card list in a browser, in both languages: the sidebar search box, results as you type
(htmx), a filter, a saved view, and a bulk status change on all matching cards (confirmed)."""
import pytest
from playwright.sync_api import expect

from models import Customer
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS)
def test_find_filter_save_and_bulk_edit(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="manager")
    factories.make_customer(name="张伟", alt_name="Wei Zhang", mobile="13812345678",
                            company="星河贸易", city="上海", account=False)
    factories.make_customer(name="张伟明", mobile="13900005678", city="北京", account=False)
    factories.make_customer(name="李雷", mobile="13700001111", city="上海", account=False)
    factories.make_customer(name="<script>alert(1)</script>", city="广州", account=False)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    # The sidebar search box leads to the list with the results.
    page.fill("#bo-search-q", "zw")
    page.press("#bo-search-q", "Enter")
    page.wait_for_url(f"{live_server}/staff/cards/?q=zw")
    rows = page.locator("#card-results tbody tr")
    expect(rows).to_have_count(2)

    # Results as you type: the fragment replaces the results and the address follows.
    page.fill("#card-q", "")
    page.locator("#card-q").press_sequentially("5678", delay=30)
    expect(rows).to_have_count(2)
    expect(page).to_have_url(f"{live_server}/staff/cards/?q=5678")
    page.fill("#card-q", "张伟明")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("139 0000 5678")
    page.fill("#card-q", "script")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("<script>alert(1)</script>")  # shown as text
    page.screenshot(path=str(screenshots / f"backoffice-card-search-{lang}.png"), full_page=True)

    # A filter through the plain form, then save it as a view.
    page.goto(f"{live_server}/staff/cards/")
    page.locator("details.card-filter-panel summary").click()
    page.fill("#f-city", "上海")
    page.locator("details.card-filter-panel button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/cards/?city=%E4%B8%8A%E6%B5%B7")
    expect(rows).to_have_count(2)
    page.fill("#view-name", "上海")
    page.locator("#view-name ~ button").click()
    expect(page.locator(".saved-view a")).to_have_text("上海")
    page.screenshot(path=str(screenshots / f"backoffice-card-list-{lang}.png"), full_page=True)

    # Bulk: every card the filter finds becomes active, after a confirmation page.
    page.select_option("select[name=scope]", "all")
    page.select_option("#bulk-action", "status")
    page.select_option("select[name=status_value]", "active")
    page.locator("#bulk-form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/cards/bulk")
    expect(page.locator("main p")).to_contain_text("2")
    page.screenshot(path=str(screenshots / f"backoffice-card-bulk-{lang}.png"), full_page=True)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/cards/?city=%E4%B8%8A%E6%B5%B7")
    expect(page.locator(".alert-success")).to_be_visible()
    assert {c.name for c in Customer.select().where(Customer.status == "active")} == {
        "张伟", "李雷"}
    pages.assert_clean()
