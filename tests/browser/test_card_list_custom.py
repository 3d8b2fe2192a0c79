"""The card list's custom-field filters in a browser, in both languages: a number range
(from/to) narrows the list, a multi-choice "includes", and "abc" typed as a number is shown at
that input while the other filters stay filled in."""
import pytest
from playwright.sync_api import expect

from models import CustomField, CustomFieldValue
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS)
def test_number_range_and_bad_input(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="manager")
    age = CustomField.create(key="age", label_zh="年龄", label_en="Age", kind="number")
    hobbies = CustomField.create(key="hobbies", label_zh="爱好", label_en="Hobbies",
                                 kind="multi_choice",
                                 choices=[{"value": "tea", "zh": "茶", "en": "Tea"},
                                          {"value": "golf", "zh": "高尔夫", "en": "Golf"}])
    CustomField.create(key="joined", label_zh="入会日期", label_en="Joined", kind="date")
    for name, years, likes in (("张伟", 30, ["tea"]), ("李雷", 52, ["golf"]), ("王芳", 19, [])):
        card = factories.make_customer(name=name, account=False)[0]
        CustomFieldValue.create(customer=card, field=age, value=years)
        if likes:
            CustomFieldValue.create(customer=card, field=hobbies, value=likes)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    page.goto(f"{live_server}/staff/cards/")
    page.locator("details.card-filter-panel summary").click()
    page.fill("#f-cf-age-from", "20")
    page.fill("#f-cf-age-to", "60")
    page.locator("details.card-filter-panel button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/cards/?cf_age.from=20&cf_age.to=60")
    rows = page.locator("#card-results tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#f-cf-age-from")).to_have_value("20")
    page.locator("details.card-filter-panel").screenshot(
        path=str(screenshots / f"backoffice-card-filter-range-{lang}.png"))

    page.select_option("#f-cf-hobbies", "golf")
    page.locator("details.card-filter-panel button[type=submit]").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("李雷")

    page.fill("#f-cf-age-from", "abc")
    page.locator("details.card-filter-panel button[type=submit]").click()
    expect(page.locator("#f-cf-age-from")).to_have_class("form-control is-invalid")
    expect(page.locator("#f-cf-age-from-error")).to_be_visible()
    expect(page.locator("#f-cf-age-to")).to_have_value("60")
    expect(page.locator("#f-cf-hobbies")).to_have_value("golf")
    expect(page.locator("#filter-errors")).to_be_visible()
    page.screenshot(path=str(screenshots / f"backoffice-card-filter-error-{lang}.png"),
                    full_page=True)
    pages.assert_clean()
