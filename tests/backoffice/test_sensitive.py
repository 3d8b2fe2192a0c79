"""Sensitive data on the card: the ID number and custom fields marked sensitive are stored only
encrypted, shown masked, revealed only to roles with sensitive.reveal (audited); the staff edit
of the card's fields validates like the portal, keeps the input and audits masked values."""
from pathlib import Path

import pytest

import models
from models import AuditEvent, Customer, CustomField, CustomFieldValue
from services import DomainError, card_field_edit, crypto, custom_fields, field_values
from tests import factories
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
ID = "11010519491231002X"
PASSPORT = "E12345678"


@pytest.fixture
def fields(db):
    specs = (
        {"key": "membership_no", "label_zh": "会员卡号", "label_en": "Membership number",
         "pattern": r"M\d{9}", "position": 10, "help_en": "Assigned by the store"},
        {"key": "passport", "label_zh": "护照号码", "label_en": "Passport number",
         "sensitive": True, "position": 20},
        {"key": "segment", "label_zh": "客群", "label_en": "Segment", "kind": "choice",
         "choices": [{"value": "a", "zh": "甲", "en": "Alpha"},
                     {"value": "b", "zh": "乙", "en": "Beta"}], "position": 30},
        {"key": "credit_limit", "label_zh": "信用额度", "label_en": "Credit limit",
         "kind": "number", "visible_roles": ["admin", "manager"], "position": 40},
        {"key": "retired", "label_zh": "停用字段", "label_en": "Retired field",
         "active": False, "position": 50},
    )
    return {spec["key"]: CustomField.create(section="card", **spec) for spec in specs}


@pytest.fixture
def card(db):
    customer, _account = factories.make_customer(name="李雷", account=False)
    return customer


def edit_url(card):
    return f"/staff/cards/{card.public_id}/fields"


def save(client, card, data):
    return post_form(client, edit_url(card), {"version": Customer.get_by_id(card.id).version,
                                              **data}, headers=EN)


def html(response):
    return response.get_data(as_text=True)


def raw_database_bytes(database_url):
    """Everything the database holds, as bytes: the SQLite file and its WAL, or on
    PostgreSQL the raw text of the columns that hold sensitive values and the audit trail."""
    if models.is_postgres():
        rows = models.db.execute_sql(
            "SELECT coalesce(id_number_enc, '') || coalesce(id_number_hmac, '') FROM customer "
            "UNION ALL SELECT value::text FROM custom_field_value "
            "UNION ALL SELECT coalesce(before::text, '') || coalesce(after::text, '') "
            "FROM audit_event").fetchall()
        return "".join(row[0] or "" for row in rows).encode("utf-8")
    path = Path(database_url[len("sqlite:///"):])
    return b"".join(Path(f"{path}{suffix}").read_bytes() for suffix in ("", "-wal")
                    if Path(f"{path}{suffix}").exists())


