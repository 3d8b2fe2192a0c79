"""Follow-ups and tiers in a real browser, in both languages: "My day" with its nav badge, a task
done in one click (htmx swaps the row), a manager adding a tier with a bad colour then a good
one, recalculating, and setting a card's tier by hand from the card's tier panel."""
import datetime
import re

import pytest
from playwright.sync_api import expect

from models import Customer
from services import accounts, tasks, tiers
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in, t

pytestmark = pytest.mark.browser

NAMES = {"zh": ("王芳", "回访新到的秋装"), "en": ("Emma Wilson", "Call about the new coats")}


def _tiers():
    tiers.create_tier(factories.SYSTEM, {"code": "prospect", "name_zh": "潜在客户",
                                         "name_en": "Prospect", "rank": 10, "colour": "#6c757d",
                                         "window_days": 365, "is_default": True})
    tiers.create_tier(factories.SYSTEM, {"code": "regular", "name_zh": "普通客户",
                                         "name_en": "Regular", "rank": 20, "colour": "#2f6fb0",
                                         "min_orders": 1, "window_days": 730,
                                         "benefits": "会员价购物"})


@pytest.mark.parametrize("lang", LANGS)
def test_my_day_done_in_one_click(pages, live_server, screenshots, lang):
    name, title = NAMES[lang]
    agent = factories.make_staff(role="agent")
    accounts.set_preferred_language(agent, lang)
    customer = factories.make_customer(name=name, account=False)[0]
    today = tasks.today()
    late = tasks.create_follow_up(customer, factories.SYSTEM, title, today - datetime.timedelta(
        days=2), assignee=agent)
    tasks.create_follow_up(customer, factories.SYSTEM, "<script>alert(1)</script>", today,
                           assignee=agent)
    tasks.create_follow_up(customer, factories.SYSTEM, "Send the catalogue",
                           today + datetime.timedelta(days=3), assignee=agent)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, agent.email)

    nav = page.locator(".bo-sidebar a[href='/staff/tasks/']")
    expect(nav.locator(".badge")).to_have_text("2")
    nav.click()
    page.wait_for_url(f"{live_server}/staff/tasks/")
    expect(page.locator("#tasks-overdue tr.task-row")).to_have_count(1)
    expect(page.locator("#tasks-today")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#tasks-upcoming")).to_contain_text("Send the catalogue")
    expect(page.locator("#tasks-overdue a")).to_have_attribute(
        "href", f"/staff/cards/{customer.public_id}")
    page.screenshot(path=screenshots / f"tasks-my-day-{lang}.png", full_page=True)

    row = page.locator(f"#task-{late.public_id}")
    row.locator("button.btn-success").click()
    expect(page.locator(f"#task-{late.public_id}")).to_have_class(re.compile("task-done"))
    expect(page.locator(f"#task-{late.public_id}")).to_contain_text(t(lang, "Undo"))
    assert page.url == f"{live_server}/staff/tasks/"  # swapped in place, no reload
    page.screenshot(path=screenshots / f"tasks-done-{lang}.png", full_page=True)
    page.reload()
    expect(page.locator("#tasks-overdue tr.task-row")).to_have_count(0)
    expect(page.locator(".bo-sidebar a[href='/staff/tasks/'] .badge")).to_have_text("1")
    pages.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_a_manager_defines_tiers_and_sets_one_by_hand(pages, live_server, screenshots, lang):
    name, _title = NAMES[lang]
    _tiers()
    manager = factories.make_staff(role="manager")
    accounts.set_preferred_language(manager, lang)
    customer = factories.make_customer(name=name, account=False)[0]
    factories.make_purchase(customer, amount="880.00")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, manager.email)

    page.goto(f"{live_server}/staff/tiers/new")
    page.fill("#code", "gold")
    page.fill("#name_zh", "金卡")
    page.fill("#name_en", "Gold")
    page.fill("#rank", "30")
    page.fill("#min_spend", "5000")
    page.fill("#min_orders", "3")
    page.fill("#window_days", "365")
    page.fill("#benefits", "<b>九折</b>")
    page.evaluate("document.querySelector('#colour').type = 'text'")
    page.fill("#colour", "gold")
    page.click("main form button[type=submit]")
    expect(page.locator("#colour + .invalid-feedback")).to_contain_text(
        t(lang, "Use a colour like #c9a227."))
    expect(page.locator("#name_zh")).to_have_value("金卡")
    page.screenshot(path=screenshots / f"tiers-form-error-{lang}.png", full_page=True)
    page.fill("#colour", "#c9a227")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/tiers/")
    expect(page.locator("#tier-gold")).to_contain_text("<b>九折</b>")

    page.click("form[action='/staff/tiers/recalculate'] button")
    page.wait_for_url(f"{live_server}/staff/tiers/")
    expect(page.locator("#last-recalculation")).to_contain_text(re.compile(r"\d"))
    badge = page.locator("#tier-gold .tier-badge")
    expect(badge).to_have_css("background-color", "rgb(201, 162, 39)")
    page.screenshot(path=screenshots / f"tiers-list-{lang}.png", full_page=True)

    page.goto(f"{live_server}/staff/cards/{customer.public_id}")
    panel = page.locator("#tier-panel")
    expect(panel.locator(".tier-badge")).to_contain_text("普通客户" if lang == "zh" else "Regular")
    panel.locator("summary").click()
    panel.locator("select[name=tier]").select_option("gold")
    panel.locator("input[name=reason]").fill("Opening-day guest")
    panel.locator("form[action$='/override'] button").click()
    page.wait_for_url(f"{live_server}/staff/cards/{customer.public_id}")
    expect(page.locator("#tier-override")).to_contain_text("Opening-day guest")
    expect(page.locator("#tier-panel .tier-history li").first).to_contain_text("Opening-day guest")
    page.screenshot(path=screenshots / f"tiers-card-panel-{lang}.png", full_page=True)
    assert Customer.get_by_id(customer.id).tier_overridden is True
    pages.assert_clean(expected_status=400)  # the refused colour
