"""The data dictionary through HTTP: every built-in and custom field with its rules in both
languages; admins add, change, deactivate and reactivate custom fields (validated, audited,
values never lost); other roles may read but not change it."""
import pytest

from models import AuditEvent, CustomField, CustomFieldValue
from services import (
    DomainError,
    crypto,
    custom_fields,
    dictionary,
    field_values,
    preferences,
)
from services.profile import FieldErrors
from tests import factories
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN"}
INDEX = "/staff/dictionary/"
NEW = "/staff/dictionary/new"

GOOD = {"key": "shoe_size", "section": "card", "label_zh": "鞋码", "label_en": "Shoe size",
        "kind": "number", "pattern": r"\d{2}(\.5)?", "help_zh": "欧码", "help_en": "EU size",
        "portal_policy": "auto", "position": "20", "required": "y"}


def html(response):
    return response.get_data(as_text=True)


def add(client, **changes):
    return post_form(client, NEW, {**GOOD, **changes}, headers=EN)


def test_the_dictionary_lists_builtin_and_custom_fields_with_their_rules(client, staff_login):
    CustomField.create(key="membership_no", label_zh="会员卡号", label_en="Membership number",
                       pattern=r"M\d{9}", required=True, help_en="Assigned by the store",
                       visible_roles=["admin", "agent"], portal_policy="locked")
    CustomField.create(key="old", label_zh="旧字段", label_en="Old field", active=False)
    staff_login(role="viewer")
    page = html(client.get(INDEX, headers=EN))
    for text in ("Full name", "At most 200 characters.", "WeChat ID", "starting with a letter",
                 "6 digits in China", "Lunar birthday",
                 "ID number", "check digit", "110***********1234", "Tier", "Owner", "Source",
                 "Customer edits, staff review first",  # name: review by default
                 "Membership number", "M\\d{9}", "Assigned by the store", "Admin, Agent",
                 "Shown in the portal, not editable", "deactivated", "Old field"):
        assert text in page, text
    assert 'href="/staff/dictionary/new"' not in page and "/edit" not in page
    zh = html(client.get(INDEX, headers=ZH))
    assert "会员卡号" in zh and "Membership number" not in zh


def test_an_admin_adds_a_field_and_it_is_audited(client, staff_login):
    staff_login(role="admin")
    assert 'href="/staff/dictionary/new"' in html(client.get(INDEX, headers=EN))
    response = add(client, visible_roles=["manager", "admin"])
    assert response.status_code == 302 and response.headers["Location"] == INDEX
    field = CustomField.get(CustomField.key == "shoe_size")
    assert (field.kind, field.required, field.pattern, field.position, field.visible_roles,
            field.portal_policy, field.help_en) == ("number", True, r"\d{2}(\.5)?", 20,
                                                    ["admin", "manager"], "auto", "EU size")
    event = AuditEvent.get(AuditEvent.action == "dictionary.create")
    assert event.entity_id == "shoe_size" and event.after["label_en"] == "Shoe size"


def test_bad_definitions_are_refused_at_each_field_with_the_input_kept(client, staff_login):
    staff_login(role="admin")
    CustomField.create(key="taken", label_zh="甲", label_en="A")
    response = add(client, key="taken", label_en="", pattern="(unclosed", position="x",
                   label_zh="<script>alert(1)</script>")
    page = html(response)
    assert response.status_code == 200
    assert "Another field already has this key." in page
    assert "This field is required." in page
    assert "This is not a valid regular expression" in page
    assert "Enter a whole number." in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'value="(unclosed"' in page
    assert CustomField.select().count() == 1
    for bad, message in (({"key": "Name X"}, "lower-case letters"),
                         ({"key": "mobile"}, "belongs to a built-in field"),
                         ({"kind": "choice", "pattern": ""}, "at least one choice"),
                         ({"kind": "bool"}, "text, number and date fields only"),
                         ({"sensitive": "y"}, "Sensitive fields never reach the portal"),
                         ({"kind": "choice", "pattern": "", "choices": "a|甲|A\na|乙|B"},
                          "listed twice")):
        assert message in html(add(client, **bad)), bad
    assert CustomField.select().count() == 1


