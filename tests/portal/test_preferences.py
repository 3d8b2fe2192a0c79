"""My preferences: customers keep their own preferences (CustomFields of section "preference")
under each field's portal policy, through HTTP with the page's CSRF token."""
import pytest
from werkzeug.test import Client

from models import AuditEvent, ChangeRequest, Customer, CustomField, CustomFieldValue
from services import DomainError, preferences
from services.actors import Actor
from services.demo.reference import ensure_fields
from tests import factories
from tests.conftest import login, post_form

EN = {"Accept-Language": "en"}
GOOD = {"style": ["minimal", "casual"], "size": "M", "favourite_brands": "Uniqlo, 李宁",
        "quiet_hours": "22:00-08:00", "channels": ["wechat"], "allergies": ""}




@pytest.fixture
def fields(db):
    """The demo's preference fields, plus one of each other kind, a hidden one, a sensitive
    one and a locked one."""
    existing, _ = ensure_fields()
    extra = (
        {"key": "shoe_size", "label_zh": "鞋码", "label_en": "Shoe size", "kind": "number",
         "portal_policy": "auto", "position": 70},
        {"key": "anniversary", "label_zh": "纪念日", "label_en": "Anniversary", "kind": "date",
         "portal_policy": "auto", "position": 80},
        {"key": "gift_wrap", "label_zh": "需要礼品包装", "label_en": "Gift wrapping",
         "kind": "bool", "portal_policy": "auto", "position": 90},
        {"key": "nickname", "label_zh": "昵称", "label_en": "Nickname", "kind": "text",
         "portal_policy": "auto", "position": 100, "pattern": r"[A-Za-z\u4e00-\u9fff]{1,10}",
         "required": True},
        {"key": "internal_rating", "label_zh": "内部评级", "label_en": "Internal rating",
         "kind": "text", "portal_policy": "hidden", "position": 110},
        {"key": "health_notes", "label_zh": "健康记录", "label_en": "Health notes",
         "kind": "text", "portal_policy": "auto", "sensitive": True, "position": 120},
        {"key": "vip_code", "label_zh": "贵宾代码", "label_en": "VIP code", "kind": "text",
         "portal_policy": "locked", "position": 130},
        {"key": "old_field", "label_zh": "旧字段", "label_en": "Old field", "kind": "text",
         "portal_policy": "auto", "position": 140, "active": False},
    )
    for spec in extra:
        existing[spec["key"]] = CustomField.create(section="preference", **spec)
    return existing


def good(**changes):
    return {**GOOD, "nickname": "小王", **changes}


def save(client, data, headers=None):
    return post_form(client, "/preferences/", data, headers=headers or {})


def stored(customer):
    return {row.field.key: row.value for row in
            CustomFieldValue.select(CustomFieldValue, CustomField).join(CustomField)
            .where(CustomFieldValue.customer == customer)}


def set_value(customer, field, value):
    CustomFieldValue.create(customer=customer, field=field, value=value)


