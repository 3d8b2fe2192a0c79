"""Records on a card over HTTP: purchases, service records and interactions are added, edited
and deleted (with a reason); the card's totals and last contact follow; follow-ups are created."""
import datetime
from decimal import Decimal

import pytest

from models import AuditEvent, Customer, Interaction, Purchase, ServiceRecord, Task
from services import records
from tests import factories
from tests.backoffice.formdata import form_values
from tests.conftest import csrf_from, login

EN = {"Accept-Language": "en"}


@pytest.fixture
def tier_calls(monkeypatch):
    """The cards whose purchases changed, as services.tiers was told."""
    calls = []
    monkeypatch.setattr(records.tiers, "purchases_changed", calls.append)
    return calls


def _new(client, customer, kind, **values):
    base = f"/staff/cards/{customer.public_id}/{kind}/new"
    data = {**form_values(client.get(base, headers=EN).get_data(as_text=True), "record-form"),
            **values}
    return client.post(base, data=data, headers=EN)


def _edit(client, customer, kind, record, **values):
    base = f"/staff/cards/{customer.public_id}/{kind}/{record.public_id}/edit"
    data = {**form_values(client.get(base, headers=EN).get_data(as_text=True), "record-form"),
            **values}
    return client.post(base, data=data, headers=EN)


def _delete(client, customer, kind, record, reason):
    base = f"/staff/cards/{customer.public_id}/{kind}/{record.public_id}"
    token = csrf_from(client, base + "/edit")
    return client.post(base + "/delete", data={"csrf_token": token, "reason": reason},
                       headers=EN)


def test_purchases_added_edited_and_deleted_keep_the_totals(client, staff_login, tier_calls):
    staff = staff_login(role="agent")
    customer, _ = factories.make_customer(name="王芳")
    response = _new(client, customer, "purchase", product="羊绒大衣", quantity="2",
                    unit_price="1299.50", amount="", payment_method="wechat_pay",
                    channel="store", occurred_at="2024-05-01T14:30")
    assert response.status_code == 302, response.get_data(as_text=True)
    purchase = Purchase.get(Purchase.customer == customer)
    assert purchase.amount == Decimal("2599.00") and purchase.created_by_id == staff.id
    assert purchase.occurred_at == datetime.datetime(2024, 5, 1, 6, 30)  # 14:30 Shanghai in UTC
    assert _new(client, customer, "purchase", product="围巾", unit_price="300",
                amount="").status_code == 302
    card = Customer.get_by_id(customer.id)
    assert (card.total_spend, card.purchase_count) == (Decimal("2899.00"), 2)

    form = form_values(client.get(f"/staff/cards/{customer.public_id}/purchase/"
                                  f"{purchase.public_id}/edit").get_data(as_text=True),
                       "record-form")
    assert form["occurred_at"] == "2024-05-01T14:30" and form["product"] == "羊绒大衣"
    assert _edit(client, customer, "purchase", purchase, amount="2000",
                 order_status="completed").status_code == 302
    assert Customer.get_by_id(customer.id).total_spend == Decimal("2300.00")
    assert _edit(client, customer, "purchase", purchase,
                 order_status="refunded").status_code == 302
    card = Customer.get_by_id(customer.id)
    assert (card.total_spend, card.purchase_count) == (Decimal("300.00"), 1)

    scarf = Purchase.get(Purchase.product == "围巾")
    refused = _delete(client, customer, "purchase", scarf, "  ")
    assert refused.status_code == 400 and "Say why the record is deleted." in \
        refused.get_data(as_text=True)
    assert Purchase.get_by_id(scarf.id).deleted_at is None
    assert _delete(client, customer, "purchase", scarf, "录入重复").status_code == 302
    scarf = Purchase.get_by_id(scarf.id)
    assert scarf.deleted_at is not None and scarf.delete_reason == "录入重复"
    card = Customer.get_by_id(customer.id)
    assert (card.total_spend, card.purchase_count, card.last_purchase_at) == \
        (Decimal("0.00"), 0, None)
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "羊绒大衣" in page and "围巾" not in page
    event = AuditEvent.get(AuditEvent.action == "purchase.delete")
    assert event.after["reason"] == "录入重复" and event.actor_id == staff.id
    assert AuditEvent.get(AuditEvent.action == "purchase.update").after["amount"] == "2000.00"
    assert tier_calls == [customer.id] * 5  # two adds, two edits, one delete
    # deleted once is deleted: the record is gone from its pages
    assert _delete(client, customer, "purchase", scarf, "again").status_code == 404


