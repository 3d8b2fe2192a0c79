"""The data dictionary, sensitive fields and the audit log in Chromium, in both languages: an
admin adds a sensitive custom field (a bad pattern refused first), fills it and the ID number
on a card, sees them masked, reveals one in place (htmx), reads the card's history and the
global log, filters it and verifies the chain."""
import pytest
from playwright.sync_api import expect

from models import AuditEvent, CustomField
from tests import factories
from tests.browser.test_sign_in import LANGS, customer_sign_in, staff_sign_in

pytestmark = pytest.mark.browser

ID = "11010519491231002X"
PASSPORT = "E12345678"


@pytest.mark.parametrize("lang", LANGS)
def test_dictionary_sensitive_fields_and_the_audit_log(pages, live_server, screenshots, lang):
    admin = factories.make_staff(role="admin", name="管理员" if lang == "zh" else "Admin Li")
    customer, _ = factories.make_customer(name="韩梅梅" if lang == "zh" else "Meimei Han",
                                          account=False)
    CustomField.create(key="membership_no", label_zh="会员卡号", label_en="Membership number",
                       pattern=r"M\d{9}", position=10, help_zh="由系统分配",
                       help_en="Assigned by the store")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, admin.email)

    # The dictionary: built-in fields with their rules, then a new sensitive field.
    page.goto(f"{live_server}/staff/dictionary/")
    expect(page.locator("#builtin-id_number")).to_contain_text("110***********1234")
    expect(page.locator("#field-membership_no")).to_contain_text(r"M\d{9}")
    page.screenshot(path=screenshots / f"dictionary-{lang}.png", full_page=True)
    page.click("a[href$='/staff/dictionary/new']")
    page.fill("#key", "passport")
    page.fill("#label_zh", "护照号码")
    page.fill("#label_en", "Passport <b>number</b>")
    page.fill("#pattern", "[A-Z")
    page.check("#sensitive")
    page.select_option("#portal_policy", "hidden")
    page.check("#role-admin")
    page.check("#role-manager")
    page.click("main form button[type=submit]")
    expect(page.locator("#pattern.is-invalid")).to_be_visible()
    expect(page.locator("#label_en")).to_have_value("Passport <b>number</b>")
    page.screenshot(path=screenshots / f"dictionary-field-error-{lang}.png", full_page=True)
    page.fill("#pattern", r"[A-Z]\d{8}")
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/dictionary/")
    expect(page.locator("#field-passport")).to_contain_text(
        "护照号码" if lang == "zh" else "Passport <b>number</b>")
    assert CustomField.get(CustomField.key == "passport").visible_roles == ["admin", "manager"]

    # The card's fields: a wrong ID number is refused at its field, then everything saves.
    card_url = f"{live_server}/staff/cards/{customer.public_id}"
    page.goto(f"{card_url}/fields")
    page.fill("#field-id_number", "110105194912310021")
    page.fill("#field-membership_no", "M123456789")
    page.fill("#field-passport", PASSPORT)
    page.click("main form button[type=submit]")
    expect(page.locator("#field-id_number.is-invalid")).to_be_visible()
    expect(page.locator("#field-membership_no")).to_have_value("M123456789")
    page.screenshot(path=screenshots / f"card-fields-error-{lang}.png", full_page=True)
    page.fill("#field-id_number", ID.lower())
    page.fill("#field-passport", PASSPORT)
    page.click("main form button[type=submit]")
    page.wait_for_url(card_url)
    fields = page.locator("#card-fields")
    expect(fields).to_contain_text("110***********002X")
    expect(fields).to_contain_text("E12**5678")
    expect(fields).not_to_contain_text(ID)

    # Reveal in place: htmx swaps the clear value in; the reveal is audited.
    page.click("#card-fields [data-reveal=id_number]")
    expect(page.locator("[data-revealed=id_number]")).to_have_text(ID)
    expect(page).to_have_url(card_url)
    fields.screenshot(path=screenshots / f"card-fields-revealed-{lang}.png")
    assert AuditEvent.select().where(AuditEvent.action == "sensitive.reveal").count() == 1

    # The card's history: the change, masked, and the reveal.
    page.goto(f"{card_url}/history")
    expect(page.locator("[data-action='customer.fields'] [data-field=id_number]")) \
        .to_contain_text("110***********002X")
    expect(page.locator("[data-action='sensitive.reveal']")).to_have_count(1)
    expect(page.locator("main")).not_to_contain_text(ID)
    page.screenshot(path=screenshots / f"card-history-{lang}.png", full_page=True)

    # The global log: filter by action, then verify the chain.
    page.goto(f"{live_server}/staff/audit/")
    page.fill("#action", "sensitive.reveal")
    page.click(".audit-filters button[type=submit]")
    expect(page.locator("tr[data-action]")).to_have_count(1)
    page.click("form[action$='/staff/audit/verify'] button")
    expect(page.locator(".alert-success")).to_be_visible()
    page.screenshot(path=screenshots / f"audit-log-{lang}.png", full_page=True)
    pages.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_card_fields_in_my_details_on_a_phone(pages, live_server, screenshots, lang):
    CustomField.create(key="nickname", section="card", label_zh="昵称", label_en="Nickname",
                       portal_policy="auto", pattern=r"[A-Za-z\u4e00-\u9fff]{1,10}",
                       help_zh="只用字母或汉字", help_en="Letters only", position=1)
    CustomField.create(key="membership_no", section="card", label_zh="会员卡号",
                       label_en="Membership number", portal_policy="locked", position=2)
    _customer, account = factories.make_customer(preferred_language=lang)
    page = pages.new_page(lang, phone=True)
    customer_sign_in(page, live_server, account.email)
    page.goto(f"{live_server}/details/")
    page.fill("#pref-nickname", "x1")
    page.click("#more-details button[type=submit]")
    expect(page.locator("#pref-nickname.is-invalid")).to_be_visible()
    page.fill("#pref-nickname", "小王")
    page.click("#more-details button[type=submit]")
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#pref-nickname")).to_have_value("小王")
    page.locator("#more-details").screenshot(path=screenshots / f"details-card-fields-{lang}.png")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    pages.assert_clean()
