"""Staff edit a card: the portal's validation rules, the staff-only fields, and optimistic
locking (two staff editing one card never silently overwrite each other)."""
import datetime

import pytest
from werkzeug.test import Client

from models import AuditEvent, ContactPoint, Customer, CustomerTag, Tag
from services import DomainError, card_edit, profile
from services.actors import Actor
from tests import factories
from tests.backoffice.formdata import form_values
from tests.conftest import login


def _edit_page(client, customer):
    response = client.get(f"/staff/cards/{customer.public_id}/edit",
                          headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return form_values(response.get_data(as_text=True), "card-edit-form")


def _save(client, customer, values):
    return client.post(f"/staff/cards/{customer.public_id}/edit", data=values,
                       headers={"Accept-Language": "en"})


def test_staff_edit_every_field_with_the_portals_rules(client, staff_login):
    staff = staff_login(role="agent")
    owner = factories.make_staff(role="agent", name="王经理")
    customer, _ = factories.make_customer(name="张伟", mobile="13800138000")
    values = _edit_page(client, customer)
    assert values["mobile"] == "+8613800138000" and values["version"] == "1"
    values.update(name="张伟强", mobile="139 1234 5678", email="Zhang.Wei@Example.com",
                  wechat="zhangwei_88", status="active", owner=owner.public_id,
                  kind="company", gender="male", source="展会", industry="零售",
                  company_size="50-200", notes="第一行\r\n第二行", special_requirements="无糖",
                  tags="VIP, 老客户，团购", birthday="1990-02-30", birthday_lunar="y",
                  postal_code="310000")
    response = _save(client, customer, values)
    assert response.status_code == 302, response.get_data(as_text=True)
    card = Customer.get_by_id(customer.id)
    assert (card.name, card.name_pinyin, card.primary_mobile) == ("张伟强", "zhangweiqiang",
                                                                  "+8613912345678")
    assert card.primary_email == "zhang.wei@example.com"
    assert (card.status, card.owner_id, card.kind, card.gender) == ("active", owner.id,
                                                                     "company", "male")
    assert card.notes == "第一行\n第二行" and card.special_requirements == "无糖"
    assert card.birthday == datetime.date(1990, 3, 26) and card.birthday_lunar  # 农历二月三十
    assert card.version == 2
    tags = {t.name for t in Tag.select().join(CustomerTag).where(CustomerTag.customer == card)}
    assert tags == {"VIP", "老客户", "团购"}
    primary = {c.kind: c.normalized for c in ContactPoint.select().where(
        ContactPoint.customer == card, ContactPoint.is_primary == True)}
    assert primary == {"mobile": "+8613912345678", "email": "zhang.wei@example.com",
                       "wechat": "zhangwei_88"}
    event = AuditEvent.select().where(AuditEvent.action == "customer.update").get()
    assert event.actor_id == staff.id and event.after["status"] == "active"
    assert event.before["mobile"] == "+8613800138000"
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "王经理" in page and "团购" in page and "zhang.wei@example.com" in page

    values = _edit_page(client, customer)
    values["tags"] = "VIP"  # remove two tags
    assert _save(client, customer, values).status_code == 302
    assert [t.name for t in Tag.select().join(CustomerTag)
            .where(CustomerTag.customer == card)] == ["VIP"]


@pytest.mark.parametrize("field,bad,message", [
    ("mobile", "12345", "This is not a valid phone number."),
    ("wechat", "1abc", "A WeChat ID has 6 to 20 letters"),
    ("postal_code", "31000", "A Chinese postal code has 6 digits."),
    ("birthday", "1990-13-01", "This date does not exist."),
    ("email", "not-an-email", "This is not a valid email address."),
    ("name", "", "Enter the full name."),
    ("notes", "a\x00b", "cannot be saved"),
    ("company", "x" * 201, "This is too long (200 characters at most)."),
    ("status", "vip", "Not a valid choice"),
    ("tags", "ok, " + "t" * 65, "A tag has 64 characters at most."),
])
def test_bad_input_is_shown_at_the_field_and_nothing_is_saved(client, staff_login, field, bad,
                                                                message):
    staff_login(role="agent")
    customer, _ = factories.make_customer(name="李娜", mobile="13800138000")
    values = _edit_page(client, customer)
    values.update({"city": "杭州", field: bad})
    response = _save(client, customer, values)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert message in page and "杭州" in page  # the rest of the input is kept
    card = Customer.get_by_id(customer.id)
    assert card.city is None and card.version == 1 and card.name == "李娜"


def test_lunar_birthday_that_does_not_exist_is_refused(client, staff_login):
    staff_login(role="manager")
    customer, _ = factories.make_customer()
    values = _edit_page(client, customer)
    values.update(birthday="1990-03-30", birthday_lunar="y")  # 1990 has no 三月三十
    response = _save(client, customer, values)
    assert "This day does not exist in the lunar calendar." in response.get_data(as_text=True)


def test_two_staff_editing_one_card_never_overwrite_each_other(app, client, staff_login):
    alice = staff_login(role="agent", name="Alice Wang")
    bob = factories.make_staff(role="agent", name="Bob Li")
    other = Client(app)
    assert login(other, bob.email, factories.PASSWORD, "/staff").status_code == 302
    customer, _ = factories.make_customer(name="陈静", city="上海")

    mine, theirs = _edit_page(client, customer), _edit_page(other, customer)
    mine.update(city="北京", notes="Alice's note")
    assert _save(client, customer, mine).status_code == 302
    theirs.update(status="lost")
    response = _save(other, customer, theirs)
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "changed by Alice Wang at" in page
    conflict = page[page.index('id="edit-conflict"'):page.index("</table>")]
    assert 'data-field="city"' in conflict and "北京" in conflict and "上海" in conflict
    assert 'data-field="status"' in conflict and "Lost" in conflict
    assert 'data-field="notes"' in conflict and "Alice&#39;s note" in conflict
    card = Customer.get_by_id(customer.id)
    assert (card.city, card.status, card.version) == ("北京", "prospect", 2)  # Alice's, intact
    kept = form_values(page, "card-edit-form")
    assert kept["status"] == "lost" and kept["version"] == "2"  # Bob's input, newer version
    assert _save(other, customer, kept).status_code == 302  # saving again is deliberate
    card = Customer.get_by_id(customer.id)
    assert (card.city, card.status, card.version) == ("上海", "lost", 3)
    assert alice.id != bob.id


def test_conditional_update_refuses_a_stale_version_atomically(db):
    staff = factories.make_staff(name="Carol")
    actor = Actor.for_staff(staff)
    customer, _ = factories.make_customer(name="周杰")
    card_edit.update_card(customer, {"city": "广州"}, 1, actor)
    with pytest.raises(card_edit.EditConflict) as caught:
        card_edit.update_card(customer, {"city": "深圳", "mobile": "13800138000"}, 1, actor)
    assert caught.value.by == ("staff", "Carol") and caught.value.version == 2
    assert caught.value.fields["city"] == ("深圳", "广州")
    card = Customer.get_by_id(customer.id)
    assert card.city == "广州" and card.primary_mobile is None and card.version == 2
    # The UPDATE itself carries the version: a save racing past the read still loses.
    assert profile.apply_changes(card, {"city": "深圳"}, expected_version=1) is False
    assert Customer.get_by_id(customer.id).city == "广州"


def test_customer_edits_in_the_portal_move_the_version_on(db):
    customer, account = factories.make_customer(name="赵敏")
    profile.update_own_details(customer, {"city": "成都"}, Actor.for_customer(account))
    assert Customer.get_by_id(customer.id).version == 2
    with pytest.raises(card_edit.EditConflict) as caught:
        card_edit.update_card(customer, {"city": "重庆"}, 1, Actor.system())
    assert caught.value.by[0] == "customer"


def test_fields_staff_may_not_edit_here_are_refused(db):
    customer, _ = factories.make_customer()
    for field in ("tier", "id_number_enc", "version", "total_spend"):
        with pytest.raises(DomainError) as caught:
            card_edit.update_card(customer, {field: "x"}, 1, Actor.system())
        assert caught.value.field == field
    assert Customer.get_by_id(customer.id).version == 1


def test_a_viewer_cannot_open_the_edit_form(client, staff_login):
    staff_login(role="viewer")
    customer, _ = factories.make_customer()
    assert client.get(f"/staff/cards/{customer.public_id}/edit").status_code == 403
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert f"/staff/cards/{customer.public_id}/edit" not in page


def test_script_typed_into_fields_shows_escaped(client, staff_login):
    staff_login(role="agent")
    customer, _ = factories.make_customer()
    values = _edit_page(client, customer)
    values.update(notes="<script>alert(1)</script>", tags="<b>x</b>",
                  special_requirements="<img src=x onerror=alert(1)>")
    assert _save(client, customer, values).status_code == 302
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "<b>x</b>" not in page and "<img src=x" not in page


def test_a_deactivated_owner_stays_until_someone_picks_another(client, staff_login):
    from services import accounts
    staff_login(role="manager")
    gone = factories.make_staff(role="agent", name="已离职的销售")
    customer, _ = factories.make_customer(owner=gone)
    accounts.deactivate_staff(gone, factories.SYSTEM)
    values = _edit_page(client, customer)
    assert values["owner"] == gone.public_id
    values["city"] = "南京"
    assert _save(client, customer, values).status_code == 302
    card = Customer.get_by_id(customer.id)
    assert (card.city, card.owner_id) == ("南京", gone.id)
    values = _edit_page(client, customer)
    values["owner"] = "nobody\x00here"  # forged: refused at the field, never a 500
    response = _save(client, customer, values)
    assert response.status_code == 400
    assert "Choose a member of staff from the list." in response.get_data(as_text=True)


def test_two_saves_at_the_same_moment_exactly_one_wins(db):
    import threading

    import models
    actor = Actor.for_staff(factories.make_staff())
    customer, _ = factories.make_customer(name="吴磊")
    db.close()  # each thread takes its own connection
    barrier, results = threading.Barrier(2), []

    def save(city):
        models.db.connect(reuse_if_open=True)
        try:
            barrier.wait(timeout=10)
            card_edit.update_card(customer, {"city": city}, 1, actor)
            results.append(("saved", city))
        except card_edit.EditConflict as exc:
            results.append(("conflict", exc.fields["city"]))
        finally:
            models.db.close()

    threads = [threading.Thread(target=save, args=(city,)) for city in ("西安", "兰州")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    db.connect(reuse_if_open=True)
    card = Customer.get_by_id(customer.id)
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["conflict", "saved"], results
    winner = next(city for kind, city in results if kind == "saved")
    assert card.city == winner and card.version == 2
    loser = next(value for kind, value in results if kind == "conflict")
    assert loser[1] == winner  # "theirs" is what the winner saved
