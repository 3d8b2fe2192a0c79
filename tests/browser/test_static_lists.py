"""Static lists in a browser, in both languages: the card page's "Add to list" control (loaded
and swapped by htmx: add, "already in this list", remove) and the card list's bulk "add to the
list" on every card a search finds, confirmed with the count."""
import pytest
from playwright.sync_api import expect

from models import SegmentMember
from services import segments
from tests import factories
from tests.browser.test_sign_in import LANGS, staff_sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", LANGS)
def test_add_to_list_from_the_card_and_in_bulk(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="manager")
    vip = segments.create_segment(factories.SYSTEM, None, "VIP 贵宾", "", "static")
    segments.create_segment(factories.SYSTEM, None, "<script>alert(1)</script>", "", "static")
    card = factories.make_customer(name="张伟", city="上海", account=False)[0]
    factories.make_customer(name="张伟明", city="北京", account=False)
    factories.make_customer(name="李雷", city="上海", account=False)
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)

    # On the card: the control loads by htmx; add, then the same list again, then remove.
    page.goto(f"{live_server}/staff/cards/{card.public_id}")
    control = page.locator("#card-lists")
    expect(control.locator("#card-list-choice")).to_be_visible()
    page.select_option("#card-list-choice", vip.public_id)
    control.locator("form button[type=submit]").last.click()
    expect(control.locator(".alert-success")).to_contain_text("VIP 贵宾")
    expect(control.locator(".card-list-item")).to_have_count(1)
    page.select_option("#card-list-choice", vip.public_id)
    control.locator("#card-list-choice + button").click()
    expect(control.locator(".alert-info")).to_be_visible()
    expect(control.locator("#card-list-choice option", has_text="<script>")).to_have_count(1)
    control.screenshot(path=str(screenshots / f"backoffice-card-lists-{lang}.png"))
    page.screenshot(path=str(screenshots / f"backoffice-card-with-lists-{lang}.png"),
                    full_page=True)
    assert SegmentMember.select().where(SegmentMember.segment == vip.id).count() == 1
    control.locator(".card-list-item button").click()
    expect(control.locator(".card-list-item")).to_have_count(0)
    assert SegmentMember.select().where(SegmentMember.segment == vip.id).count() == 0

    # On the list: every card a search finds, after the confirmation with the count.
    page.goto(f"{live_server}/staff/cards/?q=%E5%BC%A0%E4%BC%9F")
    expect(page.locator("#card-results tbody tr")).to_have_count(2)
    page.select_option("select[name=scope]", "all")
    page.select_option("#bulk-action", "list")
    expect(page.locator("select[name=list_value]")).to_be_visible()
    expect(page.locator("input[name=tag_value]")).to_be_hidden()
    page.select_option("select[name=list_value]", vip.public_id)
    page.locator("#bulk-form").screenshot(
        path=str(screenshots / f"backoffice-card-list-bulk-list-{lang}.png"))
    page.locator("#bulk-form button[type=submit]").click()
    expect(page.locator("main p").first).to_contain_text("VIP 贵宾")
    expect(page.locator("main p").first).to_contain_text("2")
    page.screenshot(path=str(screenshots / f"backoffice-card-list-bulk-list-confirm-{lang}.png"),
                    full_page=True)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(f"{live_server}/staff/cards/?q=%E5%BC%A0%E4%BC%9F")
    expect(page.locator(".alert-success").first).to_contain_text("VIP 贵宾")
    assert SegmentMember.select().where(SegmentMember.segment == vip.id).count() == 2
    pages.assert_clean()
