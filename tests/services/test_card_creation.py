"""A new card's contact points (email, mobile, WeChat id) pass the same rules as the card's edit
form: whatever creates the card (staff, import, demo data, self-registration), nothing is stored
that would later block saving the edit form."""
import pytest

from models import AuditEvent, ContactPoint, Customer
from services import DomainError, customers, profile
from tests import factories
from tests.backoffice.formdata import form_values

EN = {"Accept-Language": "en"}
WECHAT_MESSAGE = ("A WeChat ID has 6 to 20 letters, digits, - or _, and starts with a "
                  "letter.")


def _nothing_saved():
    assert Customer.select().count() == 0
    assert ContactPoint.select().count() == 0
    assert AuditEvent.select().where(AuditEvent.action == "customer.create").count() == 0


@pytest.mark.parametrize("wechat", ["wx<script>", "12345678", "wx_1", "a" * 21, "微信号码abc",
                                    "wx id 88", "wx_abc\x07def"])
def test_a_new_card_refuses_a_wechat_id_the_edit_form_refuses(db, wechat):
    with pytest.raises(profile.FieldErrors) as refused:
        customers.create_customer(factories.SYSTEM, name="张伟", mobile="13800138000",
                                  wechat=wechat)
    assert list(refused.value.errors) == ["wechat"]
    with pytest.raises(profile.FieldErrors) as by_edit:
        profile.clean({"wechat": wechat}, ["wechat"])
    assert refused.value.errors == by_edit.value.errors  # one rule, one message
    _nothing_saved()


def test_the_wechat_message_is_the_edit_forms(db):
    with pytest.raises(profile.FieldErrors) as refused:
        customers.create_customer(factories.SYSTEM, name="张伟", wechat="no")
    assert refused.value.errors["wechat"][0] == WECHAT_MESSAGE


def test_bad_email_and_mobile_are_field_errors_all_at_once(db):
    with pytest.raises(profile.FieldErrors) as refused:
        customers.create_customer(factories.SYSTEM, name="张伟", email="not-an-email",
                                  mobile="12345", wechat="1wx")
    assert set(refused.value.errors) == {"email", "mobile", "wechat"}
    assert refused.value.errors["email"][0] == "This is not a valid email address."
    assert refused.value.errors["mobile"][0] == "This is not a valid phone number."
    _nothing_saved()


def test_a_missing_name_is_still_a_field_error(db):
    with pytest.raises(DomainError) as refused:
        customers.create_customer(factories.SYSTEM, name=" ", wechat="zhangwei_88")
    assert list(refused.value.errors) == ["name"]
    _nothing_saved()


def test_valid_contacts_are_stored_as_the_edit_form_stores_them(db):
    customer = customers.create_customer(
        factories.SYSTEM, name="Emma Wilson", country="GB", email=" Emma.Wilson@Example.com ",
        mobile="07946 095812", wechat=" Emma_W-1991 ")
    stored = {c.kind: (c.value, c.normalized) for c in ContactPoint.select().where(
        ContactPoint.customer == customer)}
    assert stored == {"email": ("Emma.Wilson@Example.com", "emma.wilson@example.com"),
                      "mobile": ("07946 095812", "+447946095812"),
                      "wechat": ("Emma_W-1991", "emma_w-1991")}
    card = Customer.get_by_id(customer.id)
    assert (card.primary_email, card.primary_mobile) == ("emma.wilson@example.com",
                                                         "+447946095812")


def test_blank_contacts_make_no_contact_point(db):
    customer = customers.create_customer(factories.SYSTEM, name="张伟", email="  ",
                                         mobile="", wechat=" ")
    assert ContactPoint.select().where(ContactPoint.customer == customer).count() == 0


def test_a_new_cards_wechat_id_keeps_its_edit_form_saveable(client, staff_login):
    """The symptom: a card created with a WeChat id the edit form refuses could not be saved
    in the edit form at all (any change failed on the WeChat field). A new card now holds only
    ids the form accepts, and the form saves."""
    staff_login(role="agent")
    with pytest.raises(profile.FieldErrors):
        customers.create_customer(factories.SYSTEM, name="李雷", wechat="li lei!")
    customer, _ = factories.make_customer(name="李雷", wechat="LiLei_1990", account=False)
    path = f"/staff/cards/{customer.public_id}/edit"
    values = form_values(client.get(path, headers=EN).get_data(as_text=True), "card-edit-form")
    assert values["wechat"] == "LiLei_1990"
    response = client.post(path, data={**values, "city": "杭州"}, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert Customer.get_by_id(customer.id).city == "杭州"
