"""The consent centre on a phone, in both languages: sign in, give consent to SMS, withdraw it.

Ends with ``pages.assert_clean()``: no CSP violation, no page error, no failed request.
"""
import pytest
from playwright.sync_api import expect

import models
from services.demo.reference import ensure_purposes
from tests import factories
from tests.browser.test_sign_in import t

pytestmark = pytest.mark.browser




@pytest.mark.parametrize("lang", ["zh", "en"])
def test_give_and_withdraw_consent_on_a_phone(db, pages, live_server, screenshots, lang):
    ensure_purposes(models.utcnow())
    customer, account = factories.make_customer(name="王芳" if lang == "zh" else "Emma Wilson",
                                                preferred_language=lang)
    page = pages.new_page(lang, phone=True)
    page.goto(f"{live_server}/consent/")
    page.fill("#email", account.email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/consent/")
    expect(page.locator("main h1")).to_have_text(t(lang, "My consent"))
    expect(page.locator("main input[type=checkbox]:checked")).to_have_count(0)

    sms = page.locator("#purpose-sms")
    expect(sms).to_have_attribute("data-status", "never")
    expect(sms.locator("h2")).to_have_text("短信通知" if lang == "zh" else "SMS messages")
    sms.get_by_role("button", name=t(lang, "I agree")).click()
    expect(page.locator("#purpose-sms")).to_have_attribute("data-status", "granted")
    expect(page.locator(".alert-success")).to_be_visible()

    # A sensitive purpose without its own tick: a message at that purpose, nothing saved.
    partners = page.locator("#purpose-third_party")
    partners.get_by_role("button", name=t(lang, "I agree")).click()
    expect(page.locator("#purpose-third_party .invalid-feedback")).to_have_text(
        t(lang, "Tick the box to give your separate consent to this purpose."))
    expect(page.locator("#purpose-third_party")).to_have_attribute("data-status", "never")

    page.locator("#purpose-sms").get_by_role(
        "button", name=t(lang, "Withdraw my consent")).click()
    expect(page.locator("#purpose-sms")).to_have_attribute("data-status", "withdrawn")
    expect(page.locator(".alert-success")).to_contain_text(
        t(lang, "You have withdrawn your consent to %(purpose)s. This takes effect at once.")
        % {"purpose": "短信通知" if lang == "zh" else "SMS messages"})
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    page.screenshot(path=str(screenshots / f"portal-consent-{lang}.png"), full_page=True)

    page.get_by_role("link", name=t(lang, "See my consent history")).click()
    expect(page.locator("main .list-group-item")).to_have_count(2)
    pages.assert_clean()
