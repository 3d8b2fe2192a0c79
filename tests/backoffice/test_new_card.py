"""Staff create a card in the back office ("New card"): the edit form's fields and rules, a
warning when its mobile, email or WeChat ID is already on a live card, and only for the roles
that edit cards."""
import html
import re
from urllib.parse import quote

import pytest

from models import STAFF_ROLES, AuditEvent, ContactPoint, Customer
from services import customers
from services.access import can
from tests import factories
from tests.backoffice.formdata import form_values
from tests.conftest import csrf_from

EN = {"Accept-Language": "en"}
NEW = "/staff/cards/new"


def _form(client, query=""):
    response = client.get(NEW + query, headers=EN)
    assert response.status_code == 200
    return form_values(response.get_data(as_text=True), "card-new-form")


def _create(client, values):
    return client.post(NEW, data=values, headers=EN)


def _nothing_created():
    assert Customer.select().count() == 0
    assert ContactPoint.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "customer.create").count() == 0


def _warning(page):
    start = page.index('id="possible-duplicates"')
    return page[start:page.index("</div>", start)]


def _at_field(page, field):
    """The field's input (or select/textarea) tag and the message after it, as rendered."""
    match = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{field}"[^>]*>.*?'
                      rf'(?:<div class="invalid-feedback">([^<]*)</div>|<div class="mb-3">)',
                      page, re.S)
    assert match, f"no field {field}"
    return match.group(0), match.group(1)


def test_create_a_card_with_a_chinese_name_and_mobile(client, staff_login):
    staff = staff_login(role="agent", name="李娜")
    values = _form(client)
    assert values["status"] == "prospect" and values["owner"] == staff.public_id
    values.update(name="王芳", mobile="138 0013 8000", gender="female", city="上海",
                  province="上海", company="花间美容", source="walk_in",
                  special_requirements="对芒果过敏")
    response = _create(client, values)
    assert response.status_code == 302, response.get_data(as_text=True)
    card = Customer.get(Customer.name == "王芳")
    assert response.headers["Location"] == f"/staff/cards/{card.public_id}"
    assert (card.primary_mobile, card.owner_id, card.status) == ("+8613800138000", staff.id,
                                                                 "prospect")
    assert (card.name_pinyin, card.gender, card.city) == ("wangfang", "female", "上海")
    assert card.special_requirements == "对芒果过敏"
    mobile = ContactPoint.get(ContactPoint.customer == card)
    assert (mobile.kind, mobile.normalized, mobile.is_primary) == ("mobile", "+8613800138000",
                                                                   True)
    event = AuditEvent.get(AuditEvent.action == "customer.create")
    assert (event.actor_kind, event.actor_id, event.customer_id) == ("staff", staff.id, card.id)
    assert event.after["name"] == "王芳" and event.after["mobile"] == "+8613800138000"
    assert event.after["owner"] == staff.public_id and event.after["status"] == "prospect"
    assert event.after["company"] == "花间美容"
    page = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Card created." in page and "王芳" in page and "+86 138 0013 8000" in page


def test_owner_and_status_can_be_chosen(client, staff_login):
    staff_login(role="manager")
    colleague = factories.make_staff(role="agent", name="王经理")
    values = _form(client)
    values.update(name="Emma Wilson", email="Emma.Wilson@Example.com", owner=colleague.public_id,
                  status="active", wechat="Emma_W-1991")
    assert _create(client, values).status_code == 302
    card = Customer.get(Customer.name == "Emma Wilson")
    assert (card.owner_id, card.status, card.primary_email) == (colleague.id, "active",
                                                                "emma.wilson@example.com")
    event = AuditEvent.get(AuditEvent.action == "customer.create")
    assert event.after["owner"] == colleague.public_id and event.after["status"] == "active"
    assert event.after["wechat"] == "Emma_W-1991"