def test_a_choice_field_parses_its_choices(client, staff_login):
    staff_login(role="admin")
    add(client, key="segment", kind="multi_choice", pattern="",
        choices="a | 甲 | Alpha\n\nb|乙\n c ")
    field = CustomField.get(CustomField.key == "segment")
    assert field.choices == [{"value": "a", "zh": "甲", "en": "Alpha"},
                             {"value": "b", "zh": "乙", "en": "乙"},
                             {"value": "c", "zh": "c", "en": "c"}]
    page = html(client.get("/staff/dictionary/segment/edit", headers=EN))
    assert "a | 甲 | Alpha" in page


def test_editing_keeps_the_key_and_a_kind_with_values_cannot_change(client, staff_login):
    staff_login(role="admin")
    add(client)
    field = CustomField.get(CustomField.key == "shoe_size")
    card, _ = factories.make_customer(account=False)
    field_values.save_values(card, {"shoe_size": field}, {"shoe_size": 42})
    response = post_form(client, "/staff/dictionary/shoe_size/edit",
                         {**GOOD, "key": "hacked", "kind": "text", "label_en": "Shoe"},
                         headers=EN)
    assert "its kind cannot change" in html(response)
    response = post_form(client, "/staff/dictionary/shoe_size/edit",
                         {**GOOD, "key": "hacked", "label_en": "EU shoe size"}, headers=EN)
    assert response.status_code == 302
    field = CustomField.get_by_id(field.id)
    assert (field.key, field.label_en) == ("shoe_size", "EU shoe size")
    event = AuditEvent.get(AuditEvent.action == "dictionary.update")
    assert event.before == {"label_en": "Shoe size"} and event.after == {
        "label_en": "EU shoe size"}


def test_marking_a_field_sensitive_encrypts_the_values_cards_hold(client, staff_login, db):
    staff_login(role="admin")
    add(client, key="passport", kind="text", pattern="", portal_policy="hidden",
        required="")
    field = CustomField.get(CustomField.key == "passport")
    card, _ = factories.make_customer(account=False)
    field_values.save_values(card, {"passport": field}, {"passport": "E12345678"})
    post_form(client, "/staff/dictionary/passport/edit",
              {**GOOD, "key": "passport", "kind": "text", "pattern": "", "required": "",
               "portal_policy": "hidden", "sensitive": "y"}, headers=EN)
    stored = CustomFieldValue.get().value
    assert crypto.is_sealed(stored) and "E12345678" not in str(stored)
    assert crypto.unseal(stored) == "E12345678"
    post_form(client, "/staff/dictionary/passport/edit",
              {**GOOD, "key": "passport", "kind": "text", "pattern": "", "required": "",
               "portal_policy": "hidden"}, headers=EN)
    assert CustomFieldValue.get().value == "E12345678"


def test_deactivating_hides_the_field_and_keeps_its_values(client, staff_login):
    staff_login(role="admin")
    add(client)
    field = CustomField.get(CustomField.key == "shoe_size")
    card, _ = factories.make_customer(account=False)
    field_values.save_values(card, {"shoe_size": field}, {"shoe_size": 42})
    response = post_form(client, "/staff/dictionary/shoe_size/active", {"active": "0"},
                         token_from=INDEX, headers=EN)
    assert response.status_code == 302
    assert not CustomField.get_by_id(field.id).active
    assert [v.key for v in custom_fields.card_values(card, "admin")] == ["id_number"]
    assert CustomFieldValue.select().count() == 1
    post_form(client, "/staff/dictionary/shoe_size/active", {"active": "1"}, token_from=INDEX)
    assert CustomField.get_by_id(field.id).active
    assert [e.action for e in AuditEvent.select().where(AuditEvent.entity == "custom_field")
            .order_by(AuditEvent.id)] == ["dictionary.create", "dictionary.deactivate",
                                          "dictionary.activate"]


@pytest.mark.parametrize("role", ["manager", "agent", "viewer", "marketer"])
def test_only_dictionary_managers_change_fields(client, staff_login, role):
    CustomField.create(key="vip_code", label_zh="代码", label_en="Code")
    staff_login(role=role)
    assert client.get(INDEX).status_code == 200
    assert client.get(NEW).status_code == 403
    assert client.get("/staff/dictionary/vip_code/edit").status_code == 403
    response = post_form(client, "/staff/dictionary/vip_code/active", {"active": "0"},
                         token_from=INDEX)
    assert response.status_code == 403 and CustomField.get().active


