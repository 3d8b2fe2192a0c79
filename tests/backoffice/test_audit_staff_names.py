"""A card's history names the staff its changes are about (who served, the owner, the assignee)
instead of the ids the audit events store: the events are hash-chained and never rewritten, so
the names are looked up when the page is shown, one query for the whole page."""
import re

from models import AuditEvent, ServiceRecord, StaffUser
from services import audit
from services.actors import Actor
from tests import factories
from tests.backoffice.formdata import form_values
from tests.conftest import post_form
from tests.test_cards_pages import count_queries

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def _page(client, customer, headers=EN):
    response = client.get(f"/staff/cards/{customer.public_id}/history", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _changes(page, field):
    """The text of each event's line for ``field`` (newest event first), tags stripped."""
    lines = re.findall(rf'<li data-field="{field}">(.*?)</li>', page, re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", line)).strip() for line in lines]


def _post_record(client, customer, path, **values):
    base = f"/staff/cards/{customer.public_id}/{path}"
    data = {**form_values(client.get(base, headers=EN).get_data(as_text=True), "record-form"),
            **values}
    response = client.post(base, data=data, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_service_records_staff_shows_as_names_not_ids(client, staff_login):
    staff_login(role="agent", name="Agent Wu")
    first = factories.make_staff(name="技师小刘")
    second = factories.make_staff(name="<b>Li</b> & Co")
    customer, _ = factories.make_customer(name="王芳", account=False)
    _post_record(client, customer, "service/new", service_type="repair",
                 staff=first.public_id)
    record = ServiceRecord.get(ServiceRecord.customer == customer)
    _post_record(client, customer, f"service/{record.public_id}/edit", staff=second.public_id)
    stored = [e.after["staff"] for e in AuditEvent.select().where(AuditEvent.entity == "service")
              .order_by(AuditEvent.id)]
    assert stored == [first.id, second.id]  # the events keep the ids (the chain is hashed)

    page = _page(client, customer)
    assert _changes(page, "staff") == [
        "Staff member: 技师小刘 → &lt;b&gt;Li&lt;/b&gt; &amp; Co", "Staff member: 技师小刘"]
    assert "<b>Li</b>" not in page


def test_the_owner_shows_as_a_name_from_the_edit_form_and_bulk_changes(client, staff_login):
    staff_login(role="manager", name="Manager Qian")
    owner = factories.make_staff(name="王经理")
    other = factories.make_staff(name="Zhao Min")
    customer, _ = factories.make_customer(name="张伟", account=False)
    path = f"/staff/cards/{customer.public_id}/edit"
    values = form_values(client.get(path, headers=EN).get_data(as_text=True), "card-edit-form")
    response = client.post(path, data={**values, "owner": owner.public_id}, headers=EN)
    assert response.status_code == 302, response.get_data(as_text=True)
    event = AuditEvent.get(AuditEvent.action == "customer.update")
    assert event.after["owner"] == owner.public_id  # stored as the public id
    response = post_form(client, "/staff/cards/bulk",
                         {"action": "owner", "owner_value": other.public_id,
                          "ids": customer.public_id}, token_from="/staff/cards/")
    assert response.status_code == 302
    event = AuditEvent.get(AuditEvent.action == "customer.bulk_owner")
    assert event.after["owner"] == other.email  # a bulk change stores the email

    owners = _changes(_page(client, customer), "owner")
    assert owners == ["Owner: 王经理 → Zhao Min", "Owner: — → 王经理"]
    assert owner.public_id not in str(owners) and other.email not in str(owners)


def test_a_follow_ups_assignee_shows_as_a_name(client, staff_login):
    agent = staff_login(role="agent", name="Agent Wu")
    customer, _ = factories.make_customer(name="李雷", account=False)
    _post_record(client, customer, "interaction/new", subject="回访", channel="phone",
                 staff=agent.public_id, next_follow_up="2999-01-01")
    page = _page(client, customer)
    assert _changes(page, "assignee") == ["Assigned to: Agent Wu"]
    assert _changes(page, "staff") == ["Staff member: Agent Wu"]


def test_old_events_of_a_deleted_staff_member_say_so(client, staff_login):
    staff_login(role="agent")
    gone = factories.make_staff(name="Former Fang", email="fang@example.com")
    customer, _ = factories.make_customer(name="韩梅梅", account=False)
    system = Actor.system("tests")
    audit.record(system, "service.update", "service", "s1", customer_id=customer.id,
                 before={"staff": gone.id}, after={"staff": None})
    audit.record(system, "customer.update", "customer", customer.public_id,
                 customer_id=customer.id, before={"owner": gone.public_id}, after={"owner": None})
    audit.record(system, "customer.bulk_owner", "customer", customer.public_id,
                 customer_id=customer.id, before={"owner": gone.email}, after={"owner": None})
    assert "Former Fang" in _page(client, customer)
    StaffUser.delete().where(StaffUser.id == gone.id).execute()

    page = _page(client, customer)
    assert _changes(page, "staff") == ["Staff member: deleted staff member → —"]
    assert _changes(page, "owner") == ["Owner: fang@example.com → —",
                                       "Owner: deleted staff member → —"]
    zh = _page(client, customer, ZH)
    assert _changes(zh, "staff") == ["员工: 已删除的员工 → —"]


def test_the_staff_names_cost_one_query_for_the_whole_page(client, staff_login):
    staff_login(role="agent")
    customer, _ = factories.make_customer(name="赵敏", account=False)
    system = Actor.system("tests")

    def add_events(count):
        for _ in range(count):
            one, two = factories.make_staff(), factories.make_staff()
            audit.record(system, "service.update", "service", "s1", customer_id=customer.id,
                         before={"staff": one.id}, after={"staff": two.id})
            audit.record(system, "customer.update", "customer", customer.public_id,
                         customer_id=customer.id, before={"owner": one.public_id},
                         after={"owner": two.public_id})

    def queries():
        _page(client, customer)  # a first visit plans its queries
        with count_queries() as seen:
            page = _page(client, customer)
        return page, [q for q in seen if "SELECT" in q]

    add_events(1)
    _page_few, few = queries()
    add_events(10)
    page, many = queries()
    assert len(few) == len(many), (few, many)
    assert sum('FROM "staff_user" AS "t1" WHERE' in q for q in many) == 1
    names = {s.name for s in StaffUser.select()}
    shown = set(re.findall(r"Staff \d+", " ".join(_changes(page, "staff"))))
    assert len(shown) == 22 and shown <= names