def test_the_form_shows_the_fields_by_kind_in_the_page_language(client, customer_login,
                                                                  fields):
    customer_login()
    page = client.get("/preferences/", headers=EN).get_data(as_text=True)
    assert "Styles" in page and "Minimal" in page and "e.g. 22:00-08:00" in page
    assert page.index('name="style"') < page.index('name="size"') < page.index(
        'name="channels"') < page.index('name="shoe_size"')
    assert page.count('type="checkbox" name="style"') == 4
    assert '<select class="form-select" name="size"' in page and '<option value="">' in page
    assert 'inputmode="decimal" name="shoe_size"' in page
    assert 'type="date" name="anniversary"' in page
    assert 'type="checkbox" name="gift_wrap"' in page
    assert "Checked by our staff before it takes effect." in page  # allergies: review
    # locked: shown, not editable; hidden, sensitive, inactive and card fields: not at all
    assert "VIP code" in page and 'name="vip_code"' not in page
    for key in ("internal_rating", "health_notes", "old_field", "membership_no"):
        assert f'name="{key}"' not in page
    assert "Internal rating" not in page and "Health notes" not in page
    assert "Membership number" not in page
    zh = client.get("/preferences/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "风格偏好" in zh and "简约" in zh and "例如 22:00-08:00" in zh and ">Styles<" not in zh


def test_good_input_is_saved_with_an_audit_trail(client, customer_login, fields):
    customer, _ = customer_login()
    version = Customer.get_by_id(customer.id).version
    response = save(client, good(shoe_size="４２.5", anniversary="2015-05-20", gift_wrap="y"))
    assert response.status_code == 302 and response.headers["Location"] == "/preferences/"
    assert stored(customer) == {"style": ["minimal", "casual"], "size": "M",
                                "favourite_brands": "Uniqlo, 李宁", "quiet_hours": "22:00-08:00",
                                "channels": ["wechat"], "shoe_size": 42.5,
                                "anniversary": "2015-05-20", "gift_wrap": True,
                                "nickname": "小王"}
    card = Customer.get_by_id(customer.id)
    assert card.version == version + 1 and card.updated_at >= customer.updated_at
    event = AuditEvent.get(AuditEvent.action == "customer.preferences")
    assert event.actor_kind == "customer" and event.customer_id == customer.id
    assert event.before["size"] is None and event.after["size"] == "M"
    assert event.after["style"] == ["minimal", "casual"]
    page = client.get("/preferences/", headers=EN).get_data(as_text=True)
    assert 'value="M" selected' in page and 'value="Uniqlo, 李宁"' in page
    assert 'value="2015-05-20"' in page and 'value="42.5"' in page
    # saving it unchanged changes nothing; emptying a field deletes its row
    save(client, good(shoe_size="42.5", anniversary="2015-05-20", gift_wrap="y"))
    assert Customer.get_by_id(customer.id).version == version + 1
    save(client, good(size="", favourite_brands="  "))
    assert "size" not in stored(customer) and "favourite_brands" not in stored(customer)
    assert "gift_wrap" not in stored(customer)  # unticked


def test_multi_choice_round_trip(client, customer_login, fields):
    customer, _ = customer_login()
    save(client, good(style=["vintage", "minimal"], channels=["sms", "email", "wechat"]))
    # kept in the defined order, whatever order they were posted in
    assert stored(customer)["style"] == ["minimal", "vintage"]
    assert stored(customer)["channels"] == ["email", "sms", "wechat"]
    page = client.get("/preferences/", headers=EN).get_data(as_text=True)
    assert 'value="minimal" checked' in page and 'value="vintage" checked' in page
    assert 'value="casual">' in page and 'value="business">' in page
    save(client, good(style=[], channels=["phone"]))
    assert "style" not in stored(customer) and stored(customer)["channels"] == ["phone"]


@pytest.mark.parametrize("field,value,message", [
    ("size", "XXL", "Choose from the options shown."),
    ("style", ["minimal", "punk"], "Choose from the options shown."),
    ("shoe_size", "forty", "Enter a number."),
    ("anniversary", "2023-02-30", "This date does not exist."),
    ("anniversary", "20/05/2015", "Enter the date as YYYY-MM-DD."),
    ("anniversary", "1066-10-14", "Enter a date between 1900 and 2100."),
    ("favourite_brands", "长" * 501, "This is too long (500 characters at most)."),
    ("favourite_brands", "bad\x00brand", "characters that cannot be saved"),
    ("quiet_hours", "ok\x1b[31m", "characters that cannot be saved"),
    ("nickname", "", "This field is required."),
    ("nickname", "x1!", "This is not in the expected format."),
])
def test_bad_input_is_marked_at_its_field_and_nothing_is_saved(client, customer_login, fields,
                                                               field, value, message):
    customer, _ = customer_login()
    response = save(client, good(**{"quiet_hours": "21:00-07:00", field: value}), headers=EN)
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 200
    assert message in page
    marked = page.index(message)
    assert page.rindex(f'name="{field}"', 0, marked) > page.rindex('class="mb-3 pref-field"', 0,
                                                                    marked)
    assert "is-invalid" in page
    if field != "quiet_hours":
        assert 'value="21:00-07:00"' in page  # the rest of the input is kept
    assert stored(customer) == {} and AuditEvent.select().where(
        AuditEvent.action == "customer.preferences").count() == 0


def test_all_errors_are_reported_at_once(client, customer_login, fields):
    customer, _ = customer_login()
    page = save(client, good(size="XXL", shoe_size="x", nickname=""), headers=EN).get_data(
        as_text=True)
    assert page.count('class="invalid-feedback d-block"') == 3
    assert stored(customer) == {}


def test_a_broken_pattern_does_not_lock_the_customer_out(client, customer_login, fields):
    customer, _ = customer_login()
    CustomField.update(pattern="([unclosed").where(CustomField.key == "nickname").execute()
    assert save(client, good()).status_code == 302
    assert stored(customer)["nickname"] == "小王"


def test_a_review_field_waits_for_staff(client, customer_login, fields):
    customer, _ = customer_login()
    set_value(customer, fields["allergies"], "花生")
    save(client, good(allergies="花生、海鲜 <b>"))
    assert stored(customer)["allergies"] == "花生"  # the old value stays until staff decide
    request = ChangeRequest.get(ChangeRequest.customer == customer)
    assert request.status == "pending"
    assert request.changes["pref:allergies"] == {"old": "花生", "new": "花生、海鲜 <b>"}
    event = AuditEvent.get(AuditEvent.action == "change_request.submit")
    assert event.after == {"pref:allergies": "花生、海鲜 <b>"}
    page = client.get("/preferences/", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert "花生、海鲜 &lt;b&gt;" in page and "<b>" not in page
    save(client, good(allergies="乳糖"))  # a second edit updates the one pending request
    assert ChangeRequest.select().count() == 1
    assert ChangeRequest.get().changes["pref:allergies"]["new"] == "乳糖"


def test_a_pending_details_request_is_shared(client, customer_login, fields):
    customer, _ = customer_login()
    ChangeRequest.create(customer=customer, changes={"name": {"old": "a", "new": "b"}})
    save(client, good(allergies="青霉素"))
    assert ChangeRequest.select().count() == 1
    assert set(ChangeRequest.get().changes) == {"name", "pref:allergies"}


def test_locked_hidden_sensitive_and_inactive_fields_cannot_be_posted(client, customer_login,
                                                                       fields):
    customer, _ = customer_login()
    set_value(customer, fields["vip_code"], "GOLD")
    forged = {"vip_code": "PLATINUM", "internal_rating": "A+", "health_notes": "x",
              "old_field": "y", "membership_no": "M000000001", "tier": "1"}
    assert save(client, good(**forged)).status_code == 302
    assert stored(customer) == {**{k: v for k, v in good().items() if v and k != "allergies"},
                                "vip_code": "GOLD"}
    assert ChangeRequest.select().count() == 0
    for key, value in forged.items():
        with pytest.raises(DomainError):
            preferences.update_preferences(customer, {key: value}, Actor.system())
    assert stored(customer)["vip_code"] == "GOLD"
    page = client.get("/preferences/", headers=EN).get_data(as_text=True)
    assert "GOLD" in page and 'name="vip_code"' not in page


def test_values_come_in_one_query_and_never_sensitive_ones(db, fields):
    from tests.test_cards_pages import count_queries
    customer, _ = factories.make_customer(account=False)
    set_value(customer, fields["size"], "L")
    set_value(customer, fields["health_notes"], "ciphertext")
    with count_queries() as queries:
        assert preferences.values(customer) == {"size": "L"}
    assert len(queries) == 1


def test_another_customers_preferences_are_never_shown(app, db, fields):
    first, _a1 = factories.make_customer(name="王芳")
    second, a2 = factories.make_customer(name="李娜")
    set_value(first, fields["favourite_brands"], "王芳的品牌")
    set_value(first, fields["vip_code"], "FIRST-VIP")
    set_value(first, fields["allergies"], "王芳的过敏")
    browser = Client(app)
    login(browser, a2.email, factories.PASSWORD)
    page = browser.get("/preferences/").get_data(as_text=True)
    assert "王芳的品牌" not in page and "FIRST-VIP" not in page and "王芳的过敏" not in page
    post_form(browser, "/preferences/", good(favourite_brands="李娜的品牌"))
    assert stored(first)["favourite_brands"] == "王芳的品牌"
    assert stored(second)["favourite_brands"] == "李娜的品牌"


def test_the_tab_is_in_the_portal_navigation(client, customer_login, fields):
    customer_login()
    page = client.get("/", headers=EN).get_data(as_text=True)
    assert 'href="/preferences/"' in page and "My preferences" in page


def test_staff_see_the_preferences_and_special_needs_on_the_card(client, staff_login, fields):
    from tests.test_cards_pages import count_queries
    staff_login(role="agent")
    customer, _ = factories.make_customer(name="张伟", special_requirements="轮椅通道")
    set_value(customer, fields["style"], ["minimal", "vintage"])
    set_value(customer, fields["size"], "XL")
    set_value(customer, fields["allergies"], "花生过敏 <script>")
    set_value(customer, fields["health_notes"], "ciphertext-abc")
    with count_queries() as queries:
        page = client.get(f"/staff/cards/{customer.public_id}", headers=EN).get_data(
            as_text=True)
    assert "轮椅通道" in page
    assert "Allergies / special needs" in page and "花生过敏 &lt;script&gt;" in page
    assert "Styles" in page and "Minimal, Vintage" in page and "XL" in page
    assert "ciphertext-abc" not in page and "Health notes" not in page
    assert len(queries) <= 13, queries
    zh = client.get(f"/staff/cards/{customer.public_id}",
                    headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert "风格偏好" in zh and "简约、复古" in zh