def test_unknown_fields_are_404(client, staff_login):
    staff_login(role="admin")
    assert client.get("/staff/dictionary/nope/edit").status_code == 404


# --- the one validation, shared by the portal and the staff ---------------------------------------

def test_portal_and_staff_share_one_validation(db):
    assert preferences.clean_value is field_values.clean_value
    field = CustomField.create(key="code", label_zh="码", label_en="Code", pattern=r"[A-Z]\d+",
                               required=True)
    assert field_values.clean_value(field, " A12 ") == "A12"
    for raw in ("a12", "A12x", "A" + "1" * 600):
        with pytest.raises(DomainError):
            field_values.clean_value(field, raw)
    with pytest.raises(FieldErrors) as exc:
        field_values.clean({"code": field}, {"code": ""})
    assert exc.value.errors["code"][0] == "This field is required."


def test_a_pattern_is_checked_when_the_field_is_saved(db):
    assert dictionary.check_pattern(r"\d{6}") == r"\d{6}"
    assert dictionary.check_pattern("  ") is None
    with pytest.raises(DomainError, match="regular expression"):
        dictionary.check_pattern("[a-")


# --- the portal policy of card fields: My details ---------------------------------------------------

@pytest.fixture
def card_fields(db):
    specs = (
        {"key": "nickname", "label_zh": "昵称", "label_en": "Nickname", "portal_policy": "auto",
         "pattern": r"[A-Za-z\u4e00-\u9fff]{1,10}", "help_en": "Letters only"},
        {"key": "company_code", "label_zh": "单位代码", "label_en": "Company code",
         "portal_policy": "review"},
        {"key": "membership_no", "label_zh": "会员卡号", "label_en": "Membership number",
         "portal_policy": "locked"},
        {"key": "internal", "label_zh": "内部", "label_en": "Internal rating",
         "portal_policy": "hidden"},
        {"key": "passport", "label_zh": "护照", "label_en": "Passport number",
         "sensitive": True},
    )
    return {s["key"]: CustomField.create(section="card", position=n, **s)
            for n, s in enumerate(specs)}


def test_my_details_shows_card_fields_by_their_portal_policy(client, customer_login,
                                                            card_fields):
    customer, _ = customer_login()
    field_values.save_values(customer, card_fields, {"membership_no": "M123456789",
                                                      "internal": "A+", "passport": "E1"})
    page = html(client.get("/details/", headers=EN))
    assert 'id="more-details"' in page and 'name="nickname"' in page
    assert "Letters only" in page and 'name="company_code"' in page
    assert "Checked by our staff before it takes effect." in page
    assert "Membership number" in page and "M123456789" in page
    assert 'name="membership_no"' not in page
    for hidden in ("Internal rating", "A+", "Passport number", 'name="passport"'):
        assert hidden not in page


def test_customers_save_card_fields_auto_at_once_and_review_via_staff(client, customer_login,
                                                                     card_fields):
    from models import ChangeRequest
    customer, _ = customer_login()
    bad = post_form(client, "/details/more", {"nickname": "x1", "company_code": "ABC"},
                    token_from="/details/", headers=EN)
    assert bad.status_code == 200 and "This is not in the expected format." in html(bad)
    assert 'value="x1"' in html(bad) and CustomFieldValue.select().count() == 0
    response = post_form(client, "/details/more",
                         {"nickname": "小王", "company_code": "ABC",
                          "membership_no": "M999999999", "internal": "Z"},  # forged: ignored
                         token_from="/details/", headers=EN)
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/details/#more-details")
    assert {row.field.key: row.value for row in CustomFieldValue.select()} == {
        "nickname": "小王"}
    request = ChangeRequest.get(ChangeRequest.customer == customer)
    assert request.changes == {"pref:company_code": {"old": None, "new": "ABC"}}
    event = AuditEvent.get(AuditEvent.action == "customer.fields")
    assert event.actor_kind == "customer" and event.after == {"nickname": "小王"}
    page = html(client.get("/details/", headers=EN))
    assert "Waiting for review: ABC" in page
