"""Feedback and purchase history on a phone, in both languages: a message refused and then sent,
the list with an earlier staff reply, and my purchases."""
import re

import pytest
from playwright.sync_api import expect

from services import feedback
from services.actors import Actor
from tests import factories
from tests.browser.test_sign_in import HTML_LANG, LANGS, t

pytestmark = pytest.mark.browser

TEXT = {
    "zh": {"name": "王芳", "product": "保湿面霜 50ml",
           "older": "上次的快递包装破了。",
           "reply": "非常抱歉！我们已经为您补发了一支新的面霜。",
           "message": "面霜很好用，希望有更大的规格。"},
    "en": {"name": "Emma Wilson", "product": "Moisturising cream 50 ml",
           "older": "The parcel arrived with a torn box.",
           "reply": "We are sorry! A new cream is on its way to you.",
           "message": "Lovely cream; I would buy a bigger size."},
}




def assert_fits_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"


@pytest.mark.parametrize("lang", LANGS)
def test_send_feedback_on_a_phone(pages, live_server, screenshots, lang):
    text = TEXT[lang]
    customer, account = factories.make_customer(name=text["name"], preferred_language=lang)
    purchase = factories.make_purchase(customer, amount="268.00", product=text["product"])
    factories.make_purchase(customer, amount="1288.00", product="Gift set",
                            channel="wechat_mall", payment_method="wechat_pay")
    earlier = feedback.submit_feedback(customer, Actor.for_customer(account), "delivery", 2,
                                       text["older"])
    feedback.reply_to_feedback(earlier, Actor.for_staff(factories.make_staff()), text["reply"])
    page = pages.new_page(lang, phone=True)

    page.goto(f"{live_server}/feedback/new")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/login")))
    page.fill("#email", account.email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/feedback/new")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("main h1")).to_have_text(t(lang, "New feedback"))

    # A message of spaces is refused at its field; the topic and the rating stay chosen.
    page.select_option("#category", "product")
    page.click("label[for=rating-4]")
    page.fill("#message", "   ")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()
    expect(page.locator("#message")).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(page.locator("#message ~ .invalid-feedback")).to_have_text(
        t(lang, "Write your message."))
    expect(page.locator("#category")).to_have_value("product")
    expect(page.locator("#rating-4")).to_be_checked()
    assert_fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-feedback-error-{lang}.png"), full_page=True)

    page.fill("#message", text["message"])
    page.select_option("#about", f"purchase:{purchase.public_id}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/feedback/")
    expect(page.locator(".alert-success")).to_have_text(
        t(lang, "Thank you! We have your feedback; our reply will appear here."))
    items = page.locator("article.feedback-item")
    expect(items).to_have_count(2)
    expect(items.first).to_contain_text(text["message"])
    expect(items.first).to_contain_text(text["product"])
    expect(items.nth(1).locator(".feedback-reply")).to_contain_text(text["reply"])
    assert_fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-feedback-{lang}.png"), full_page=True)

    page.goto(f"{live_server}/history/purchases")
    expect(page.locator("main h1")).to_have_text(t(lang, "My purchases"))
    rows = page.locator("main .list-group-item")
    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("Gift set")
    expect(rows.first).to_contain_text(t(lang, "WeChat mall"))
    expect(rows.nth(1)).to_contain_text(text["product"])
    expect(page.locator("main nav a[aria-current=page]")).to_have_text(t(lang, "Purchases"))
    assert_fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-purchases-{lang}.png"), full_page=True)
    pages.assert_clean()
