"""Audit log pages: a card's own history (who, when, from where, before -> after, sensitive
values masked, paginated) and the global log for audit.view with its filters and the chain
check that finds a row changed behind the application's back. Nothing edits or deletes events."""
import datetime
import re

import pytest

import models
from models import AuditEvent
from services import audit
from services.actors import Actor
from tests import factories
from tests.conftest import post_form

EN = {"Accept-Language": "en"}
LOG = "/staff/audit/"
EVENT_IDS = r'id="event-(\d+)"'


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def card(db):
    customer, _account = factories.make_customer(name="韩梅梅", account=False)
    return customer


def history(card):
    return f"/staff/cards/{card.public_id}/history"


def test_a_cards_history_lists_its_events_newest_first_with_the_changes(client, staff_login,
                                                                        card):
    agent = staff_login(role="agent", name="Agent Wu")
    staff_actor = Actor.for_staff(agent, "203.0.113.7", "test")
    audit.record(staff_actor, "customer.update", "customer", card.public_id,
                 customer_id=card.id, before={"city": "上海", "company": None},
                 after={"city": "<script>x</script>", "company": "ACME"})
    audit.record(staff_actor, "customer.fields", "customer", card.public_id,
                 customer_id=card.id, before={"id_number": None},
                 after={"id_number": "110***********002X"})
    audit.record(Actor("customer", card.id, "mei@example.com", "198.51.100.2"),
                 "customer.preferences", "customer", card.public_id, customer_id=card.id,
                 before={"size": "M"}, after={"size": "L"})
    other, _ = factories.make_customer(account=False)
    audit.record(staff_actor, "customer.update", "customer", other.public_id,
                 customer_id=other.id, before={"city": "A"}, after={"city": "OTHER-CARD"})

    page = html(client.get(history(card), headers=EN))
    ids = [int(i) for i in re.findall(EVENT_IDS, page)]
    mine = [e.id for e in AuditEvent.select().where(AuditEvent.customer_id == card.id)
            .order_by(AuditEvent.id.desc())]
    assert ids == mine and len(ids) == 4  # the card's creation, then the three above
    assert "OTHER-CARD" not in page
    assert "Agent Wu" in page and "203.0.113.7" in page and "mei@example.com" in page
    assert "Details changed" in page and "Card fields changed" in page
    assert "Preferences changed" in page and "Card created" in page
    assert "City:" in page and "上海" in page and "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<script>x" not in page and "ID number:" in page and "110***********002X" in page


def test_the_history_is_paginated(client, staff_login, card):
    staff_login(role="viewer")
    with models.atomic():
        for n in range(60):
            audit.record(Actor.system("tests"), "customer.update", "customer", card.public_id,
                         customer_id=card.id, before={"city": f"c{n}"},
                         after={"city": f"c{n + 1}"})
    first = html(client.get(history(card), headers=EN))
    second = html(client.get(history(card) + "?page=2", headers=EN))
    assert len(re.findall(EVENT_IDS, first)) == 50 and len(re.findall(EVENT_IDS, second)) == 11
    assert "Page 1 of 2" in first and "61 in all" in first


def test_history_needs_a_live_card(client, staff_login):
    staff_login(role="viewer")
    assert client.get("/staff/cards/nope/history").status_code == 404


def test_the_global_log_filters(client, staff_login, card):
    admin = staff_login(role="admin", name="Admin Li")
    other_staff = factories.make_staff(name="Other Staff")
    other_card, _ = factories.make_customer(account=False)
    a = audit.record(Actor.for_staff(other_staff), "sensitive.reveal", "customer",
                     card.public_id, customer_id=card.id, after={"field": "id_number"})
    b = audit.record(Actor("customer", other_card.id, "x@example.com"), "customer.update",
                     "customer", other_card.public_id, customer_id=other_card.id,
                     before={"city": "A"}, after={"city": "B"})
    old = audit.record(Actor.system("nightly"), "tier.recalculate", "tier", "gold")
    AuditEvent.update(created_at=datetime.datetime(2020, 5, 1, 3, 0)).where(
        AuditEvent.id == old.id).execute()

    def ids(query=""):
        return [int(i) for i in re.findall(EVENT_IDS, html(client.get(LOG + query,
                                                                      headers=EN)))]
    everything = ids()
    assert everything == sorted(everything, reverse=True) and {a.id, b.id, old.id} <= set(
        everything)
    assert ids(f"?staff={other_staff.public_id}") == [a.id]
    assert ids("?actor=customer") == [b.id]
    assert ids("?action=sensitive.reveal") == [a.id]
    assert ids("?entity=tier") == [old.id]
    assert set(ids(f"?card={card.public_id}")) == {a.id} | {
        e.id for e in AuditEvent.select().where(AuditEvent.customer_id == card.id)}
    assert ids(f"?card=/staff/cards/{other_card.public_id}&action=customer.update") == [b.id]
    assert ids("?date_from=2020-05-01&date_to=2020-05-01") == [old.id]
    assert ids("?date_to=2020-04-30") == []
    assert ids("?card=unknown") == [] and ids("?staff=unknown") == []
    page = html(client.get(LOG + "?date_from=garbage&actor=bogus", headers=EN))
    assert "Audit log" in page  # bad filters never 500
    assert "Admin Li" in page or admin.name in page


@pytest.mark.parametrize("role", ["agent", "viewer", "marketer"])
def test_only_audit_viewers_see_the_global_log(client, staff_login, role):
    staff_login(role=role)
    assert client.get(LOG).status_code == 403
    response = post_form(client, "/staff/audit/verify", {}, token_from="/staff/")
    assert response.status_code == 403


def test_verify_chain_reports_ok_then_the_first_tampered_event(client, staff_login, card):
    staff_login(role="manager")
    events = [audit.record(Actor.system("tests"), "customer.update", "customer",
                           card.public_id, customer_id=card.id, before={"city": str(n)},
                           after={"city": str(n + 1)}) for n in range(5)]
    response = post_form(client, "/staff/audit/verify", {}, token_from=LOG, headers=EN)
    assert response.status_code == 302 and response.headers["Location"] == LOG
    page = html(client.get(LOG, headers=EN))
    assert "The audit chain is intact" in page
    target = events[2]
    models.db.execute_sql(f"UPDATE audit_event SET after = '{{\"city\": \"forged\"}}' "
                          f"WHERE id = {int(target.id)}")
    post_form(client, "/staff/audit/verify", {}, token_from=LOG, headers=EN)
    page = html(client.get(LOG, headers=EN))
    assert f"The audit chain is broken at event #{target.id}" in page


def test_no_route_changes_or_deletes_events(app):
    for rule in app.backoffice.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert rule.methods - {"GET", "HEAD", "OPTIONS"} <= {"POST"}
            if "POST" in rule.methods:
                assert rule.endpoint == "audit.verify"
