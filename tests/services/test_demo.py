"""Demo data (realistic, consistent, loads only into an empty database) and benchmark data
(exact counts, consistent totals, unique contacts, additive)."""
import datetime
import re
from collections import defaultdict
from decimal import Decimal

import phonenumbers
import pytest

from models import (CUSTOMER_STATUSES, CampaignRecipient, ContactPoint, Customer, Interaction,
                    PortalAccount, Purchase, StaffUser, Tier, TierChange)
from services import DomainError, accounts, demo
from tests import factories

HANZI = re.compile(r"[\u4e00-\u9fff]")
EXAMPLE_EMAIL = re.compile(r"^[a-z0-9._%+-]+@example\.(com|org|net)$")

# Cards whose denormalised totals differ from the sums of their purchases: one query.
MISMATCHED_TOTALS = """
SELECT COUNT(*) FROM customer c
WHERE ABS(c.total_spend - (SELECT COALESCE(SUM(p.amount), 0) FROM purchase p
                           WHERE p.customer_id = c.id AND p.deleted_at IS NULL)) > 0.005
   OR c.purchase_count <> (SELECT COUNT(*) FROM purchase p
                           WHERE p.customer_id = c.id AND p.deleted_at IS NULL)
   OR COALESCE(c.last_purchase_at, '1900-01-01') <> COALESCE(
          (SELECT MAX(p.occurred_at) FROM purchase p
           WHERE p.customer_id = c.id AND p.deleted_at IS NULL), '1900-01-01')
"""


def scalar(db, sql):
    return db.execute_sql(sql).fetchone()[0]


def assert_valid_e164(number, country=None):
    parsed = phonenumbers.parse(number)
    assert phonenumbers.is_valid_number(parsed), number
    assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == number
    if country:
        assert phonenumbers.region_code_for_number(parsed) == country, (number, country)


def assert_contacts_clean(db):
    """Every mobile valid E.164, every email at example.com/.org/.net, totals consistent."""
    for mobile, country in (Customer.select(Customer.primary_mobile, Customer.country)
                            .where(Customer.primary_mobile.is_null(False)).tuples()):
        assert_valid_e164(mobile, country)
    for (normalized,) in (ContactPoint.select(ContactPoint.normalized)
                          .where(ContactPoint.kind == "mobile").tuples()):
        assert_valid_e164(normalized)
    emails = [e for (e,) in Customer.select(Customer.primary_email).tuples() if e is not None]
    emails += [e for (e,) in ContactPoint.select(ContactPoint.normalized)
               .where(ContactPoint.kind == "email").tuples()]
    emails += [e for (e,) in PortalAccount.select(PortalAccount.email).tuples()]
    emails += [e for (e,) in StaffUser.select(StaffUser.email).tuples()]
    emails += [e for (e,) in CampaignRecipient.select(CampaignRecipient.email).tuples()]
    bad = [e for e in emails if not EXAMPLE_EMAIL.match(e)]
    assert not bad
    assert scalar(db, MISMATCHED_TOTALS) == 0


def expected_tier(purchases, now):
    """The demo's tier rules, written out independently of the code under test."""
    def window(days):
        since = now - datetime.timedelta(days=days)
        recent = [amount for at, amount in purchases if at >= since]
        return sum(recent, Decimal(0)), len(recent)
    spend, orders = window(365)
    if spend >= 10000 and orders >= 5:
        return "vip"
    return "regular" if window(730)[1] >= 1 else "prospect"


