"""My details on a phone, in both languages: a bad mobile is marked at the field with the other
input kept; the corrected form saves; a name change waits for review."""
import pytest
from playwright.sync_api import expect

from models import Customer
from tests import factories
from tests.browser.test_sign_in import customer_sign_in, t

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_correct_my_details_on_a_phone(pages, live_server, screenshots, lang):
    name = "王芳" if lang == "zh" else "Emma Wilson"
    customer, account = factories.make_customer(name=name, mobile="13800138000",
                                                preferred_language=lang)
    page = pages.new_page(lang, phone=True)
    customer_sign_in(page, live_server, account.email)
    page.locator("nav.portal-tabs").get_by_role("link", name=t(lang, "My details"),
                                             exact=True).click()
    expect(page.locator("h1")).to_have_text(t(lang, "My details"))

    page.fill("#mobile", "12345")
    page.fill("#city", "上海" if lang == "zh" else "London")
    page.click("main button[type=submit]")
    expect(page.locator("#mobile.is-invalid")).to_be_visible()
    expect(page.locator("#city")).to_have_value("上海" if lang == "zh" else "London")
    page.screenshot(path=screenshots / f"portal-details-error-{lang}.png", full_page=True)

    page.fill("#mobile", "＋８６ １３９ ００１３ ８０００")
    page.fill("#name", name + "·新")
    page.click("main button[type=submit]")
    expect(page.locator(".alert-success")).to_contain_text(t(lang, "Your details are saved."))
    expect(page.locator("main")).to_contain_text(
        t(lang, "Waiting for review: %(value)s") % {"value": name + "·新"})
    page.screenshot(path=screenshots / f"portal-details-{lang}.png", full_page=True)
    saved = Customer.get_by_id(customer.id)
    assert saved.primary_mobile == "+8613900138000" and saved.name == name
    pages.assert_clean()
