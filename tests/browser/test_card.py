"""The customer card in the back office, in Chromium on a desktop, in both languages: read it
(tabs, timeline, follow-ups), edit it, log an interaction with a follow-up and tick it done, and
two staff editing the card at once."""
import datetime

import pytest
from playwright.sync_api import expect

from models import Customer, Interaction, Task
from services import card_edit
from services.actors import Actor
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in

pytestmark = pytest.mark.browser


def _card(lang):
    customer, _ = factories.make_customer(
        name="张伟" if lang == "zh" else "Wei Zhang", mobile="13800138000", company="华为",
        province="广东", city="深圳", notes="VIP 客户，<script>alert(1)</script>",
        special_requirements="只在工作日上午联系")
    for n in range(6):
        factories.make_purchase(customer, amount=f"{n + 1}99.00", product=f"商品 {n}",
                                payment_method="wechat_pay", channel="store")
    return customer


@pytest.mark.parametrize("lang", LANGS)
def test_read_and_edit_a_card(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="agent", name="李娜")
    customer = _card(lang)
    card_url = f"{live_server}/staff/cards/{customer.public_id}"
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    page.goto(card_url)
    expect(page.locator("h1")).to_have_text(customer.name)
    expect(page.locator("#card-notes")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator("#tab-timeline .timeline-item")).to_have_count(6)
    page.screenshot(path=screenshots / f"card-detail-{lang}.png", full_page=True)
    page.click("#tab-purchase-btn")
    expect(page.locator("#tab-purchase tbody tr")).to_have_count(6)
    expect(page.locator("#tab-timeline")).to_be_hidden()
    page.screenshot(path=screenshots / f"card-detail-purchases-{lang}.png", full_page=True)

    # Log an interaction with a follow-up date: the follow-up appears on the side.
    page.click(f"a[href$='/cards/{customer.public_id}/interaction/new']")
    page.select_option("#channel", "wechat")
    page.fill("#subject", "回访春季新款")
    page.fill("#request", "想看新款图册")
    due = datetime.date.today() + datetime.timedelta(days=2)
    page.fill("#next_follow_up", due.isoformat())
    page.screenshot(path=screenshots / f"card-interaction-new-{lang}.png", full_page=True)
    page.click(".record-form button[type=submit]")
    page.wait_for_url(f"{card_url}#tab-interaction")
    expect(page.locator("#card-tasks")).to_contain_text("回访春季新款")
    interaction = Interaction.get(Interaction.customer == customer.id)
    task = Task.get(Task.interaction == interaction)
    page.click(f"#card-tasks form[action*='/tasks/{task.public_id}/done'] button")
    page.wait_for_url(card_url)
    expect(page.locator("#card-tasks")).not_to_contain_text("回访春季新款")
    assert Task.get_by_id(task.id).done_at is not None

    # Edit: a wrong WeChat ID is refused at its field, the other input stays; then it saves.
    page.click(f"a[href$='/cards/{customer.public_id}/edit']")
    page.fill("#city", "广州")
    page.fill("#mobile", "139 1234 5678")
    page.fill("#wechat", "1bad")
    page.fill("#tags", "VIP, 团购")
    page.click(".card-edit-form button[type=submit]")
    expect(page.locator("#wechat")).to_have_class("form-control is-invalid")
    expect(page.locator("#city")).to_have_value("广州")
    page.screenshot(path=screenshots / f"card-edit-error-{lang}.png", full_page=True)
    page.fill("#wechat", "weizhang88")
    page.click(".card-edit-form button[type=submit]")
    page.wait_for_url(card_url)
    expect(page.locator(".card-basics")).to_contain_text("+86 139 1234 5678")
    expect(page.locator(".card-tag")).to_have_count(2)
    card = Customer.get_by_id(customer.id)
    assert (card.city, card.primary_mobile, card.version) == ("广州", "+8613912345678", 2)
    pages.assert_clean(expected_status=400)  # the refused WeChat ID


@pytest.mark.parametrize("lang", LANGS)
def test_a_conflicting_edit_is_shown_not_saved(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="manager", name="王强")
    other = factories.make_staff(role="agent", name="Alice Wang")
    customer = _card(lang)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)
    page.goto(f"{live_server}/staff/cards/{customer.public_id}/edit")
    page.fill("#city", "北京")
    # Meanwhile a colleague saves the same card.
    card_edit.update_card(customer, {"city": "珠海", "status": "active"}, 1,
                          Actor.for_staff(other))
    page.click(".card-edit-form button[type=submit]")
    conflict = page.locator("#edit-conflict")
    expect(conflict).to_contain_text("Alice Wang")
    expect(conflict.locator("tr[data-field=city]")).to_contain_text("北京")
    expect(conflict.locator("tr[data-field=city]")).to_contain_text("珠海")
    expect(page.locator("#city")).to_have_value("北京")
    page.screenshot(path=screenshots / f"card-edit-conflict-{lang}.png", full_page=True)
    assert Customer.get_by_id(customer.id).city == "珠海"
    pages.assert_clean(expected_status=409)
