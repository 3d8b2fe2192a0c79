"""My data on a phone, in both languages: prepare the download and get the ZIP."""
import zipfile

import pytest

from tests import factories
from tests.browser.test_sign_in import customer_sign_in, t

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_download_my_data_on_a_phone(pages, live_server, screenshots, tmp_path, lang):
    customer, account = factories.make_customer(name="王芳" if lang == "zh" else "Emma Wilson",
                                                preferred_language=lang)
    factories.make_purchase(customer, amount="268.00", product="保湿面霜 50ml")
    page = pages.new_page(lang, phone=True, accept_downloads=True)
    customer_sign_in(page, live_server, account.email)
    page.locator("nav.portal-tabs").get_by_role("link", name=t(lang, "My data"),
                                                exact=True).click()
    page.screenshot(path=screenshots / f"portal-mydata-{lang}.png", full_page=True)
    page.get_by_role("button", name=t(lang, "Prepare my data download")).click()
    with page.expect_download() as download:
        page.locator("main form button[type=submit]").first.click()
    path = tmp_path / "card.zip"
    download.value.save_as(path)
    with zipfile.ZipFile(path) as archive:
        assert "card.json" in archive.namelist()
        assert "保湿面霜 50ml" in archive.read("purchases.csv").decode("utf-8-sig")
    pages.assert_clean()
