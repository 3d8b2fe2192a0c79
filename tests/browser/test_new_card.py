""""New card" in Chromium on a desktop, in both languages: an agent opens the list, creates a
card for a walk-in (a wrong mobile is refused at its field, then fixed), is warned when the
mobile is already on a card, and creates one from a search that found nothing."""
import re

import pytest
from playwright.sync_api import expect

from models import Customer
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in, t

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS)
def test_an_agent_creates_a_card_for_a_walk_in(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="agent", name="李娜" if lang == "zh" else "Lina Li")
    existing, _ = factories.make_customer(name="王芳", mobile="13800138000", company="花间美容",
                                          account=False)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    page.goto(f"{live_server}/staff/cards/")
    page.click("#new-card")
    page.wait_for_url(f"{live_server}/staff/cards/new")
    expect(page.locator("h1")).to_have_text(t(lang, "New card"))
    expect(page.locator("#name")).to_be_focused()
    expect(page.locator("#owner")).to_have_value(staff.public_id)

    # A wrong mobile: the message at the field, the rest kept, nothing saved.
    page.fill("#name", "张伟")
    page.fill("#mobile", "12345")
    page.fill("#city", "杭州")
    page.fill("#special_requirements", "只在周末来店")
    page.click(".card-new-form button[type=submit]")
    expect(page.locator("#mobile")).to_have_class("form-control is-invalid")
    expect(page.locator("#mobile ~ .invalid-feedback")).to_have_text(
        t(lang, "This is not a valid phone number."))
    expect(page.locator("#mobile")).to_be_focused()
    expect(page.locator("#city")).to_have_value("杭州")
    expect(page.locator("#special_requirements")).to_have_value("只在周末来店")
    page.screenshot(path=str(screenshots / f"backoffice-card-new-error-{lang}.png"),
                    full_page=True)
    assert Customer.select().count() == 1
    pages.assert_clean(expected_status=400)  # the refused mobile

    # Fixed, but the number is already on a card: that card is shown first.
    page.fill("#mobile", "138 0013 8000")
    page.click(".card-new-form button[type=submit]")
    warning = page.locator("#possible-duplicates")
    expect(warning).to_contain_text("王芳")
    expect(warning).to_contain_text("+86 138 0013 8000")
    expect(warning.locator(f"a[href='/staff/cards/{existing.public_id}']")).to_be_visible()
    expect(page.locator("#create_anyway")).to_be_focused()
    page.screenshot(path=str(screenshots / f"backoffice-card-new-duplicate-{lang}.png"),
                    full_page=True)
    assert Customer.select().count() == 1
    pages.assert_clean(expected_status=409)  # not created: the warning

    # Another number: the card is created, and the agent lands on it.
    page.fill("#mobile", "139 1234 5678")
    page.click(".card-new-form button[type=submit]")
    card = page.locator("h1")
    expect(card).to_have_text("张伟")
    created = Customer.get(Customer.name == "张伟")
    expect(page).to_have_url(f"{live_server}/staff/cards/{created.public_id}")
    expect(page.locator(".alert-success")).to_have_text(t(lang, "Card created."))
    expect(page.locator(".card-basics")).to_contain_text("+86 139 1234 5678")
    assert (created.city, created.owner_id) == ("杭州", staff.id)


@pytest.mark.parametrize("lang", LANGS)
def test_anyway_and_a_search_that_found_nothing(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="agent")
    factories.make_customer(name="王芳", mobile="13800138000", account=False)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    # A phone call: the number finds nobody, the list offers a card with it.
    page.goto(f"{live_server}/staff/cards/")
    page.locator("#card-q").press_sequentially("13912345678", delay=20)
    link = page.locator("#create-from-search")
    expect(link).to_have_text(t(lang, 'Create a card for "%(query)s"')
                              % {"query": "13912345678"})
    page.screenshot(path=str(screenshots / f"backoffice-card-new-from-search-{lang}.png"),
                    full_page=True)
    link.click()
    page.wait_for_url(re.compile(r".*/staff/cards/new\?mobile=13912345678$"))
    expect(page.locator("#mobile")).to_have_value("13912345678")
    expect(page.locator("#name")).to_be_focused()
    page.fill("#name", "陈静")
    page.fill("#mobile", "13800138000")  # the caller gives the household's shared number
    page.click(".card-new-form button[type=submit]")
    expect(page.locator("#possible-duplicates")).to_be_visible()
    pages.assert_clean(expected_status=409)
    page.check("#create_anyway")
    page.click(".card-new-form button[type=submit]")
    expect(page.locator("h1")).to_have_text("陈静")
    assert Customer.select().where(Customer.primary_mobile == "+8613800138000").count() == 2