def test_seed_demo_builds_a_realistic_consistent_business(db):
    assert demo.is_empty()
    counts = demo.seed_demo()
    assert not demo.is_empty()

    cards = list(Customer.select())
    assert counts["customers"] == len(cards)
    assert 190 <= len(cards) <= 210
    chinese = [c for c in cards if HANZI.search(c.name)]
    assert 0.5 <= len(chinese) / len(cards) <= 0.6
    assert {c.preferred_language for c in chinese} == {"zh"}
    international = [c for c in cards if not HANZI.search(c.name)]
    assert {c.preferred_language for c in international} == {"en"}
    assert len({c.country for c in international}) >= 5
    assert any(not c.name.isascii() for c in international)  # José Álvarez, Zoë Müller...
    assert {c.status for c in cards} == set(CUSTOMER_STATUSES)
    assert all(c.purchase_count == 0 for c in cards if c.status == "prospect")
    assert all(c.name_pinyin for c in cards)

    assert_contacts_clean(db)
    for kind in ("purchases", "service_records", "interactions", "tasks", "feedback",
                 "consent_events", "tier_changes", "portal_accounts", "survey_responses",
                 "campaign_recipients", "survey_invites", "survey_answers", "audit_events"):
        assert counts[kind] > 0, kind
    assert 40 <= counts["portal_accounts"] <= 90
    assert 20 <= counts["survey_responses"] <= counts["survey_invites"] <= 60
    amounts = [(p.quantity, p.unit_price, p.amount) for p in Purchase.select()]
    assert all(amount == (quantity * unit_price).quantize(Decimal("0.01"))
               for quantity, unit_price, amount in amounts)

    # tiers follow the rules, computed here from the purchases as of the tier run
    now = max(change.created_at for change in TierChange.select())
    purchases = defaultdict(list)
    for customer_id, at, amount in (Purchase.select(Purchase.customer, Purchase.occurred_at,
                                                    Purchase.amount).tuples()):
        purchases[customer_id].append((at, amount))
    codes = {tier.id: tier.code for tier in Tier.select()}
    for card in cards:
        code = codes[card.tier_id]
        assert code == expected_tier(purchases[card.id], now), card.name
        if code == "vip":
            assert card.total_spend >= 10000 and card.purchase_count >= 5
        if card.purchase_count == 0:
            assert code == "prospect"
    assert set(codes[c.tier_id] for c in cards) == {"vip", "regular", "prospect"}
    assert TierChange.select().count() == len(cards)

    # every demo sign-in works with the demo password
    logins = demo.demo_logins()
    assert [role for role, _ in logins] == ["admin", "manager", "agent", "marketer", "viewer",
                                            "customer", "customer"]
    for role, email in logins:
        if role == "customer":
            account = accounts.authenticate_customer(email, demo.DEMO_PASSWORD)
            assert account is not None, email
        else:
            staff = accounts.authenticate_staff(email, demo.DEMO_PASSWORD)
            assert staff is not None and staff.role == role, email
    wang = accounts.authenticate_customer("wangfang@example.com", demo.DEMO_PASSWORD).customer
    emma = accounts.authenticate_customer("emma.wilson@example.com", demo.DEMO_PASSWORD).customer
    assert (wang.name, emma.name) == ("王芳", "Emma Wilson")
    assert wang.tier.code == "vip"
    assert accounts.authenticate_customer("wangfang@example.com", "wrong-password") is None

    with pytest.raises(DomainError):
        demo.seed_demo()
    assert Customer.select().count() == len(cards)


def test_seed_demo_refuses_a_database_with_data(db):
    factories.make_customer(account=False)
    assert not demo.is_empty()
    with pytest.raises(DomainError):
        demo.seed_demo()
    assert StaffUser.select().count() == 0 and Tier.select().count() == 0
    assert Customer.select().count() == 1


def test_seed_scale_exact_counts_consistent_totals_and_the_bench_card(db):
    messages = []
    counts = demo.seed_scale(customers=2000, transactions=20000, progress=messages.append)
    assert messages
    assert (counts["customers"], counts["purchases"]) == (2000, 20000)
    assert Customer.select().count() == 2000
    assert Purchase.select().count() == 20000
    assert ContactPoint.select().count() == counts["contact_points"] == 4000
    assert Interaction.select().count() == counts["interactions"] == 50 + 200
    assert_contacts_clean(db)
    assert scalar(db, "SELECT COUNT(DISTINCT primary_email) FROM customer") == 2000
    assert scalar(db, "SELECT COUNT(DISTINCT primary_mobile) FROM customer") == 2000
    assert scalar(db, "SELECT COUNT(*) FROM customer WHERE tier_id IS NULL") == 0
    assert scalar(db, "SELECT COUNT(*) FROM customer WHERE (purchase_count = 0) "
                      "<> (status = 'prospect')") == 0
    assert scalar(db, "SELECT COUNT(*) FROM customer c JOIN tier t ON t.id = c.tier_id "
                      "WHERE t.code = 'vip' AND (c.total_spend < 10000 "
                      "OR c.purchase_count < 5)") == 0
    assert scalar(db, "SELECT COUNT(DISTINCT tier_id) FROM customer") == 3
    # skewed: the busiest customer has many times the average
    assert scalar(db, "SELECT MAX(purchase_count) FROM customer") >= 50

    bench = Customer.get(Customer.public_id == counts["bench_card"])
    assert bench.purchase_count == 50
    assert Purchase.select().where(Purchase.customer == bench).count() == 50
    assert Interaction.select().where(Interaction.customer == bench).count() == 50


def test_seed_scale_is_additive_without_collisions(db):
    demo.seed_demo()
    demo_last_id = max(c.id for c in Customer.select(Customer.id))
    first = demo.seed_scale(customers=300, transactions=3000)
    second = demo.seed_scale(customers=300, transactions=3000)  # same seed, same names
    assert first["bench_card"] != second["bench_card"]
    total = Customer.select().count()
    assert total == 200 + 600
    assert Purchase.select().where(Purchase.customer.in_(
        Customer.select(Customer.id).where(Customer.id > demo_last_id))).count() == 6000
    assert scalar(db, "SELECT COUNT(DISTINCT primary_email) FROM customer") == scalar(
        db, "SELECT COUNT(primary_email) FROM customer")
    assert scalar(db, "SELECT COUNT(DISTINCT primary_mobile) FROM customer") == scalar(
        db, "SELECT COUNT(primary_mobile) FROM customer")
    assert scalar(db, "SELECT COUNT(*) FROM (SELECT kind, normalized FROM contact_point "
                      "WHERE kind IN ('email', 'mobile') GROUP BY kind, normalized "
                      "HAVING COUNT(*) > 1) d") == 0
    assert_contacts_clean(db)
    for public_id in (first["bench_card"], second["bench_card"]):
        assert Customer.get(Customer.public_id == public_id).purchase_count == 50