def test_deleted_purchase_is_hidden_from_the_portal(app, client, staff_login, tier_calls):
    from werkzeug.test import Client
    staff_login(role="agent")
    customer, account = factories.make_customer()
    kept = factories.make_purchase(customer, product="保留的商品")
    gone = factories.make_purchase(customer, product="删掉的商品")
    assert _delete(client, customer, "purchase", gone, "错误录入").status_code == 302
    portal = Client(app)
    assert login(portal, account.email, factories.PASSWORD).status_code == 302
    page = portal.get("/history/purchases").get_data(as_text=True)
    assert kept.product in page and gone.product not in page


def test_bad_purchase_input_is_shown_at_the_fields(client, staff_login, tier_calls):
    staff_login(role="agent")
    customer, _ = factories.make_customer()
    response = _new(client, customer, "purchase", product="", quantity="0", unit_price="abc",
                    currency="人民币", occurred_at="2024-05-01T14:30")
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    for message in ("Enter the product.", "Enter a quantity above zero.", "Enter a number.",
                    "Enter a three-letter currency code (CNY)."):
        assert message in page
    assert "2024-05-01T14:30" in page and not Purchase.select().exists()
    assert tier_calls == []


def test_service_records_added_edited_and_deleted(client, staff_login):
    staff = staff_login(role="agent", name="技师小刘")
    customer, _ = factories.make_customer()
    bad = _new(client, customer, "service", service_type="repair", satisfaction="9")
    assert bad.status_code == 400 and "Not a valid choice" in bad.get_data(as_text=True)
    assert _new(client, customer, "service", service_type="repair", description="更换压缩机",
                result="已修好", satisfaction="5").status_code == 302
    record = ServiceRecord.get(ServiceRecord.customer == customer)
    assert (record.staff_id, record.satisfaction, record.result) == (staff.id, 5, "已修好")
    assert _edit(client, customer, "service", record, satisfaction="3",
                 description="<script>x</script>").status_code == 302
    assert ServiceRecord.get_by_id(record.id).satisfaction == 3
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "技师小刘" in page and "&lt;script&gt;x" in page and "<script>x" not in page
    assert _delete(client, customer, "service", record, "客户取消").status_code == 302
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "&lt;script&gt;x" not in page


def test_interaction_with_next_follow_up_creates_a_task(client, staff_login):
    staff = staff_login(role="agent")
    customer, _ = factories.make_customer()
    due = datetime.date.today() + datetime.timedelta(days=3)
    assert _new(client, customer, "interaction", channel="wechat", direction="outbound",
                subject="回访新品", request="想了解春季新款", resolution="已发图册",
                outcome="pending", next_follow_up=due.isoformat(), visible_to_customer="y",
                occurred_at="2024-06-01T09:15").status_code == 302
    interaction = Interaction.get(Interaction.customer == customer)
    assert interaction.visible_to_customer and interaction.staff_id == staff.id
    task = Task.get(Task.interaction == interaction)
    assert (task.due_date, task.assignee_id, task.customer_id) == (due, staff.id, customer.id)
    card = Customer.get_by_id(customer.id)
    assert card.last_contact_at == datetime.datetime(2024, 6, 1, 1, 15)
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "回访新品" in page and task.public_id in page  # the follow-up, with "done"

    later = due + datetime.timedelta(days=7)
    assert _edit(client, customer, "interaction", interaction, occurred_at="2024-06-02T10:00",
                 next_follow_up=later.isoformat()).status_code == 302
    assert Task.select().where(Task.interaction == interaction).count() == 2
    assert Customer.get_by_id(customer.id).last_contact_at == datetime.datetime(2024, 6, 2, 2)
    assert _delete(client, customer, "interaction", interaction, "记错客户").status_code == 302
    assert Customer.get_by_id(customer.id).last_contact_at is None


def test_records_of_another_card_or_kind_are_404(client, staff_login):
    staff_login(role="agent")
    customer, _ = factories.make_customer()
    other, _ = factories.make_customer()
    purchase = factories.make_purchase(other)
    base = f"/staff/cards/{customer.public_id}"
    assert client.get(f"{base}/purchase/{purchase.public_id}/edit").status_code == 404
    assert client.get(f"{base}/refund/new").status_code == 404
    assert client.get(f"{base}/purchase/x\x00/edit").status_code == 404


def test_viewer_cannot_add_records(client, staff_login):
    staff_login(role="viewer")
    customer, _ = factories.make_customer()
    assert client.get(f"/staff/cards/{customer.public_id}/purchase/new").status_code == 403
    page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    assert "/purchase/new" not in page