@pytest.mark.parametrize("field,bad,message", [
    ("mobile", "12345", "This is not a valid phone number."),
    ("email", "not-an-email", "This is not a valid email address."),
    ("wechat", "1abc", "A WeChat ID has 6 to 20 letters, digits, - or _, and starts with a "
                       "letter."),
    ("name", "  ", "Enter the customer&#39;s name."),
    ("company", "x" * 201, "This is too long (200 characters at most)."),
    ("notes", "a\x00b", "This text contains characters that cannot be saved."),
    ("owner", "nobody1234567890", "Choose a member of staff from the list."),
    ("status", "vip", "Not a valid choice."),
])
def test_bad_input_is_shown_at_its_field_keeps_the_rest_and_creates_nothing(
        client, staff_login, field, bad, message):
    staff_login(role="agent")
    values = _form(client)
    values.update(name="张伟", mobile="13800138000", city="杭州", company="阿里",
                  notes="周末来店")
    values[field] = bad
    response = _create(client, values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    tag, shown = _at_field(page, field)
    assert "is-invalid" in tag and shown == message, (tag, shown)
    kept = form_values(page, "card-new-form")
    for other, value in (("city", "杭州"), ("company", "阿里"), ("name", "张伟"),
                         ("mobile", "13800138000")):
        if other != field:
            assert kept[other] == value, other
    _nothing_created()


def test_every_wrong_field_is_shown_at_once(client, staff_login):
    staff_login(role="agent")
    values = _form(client)
    values.update(name="", mobile="12345", email="a@", wechat="微信")
    page = _create(client, values).get_data(as_text=True)
    for field in ("name", "mobile", "email", "wechat"):
        assert "is-invalid" in _at_field(page, field)[0], field
    _nothing_created()


def test_a_contact_already_on_a_card_warns_and_anyway_creates(client, staff_login):
    staff_login(role="agent")
    existing, _ = factories.make_customer(name="张伟", mobile="13800138000", company="华为",
                                          email="zhang.wei@example.com", wechat="zhangwei_88",
                                          account=False)
    values = _form(client)
    values.update(name="张伟", mobile="+86 138-0013-8000", city="深圳")
    response = _create(client, values)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    warning = _warning(page)
    assert "This mobile, email or WeChat ID is already on a card:" in warning
    assert f'href="/staff/cards/{existing.public_id}"' in warning and "华为" in warning
    assert "+86 138 0013 8000" in warning
    assert 'name="create_anyway"' in page
    kept = form_values(page, "card-new-form")
    assert kept["city"] == "深圳" and "create_anyway" not in kept
    assert Customer.select().count() == 1

    # The email and WeChat id match as stored (lower case); every match is named.
    values.update(email="ZHANG.WEI@Example.com", wechat="ZhangWei_88")
    page = _create(client, values).get_data(as_text=True)
    warning = _warning(page)
    assert "zhang.wei@example.com" in warning and "zhangwei_88" in warning
    assert warning.count("duplicate-card") == 1  # one card, three matches
    assert Customer.select().count() == 1

    values["create_anyway"] = "y"
    response = _create(client, values)
    assert response.status_code == 302
    assert Customer.select().where(Customer.name == "张伟").count() == 2
    assert ContactPoint.select().where(ContactPoint.normalized == "+8613800138000").count() == 2


def test_an_erased_card_is_not_a_duplicate(client, staff_login):
    staff_login(role="agent")
    gone, _ = factories.make_customer(name="李雷", mobile="13900139000", account=False)
    Customer.update(erased_at=gone.created_at).where(Customer.id == gone.id).execute()
    values = _form(client)
    values.update(name="李雷", mobile="13900139000")
    assert _create(client, values).status_code == 302


def test_duplicates_are_found_in_one_query_newest_first(db):
    first, _ = factories.make_customer(name="A", mobile="13800138000", account=False)
    second, _ = factories.make_customer(name="B", email="b@example.com", account=False)
    factories.make_customer(name="C", mobile="13700137000", account=False)
    found = customers.find_duplicates(mobile="+8613800138000", email="b@example.com",
                                      wechat=None)
    assert [(d.public_id, d.matches) for d in found] == [
        (second.public_id, (("email", "b@example.com"),)),
        (first.public_id, (("mobile", "+8613800138000"),))]
    assert customers.find_duplicates() == []


@pytest.mark.parametrize("role", ["marketer", "viewer"])
def test_roles_that_do_not_edit_cards_cannot_create_one(client, staff_login, role):
    staff_login(role=role)
    assert client.get(NEW).status_code == 403
    token = csrf_from(client, "/staff/cards/")
    response = client.post(NEW, data={"csrf_token": token, "name": "王芳",
                                      "mobile": "13800138000", "status": "prospect"})
    assert response.status_code == 403
    _nothing_created()


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_the_list_offers_new_card_to_the_roles_that_may(client, staff_login, role):
    staff_login(role=role)
    page = client.get("/staff/cards/", headers=EN).get_data(as_text=True)
    assert (f'id="new-card" href="{NEW}"' in page) is can(role, "cards.edit")


@pytest.mark.parametrize("query,prefilled", [
    ("139 1234 5678", {"mobile": "139 1234 5678"}),
    ("+86 13912345678", {"mobile": "+86 13912345678"}),
    ("wang.fang@example.com", {"email": "wang.fang@example.com"}),
    ("王芳", {"name": "王芳"}),
    ("Emma 2", {"name": "Emma 2"}),
])
def test_a_search_that_finds_nothing_offers_a_prefilled_card(client, staff_login, query,
                                                             prefilled):
    staff_login(role="agent")
    factories.make_customer(name="张伟", mobile="13800138000", account=False)
    for path, headers in (("/staff/cards/", EN), ("/staff/cards/results", {**EN,
                                                                          "HX-Request": "1"})):
        page = client.get(f"{path}?q={quote(query)}", headers=headers).get_data(as_text=True)
        link = re.search(r'<a id="create-from-search" href="([^"]+)">([^<]+)</a>', page)
        assert link, path
        assert html.unescape(link.group(2)) == f'Create a card for "{query}"'
    href = link.group(1).replace("&amp;", "&")
    assert href.startswith(NEW + "?")
    values = form_values(client.get(href, headers=EN).get_data(as_text=True), "card-new-form")
    for field in ("name", "mobile", "email"):
        assert values[field] == prefilled.get(field, ""), field


def test_a_search_that_finds_cards_or_a_viewer_gets_no_create_link(client, staff_login):
    staff_login(role="agent")
    factories.make_customer(name="张伟", mobile="13800138000", account=False)
    page = client.get("/staff/cards/?q=张伟", headers=EN).get_data(as_text=True)
    assert "create-from-search" not in page
    other = factories.make_staff(role="viewer")
    client.post("/staff/logout", data={"csrf_token": csrf_from(client, "/staff/")})
    from tests.conftest import login
    assert login(client, other.email, factories.PASSWORD, "/staff").status_code == 302
    page = client.get("/staff/cards/?q=王芳", headers=EN).get_data(as_text=True)
    assert "No cards match." in page and "create-from-search" not in page


def test_the_page_speaks_chinese(client, staff_login):
    staff_login(role="agent")
    page = client.get(NEW, headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "新建资料卡" in page and "New card" not in page