def test_sensitive_values_are_stored_encrypted_and_never_in_clear(client, staff_login, card,
                                                                  fields, database_url):
    staff_login(role="admin")
    response = save(client, card, {"id_number": ID.lower(), "passport": PASSPORT,
                                   "membership_no": "M123456789", "segment": "b"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/staff/cards/{card.public_id}"
    row = Customer.get_by_id(card.id)
    assert row.id_number_enc and ID not in row.id_number_enc
    assert crypto.decrypt(row.id_number_enc) == ID
    assert row.id_number_hmac == crypto.lookup_hash(ID)
    assert card_field_edit.find_by_id_number("110105 19491231 002x").id == card.id
    passport = CustomFieldValue.get(CustomFieldValue.field == fields["passport"])
    assert crypto.is_sealed(passport.value) and crypto.unseal(passport.value) == PASSPORT
    plain = CustomFieldValue.get(CustomFieldValue.field == fields["membership_no"])
    assert plain.value == "M123456789"
    models.db.close()  # let SQLite write what it holds
    models.db.connect(reuse_if_open=True)
    stored = raw_database_bytes(database_url)
    assert b"M123456789" in stored  # the probe does read the stored values
    for secret in (ID, PASSPORT, "19491231002X"):
        assert secret.encode() not in stored, secret


def test_the_audit_trail_keeps_only_masked_values(client, staff_login, card, fields):
    staff_login(role="admin")
    save(client, card, {"id_number": ID, "passport": PASSPORT, "segment": "a"})
    event = AuditEvent.get(AuditEvent.action == "customer.fields")
    assert event.after == {"id_number": "110***********002X", "passport": "E12**5678",
                           "segment": "a"}
    assert event.before == {"id_number": None, "passport": None, "segment": None}
    save(client, card, {"id_number": "", "passport": "", "segment": "a", "clear": "passport"})
    last = AuditEvent.select().order_by(AuditEvent.id.desc()).first()
    assert last.before == {"passport": "E12**5678"} and last.after == {"passport": None}
    assert Customer.get_by_id(card.id).id_number_enc  # left empty: kept


def test_masked_on_the_form_and_revealed_only_to_roles_that_may(client, staff_login, card,
                                                                  fields):
    admin = staff_login(role="admin")
    save(client, card, {"id_number": ID, "passport": PASSPORT})
    page = html(client.get(edit_url(card), headers=EN))
    assert "110***********002X" in page and ID not in page and PASSPORT not in page

    reveal = f"/staff/cards/{card.public_id}/fields/id_number/reveal"
    response = post_form(client, reveal, {}, token_from=edit_url(card), headers=EN)
    assert response.status_code == 200 and ID in html(response)
    assert "no-store" in response.headers["Cache-Control"]
    event = AuditEvent.get(AuditEvent.action == "sensitive.reveal")
    assert (event.actor_id, event.customer_id, event.after) == (admin.id, card.id,
                                                                {"field": "id_number"})
    fragment = post_form(client, f"/staff/cards/{card.public_id}/fields/passport/reveal", {},
                         token_from=edit_url(card), headers={**EN, "HX-Request": "true"})
    assert html(fragment).strip() == (
        f'<span id="field-value-passport" class="font-monospace" '
        f'data-revealed="passport">{PASSPORT}</span>')
    assert AuditEvent.select().where(AuditEvent.action == "sensitive.reveal").count() == 2


@pytest.mark.parametrize("role", ["agent", "viewer", "marketer"])
def test_roles_without_sensitive_reveal_get_403_and_nothing_is_logged(client, staff_login, card,
                                                                       fields, role):
    Customer.update(id_number_enc=crypto.encrypt(ID)).where(Customer.id == card.id).execute()
    staff_login(role=role)
    token_page = "/staff/"
    response = post_form(client, f"/staff/cards/{card.public_id}/fields/id_number/reveal", {},
                         token_from=token_page, headers=EN)
    assert response.status_code == 403 and ID not in html(response)
    assert AuditEvent.select().where(AuditEvent.action == "sensitive.reveal").count() == 0
    items = {item.key: item for item in
             custom_fields.card_values(Customer.get_by_id(card.id), role)}
    assert items["id_number"].shown("en") == "110***********002X"
    assert not items["id_number"].can_reveal


def test_card_values_follow_the_role_and_the_language(card, fields):
    field_values.save_values(card, fields, {"segment": "b", "credit_limit": 5000,
                                             "passport": PASSPORT})
    agent = [item.key for item in custom_fields.card_values(card, "agent")]
    assert agent == ["id_number", "membership_no", "passport", "segment"]
    manager = {item.key: item for item in custom_fields.card_values(card, "manager")}
    assert manager["credit_limit"].shown("en") == "5000"
    assert manager["segment"].shown("zh") == "乙" and manager["segment"].shown("en") == "Beta"
    assert manager["passport"].shown("en") == "E12**5678" and manager["passport"].can_reveal
    assert manager["membership_no"].shown("en") is None
    assert not manager["id_number"].has_value and not manager["id_number"].can_reveal


def test_bad_input_shows_at_each_field_keeps_the_rest_and_saves_nothing(client, staff_login,
                                                                         card, fields):
    staff_login(role="admin")
    response = save(client, card, {"id_number": "110105194912310021", "membership_no": "X1",
                                   "segment": "zzz", "credit_limit": "lots",
                                   "passport": "<script>alert(1)</script>"})
    assert response.status_code == 200
    page = html(response)
    assert "check digit is wrong" in page
    assert "This is not in the expected format." in page
    assert "Choose from the options shown." in page and "Enter a number." in page
    assert 'value="X1"' in page and 'value="lots"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert CustomFieldValue.select().count() == 0
    assert Customer.get_by_id(card.id).id_number_enc is None
    assert AuditEvent.select().where(AuditEvent.action == "customer.fields").count() == 0
    bad_date = save(client, card, {"id_number": "110105194902300011"})
    assert "date of birth that does not exist" in html(bad_date)


def test_roles_only_edit_the_fields_they_see(client, staff_login, card, fields):
    staff_login(role="agent")
    page = html(client.get(edit_url(card), headers=EN))
    assert 'name="credit_limit"' not in page and 'name="retired"' not in page
    assert 'name="membership_no"' in page and "Assigned by the store" in page
    response = save(client, card, {"segment": "a", "credit_limit": "99", "retired": "x"})
    assert response.status_code == 302
    assert {row.field.key for row in CustomFieldValue.select()} == {"segment"}


def test_viewers_cannot_open_the_edit_form(client, staff_login, card, fields):
    staff_login(role="viewer")
    assert client.get(edit_url(card)).status_code == 403


def test_a_stale_form_is_refused(client, staff_login, card, fields):
    staff_login(role="admin")
    version = Customer.get_by_id(card.id).version
    save(client, card, {"segment": "a"})
    response = post_form(client, edit_url(card), {"version": version, "segment": "b"},
                         headers=EN)
    assert response.status_code == 200 and "Someone else saved this card" in html(response)
    assert crypto.unseal(CustomFieldValue.get().value) == "a"


def test_unknown_card_and_unknown_field_are_404(client, staff_login, card, fields):
    staff_login(role="admin")
    assert client.get("/staff/cards/nope/fields").status_code == 404
    response = post_form(client, f"/staff/cards/{card.public_id}/fields/segment/reveal", {},
                         token_from=edit_url(card))
    assert response.status_code == 404  # not sensitive: nothing to reveal this way


def test_the_card_page_shows_masked_values_and_reveal_only_to_those_who_may(client, staff_login,
                                                                           card, fields):
    card_field_edit.update_card_fields(card, {"id_number": ID, "passport": PASSPORT,
                                            "segment": "b"}, factories.SYSTEM, "admin")
    staff_login(role="agent")
    page = html(client.get(f"/staff/cards/{card.public_id}", headers=EN))
    assert 'id="card-fields"' in page
    assert "110***********002X" in page and "E12**5678" in page and "Beta" in page
    assert ID not in page and PASSPORT not in page and "data-reveal" not in page
    assert f'href="/staff/cards/{card.public_id}/fields"' in page  # agents edit cards
    assert "Credit limit" not in page  # visible to admins and managers only

    staff_login(role="manager")
    page = html(client.get(f"/staff/cards/{card.public_id}", headers=EN))
    assert page.count("data-reveal=") == 2 and "Credit limit" in page
    assert ID not in page and PASSPORT not in page


def test_filter_expressions_find_cards_by_custom_fields_and_id_number(db, fields):
    more = {
        "tags": CustomField.create(key="tags", label_zh="标签", label_en="Tags",
                                   kind="multi_choice", choices=[
                                       {"value": "vip", "zh": "贵宾", "en": "VIP"},
                                       {"value": "新客", "zh": "新客", "en": "New"}]),
        "joined": CustomField.create(key="joined", label_zh="入会", label_en="Joined",
                                     kind="date"),
    }
    every = {**fields, **more}
    cards = [factories.make_customer(account=False)[0] for _ in range(3)]
    values = [{"segment": "a", "credit_limit": 500, "tags": ["vip", "新客"],
               "joined": "2024-01-05", "membership_no": "M000000001"},
              {"segment": "b", "credit_limit": 12000.5, "tags": ["新客"], "joined": "2025-06-30"},
              {"segment": "a", "tags": ["vip"]}]
    for card, changes in zip(cards, values):
        field_values.save_values(card, every, changes)
    card_field_edit.update_card_fields(cards[2], {"id_number": ID}, factories.SYSTEM, "admin")

    def found(*args, **kwargs):
        condition = custom_fields.filter_expression(*args, **kwargs)
        return [c.id for c in Customer.select().where(condition).order_by(Customer.id)]

    ids = [c.id for c in cards]
    assert found(fields["segment"], "a") == [ids[0], ids[2]]
    assert found(fields["membership_no"], "M000000001") == [ids[0]]
    assert found(more["tags"], "vip") == [ids[0], ids[2]]
    assert found(more["tags"], "新客") == [ids[0], ids[1]]
    assert found(fields["credit_limit"], "１２０００.5") == [ids[1]]
    assert found(fields["credit_limit"], low="1000") == [ids[1]]
    assert found(fields["credit_limit"], low=100, high=600) == [ids[0]]
    assert found(more["joined"], low="2024-06-01") == [ids[1]]
    assert found(more["joined"], low="2024-01-01", high="2024-12-31") == [ids[0]]
    assert found("id_number", ID.lower()) == [ids[2]]
    with pytest.raises(DomainError):
        custom_fields.filter_expression(fields["passport"], PASSPORT)
    with pytest.raises(DomainError):
        custom_fields.filter_expression(fields["segment"], "zzz")
