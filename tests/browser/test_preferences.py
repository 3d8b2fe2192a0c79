"""My preferences on a phone, in both languages: pick choices, tick boxes, save, and see them
kept; a special need waits for review."""
import pytest
from playwright.sync_api import expect

from models import ChangeRequest, CustomField, CustomFieldValue
from services.demo.reference import ensure_fields
from tests import factories
from tests.browser.test_sign_in import customer_sign_in, t

pytestmark = pytest.mark.browser




@pytest.mark.parametrize("lang", ["zh", "en"])
def test_set_my_preferences_on_a_phone(pages, live_server, screenshots, lang):
    ensure_fields()
    customer, account = factories.make_customer(
        name="王芳" if lang == "zh" else "Emma Wilson", preferred_language=lang)
    page = pages.new_page(lang, phone=True)
    customer_sign_in(page, live_server, account.email)
    page.locator("nav.portal-tabs").get_by_role("link", name=t(lang, "My preferences"),
                                             exact=True).click()
    expect(page.locator("h1")).to_have_text(t(lang, "My preferences"))

    page.get_by_label("简约" if lang == "zh" else "Minimal", exact=True).check()
    page.get_by_label("复古" if lang == "zh" else "Vintage", exact=True).check()
    page.select_option("#pref-size", "L")
    page.fill("#pref-favourite_brands", "李宁, Uniqlo")
    page.fill("#pref-quiet_hours", "22:00-08:00")
    page.get_by_label("微信" if lang == "zh" else "WeChat", exact=True).check()
    page.fill("#pref-allergies", "花生过敏" if lang == "zh" else "Peanut allergy")
    page.click("main button[type=submit]")

    expect(page.locator(".alert-success")).to_contain_text(t(lang, "Your preferences are saved."))
    expect(page.locator("#pref-size")).to_have_value("L")
    expect(page.get_by_label("复古" if lang == "zh" else "Vintage", exact=True)).to_be_checked()
    expect(page.get_by_label("商务" if lang == "zh" else "Business", exact=True)
           ).not_to_be_checked()
    expect(page.locator("main")).to_contain_text(
        t(lang, "Waiting for review: %(value)s")
        % {"value": "花生过敏" if lang == "zh" else "Peanut allergy"})
    page.screenshot(path=screenshots / f"portal-preferences-{lang}.png", full_page=True)

    saved = {row.field.key: row.value for row in
             CustomFieldValue.select(CustomFieldValue, CustomField).join(CustomField)
             .where(CustomFieldValue.customer == customer)}
    assert saved == {"style": ["minimal", "vintage"], "size": "L",
                     "favourite_brands": "李宁, Uniqlo", "quiet_hours": "22:00-08:00",
                     "channels": ["wechat"]}
    assert "pref:allergies" in ChangeRequest.get(ChangeRequest.customer == customer).changes
    pages.assert_clean()
