"""Segments in a real browser, in both languages: a marketer builds a dynamic segment from the
nav link, the live count follows the criteria as they change (htmx, no reload), saves it and
views its members; then builds a static list by card number and removes a member."""
import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

import models
from models import Customer, Segment
from services import accounts
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in, t

pytestmark = pytest.mark.browser

NAMES = {"zh": ("王芳", "李娜", "张伟"), "en": ("Emma Wilson", "Olivia Brown", "Jack Smith")}


def _card(name, **columns):
    customer = factories.make_customer(name=name, account=False)[0]
    Customer.update(**columns).where(Customer.id == customer.id).execute()
    return customer


@pytest.mark.parametrize("lang", LANGS)
def test_a_marketer_builds_a_segment_with_a_live_count(pages, live_server, screenshots, lang):
    first, second, third = NAMES[lang]
    marketer = factories.make_staff(role="marketer")
    accounts.set_preferred_language(marketer, lang)
    recent = models.utcnow() - datetime.timedelta(days=5)
    big = _card(first, total_spend=Decimal(8800), purchase_count=6, last_purchase_at=recent,
                birthday=datetime.date(1990, 5, 2), city="上海")
    _card(second, total_spend=Decimal(120), purchase_count=1, last_purchase_at=recent,
          city="上海")
    small = _card(third, city="北京")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, marketer.email)

    page.locator(".bo-sidebar a[href='/staff/segments/']").click()
    page.wait_for_url(f"{live_server}/staff/segments/")
    page.locator("a[href='/staff/segments/new?kind=dynamic']").click()
    expect(page.locator("#segment-count")).to_contain_text("3")
    page.fill("#name", "<script>alert(1)</script> VIP")
    page.fill("#s-city", "上海")
    expect(page.locator("#segment-count")).to_contain_text("2")
    page.fill("#s-min_spend", "1000")
    expect(page.locator("#segment-count")).to_contain_text("1")
    page.select_option("#s-birthday_month", "6")
    expect(page.locator("#segment-count")).to_contain_text("0")
    page.select_option("#s-birthday_month", "5")
    expect(page.locator("#segment-count")).to_contain_text("1")
    assert page.url == f"{live_server}/staff/segments/new?kind=dynamic"  # counted in place
    page.screenshot(path=screenshots / f"segments-build-{lang}.png", full_page=True)

    page.locator("#segment-form button[value=save]").click()
    segment = Segment.get()
    page.wait_for_url(f"{live_server}/staff/segments/{segment.public_id}")
    expect(page.locator("#segment-name")).to_have_text("<script>alert(1)</script> VIP")
    expect(page.locator("#segment-members tbody tr")).to_have_count(1)
    link = page.locator(f"[id='member-{big.public_id}'] a")
    expect(link).to_have_text(first)
    page.screenshot(path=screenshots / f"segments-members-{lang}.png", full_page=True)
    link.click()
    page.wait_for_url(f"{live_server}/staff/cards/{big.public_id}")

    page.goto(f"{live_server}/staff/segments/new?kind=static")
    page.fill("#name", t(lang, "Segments") + " 2")
    page.locator("#segment-form button[value=save]").click()
    page.wait_for_url(f"{live_server}/staff/segments/*")
    page.fill("#ids", f"{big.public_id}\n{small.public_id}")
    page.locator("form[action$='/add'] button").click()
    expect(page.locator("#segment-members tbody tr")).to_have_count(2)
    page.screenshot(path=screenshots / f"segments-static-{lang}.png", full_page=True)
    page.locator(f"[id='member-{small.public_id}'] button").click()
    expect(page.locator("#segment-members tbody tr")).to_have_count(1)
    page.goto(f"{live_server}/staff/segments/")
    expect(page.locator("#segments tbody tr")).to_have_count(2)
    page.screenshot(path=screenshots / f"segments-list-{lang}.png", full_page=True)
    pages.assert_clean()
