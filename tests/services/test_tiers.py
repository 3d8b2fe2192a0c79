"""The tier rules and their recalculation: the highest earned tier wins, windows and tenure
count, prospects get the default tier, overrides hold until they end, every change leaves a
TierChange with its figures, and a pass is set-based (the number of statements does not grow with
the number of cards)."""
import datetime
import json
import logging
from decimal import Decimal

import pytest

import models
from models import AuditEvent, Customer, Purchase, Tier, TierChange
from services import DomainError, tiers
from tests import factories
from tests.sql import sqlite_plan, statements

SYSTEM = factories.SYSTEM
DAY = datetime.timedelta(days=1)


@pytest.fixture
def standard(db):
    """The demo business's three tiers: VIP (10,000 and 5 orders in 365 days), Regular (1 order
    in 730 days), Prospect (the default)."""
    vip = tiers.create_tier(SYSTEM, {"code": "vip", "name_zh": "VIP 客户", "name_en": "VIP",
                                     "rank": 30, "colour": "#c9a227", "min_spend": "10000",
                                     "min_orders": 5, "window_days": 365})
    regular = tiers.create_tier(SYSTEM, {"code": "regular", "name_zh": "普通客户",
                                         "name_en": "Regular", "rank": 20, "colour": "#2f6fb0",
                                         "min_orders": 1, "window_days": 730})
    prospect = tiers.create_tier(SYSTEM, {"code": "prospect", "name_zh": "潜在客户",
                                          "name_en": "Prospect", "rank": 10,
                                          "colour": "#6c757d", "window_days": 365,
                                          "is_default": True})
    return vip, regular, prospect


def card(name="客户"):
    return Customer.create(name=name)


def buy(customer, amount, days_ago=1, **fields):
    return Purchase.create(customer=customer, product="x", amount=Decimal(amount),
                           occurred_at=models.utcnow() - days_ago * DAY, **fields)


def tier_of(customer):
    return Customer.get_by_id(customer.id).tier_id


def test_the_highest_earned_tier_wins_and_prospects_get_the_default(standard):
    vip, regular, prospect = standard
    big, small, old, none = card(), card(), card(), card()
    for n in range(5):
        buy(big, "2500.10", 10 * n)
    buy(small, "20")
    buy(old, "99999", days_ago=800)  # outside every window
    assert tiers.recalculate(SYSTEM) == {"changed": 4, "ended": 0, "scope": "all"}
    assert [tier_of(c) for c in (big, small, old, none)] == [vip.id, regular.id, prospect.id,
                                                              prospect.id]
    reason = json.loads(TierChange.get(TierChange.customer == big).reason)
    assert reason["code"] == "rule" and Decimal(reason["spend"]) == Decimal("12500.50")
    assert reason["orders"] == 5 and reason["min_orders"] == 5 and reason["window"] == 365
    assert Decimal(reason["min_spend"]) == Decimal(10000)
    assert json.loads(TierChange.get(TierChange.customer == none).reason)["code"] == "default"
    # Nothing changed: nothing written, one summary event per pass.
    assert tiers.recalculate(SYSTEM)["changed"] == 0
    assert TierChange.select().count() == 4
    assert AuditEvent.select().where(AuditEvent.action == "tier.recalculate").count() == 2


def test_recalculating_without_any_tier_changes_nothing(db):
    """A business that has not set up tiers: the pass after a purchase runs (on PostgreSQL
    an untyped NULL tier once failed the comparison) and leaves every card without a tier."""
    customer, _ = factories.make_customer()
    factories.make_purchase(customer, amount="50")
    assert tiers.recalculate(SYSTEM)["changed"] == 0
    assert tiers.recalculate(SYSTEM, customer_id=customer.id)["changed"] == 0
    assert Customer.get_by_id(customer.id).tier is None


def test_deleted_refunded_and_erased_do_not_count(standard):
    _vip, regular, _prospect = standard
    customer = card()
    for n in range(4):
        buy(customer, "3000")
    buy(customer, "3000", order_status="refunded")
    buy(customer, "3000", deleted_at=models.utcnow())
    erased = card()
    Customer.update(erased_at=models.utcnow()).where(Customer.id == erased.id).execute()
    tiers.recalculate(SYSTEM)
    assert tier_of(customer) == regular.id  # 4 orders, not 5
    assert tier_of(erased) is None


def test_spend_exactly_at_the_threshold_earns_the_tier(standard):
    vip = standard[0]
    customer = card()
    for amount in ("3333.33", "3333.33", "3333.34", "0.10", "0.20"):
        buy(customer, amount)
    Purchase.update(amount=Decimal(0)).where(Purchase.amount < 1).execute()
    tiers.recalculate(SYSTEM)
    assert tier_of(customer) == vip.id  # 10,000.00 in 5 orders, float sums rounded


def test_tenure_rule(db):
    loyal = tiers.create_tier(SYSTEM, {"code": "loyal", "name_zh": "老客户", "name_en": "Loyal",
                                       "rank": 5, "colour": "#123456", "window_days": 365,
                                       "min_tenure_days": 365})
    old, new = card(), card()
    Customer.update(created_at=models.utcnow() - 400 * DAY).where(Customer.id == old.id).execute()
    tiers.recalculate(SYSTEM)
    assert (tier_of(old), tier_of(new)) == (loyal.id, None)
    assert json.loads(TierChange.get().reason)["min_tenure"] == 365


def test_one_card_after_a_purchase(standard):
    _vip, regular, _prospect = standard
    one, other = card(), card()
    buy(one, "50")
    tiers.purchases_changed(one.id)  # huey runs immediately in tests
    assert (tier_of(one), tier_of(other)) == (regular.id, None)
    assert TierChange.select().count() == 1


def test_the_recalculation_waits_for_the_commit(standard):
    regular = standard[1]
    customer = card()
    with models.atomic():
        buy(customer, "50")
        tiers.purchases_changed(customer.id)
        assert tier_of(customer) is None
    assert tier_of(customer) == regular.id
    with pytest.raises(RuntimeError), models.atomic():
        buy(card(), "50")
        tiers.purchases_changed(customer.id)
        raise RuntimeError("rolled back: no job")
    assert TierChange.select().count() == 1


def test_an_override_holds_until_it_ends(standard):
    vip, regular, _prospect = standard
    customer = card()
    buy(customer, "10")
    tiers.set_override(customer, SYSTEM, vip, "Friend of the owner",
                       until=models.utcnow() + 10 * DAY)
    assert tiers.recalculate(SYSTEM)["changed"] == 0
    assert tier_of(customer) == vip.id
    change = TierChange.select().order_by(TierChange.id.desc()).get()
    assert change.source == "override"
    assert json.loads(change.reason)["note"] == "Friend of the owner"

    later = models.utcnow() + 11 * DAY
    assert tiers.recalculate(SYSTEM, now=later) == {"changed": 1, "ended": 1, "scope": "all"}
    fresh = Customer.get_by_id(customer.id)
    assert (fresh.tier_id, fresh.tier_overridden, fresh.tier_override_reason) == (
        regular.id, False, None)
    assert TierChange.select().order_by(TierChange.id.desc()).get().source == "expiry"


def test_removing_an_override_applies_the_rules_and_says_so(standard):
    vip, regular, _prospect = standard
    customer = card()
    buy(customer, "10")
    tiers.recalculate(SYSTEM)
    tiers.set_override(Customer.get_by_id(customer.id), SYSTEM, vip, "Trial")
    fresh = tiers.remove_override(Customer.get_by_id(customer.id), SYSTEM)
    assert (fresh.tier_id, fresh.tier_overridden) == (regular.id, False)
    history = tiers.card_history(fresh)
    code = lambda tier: tier.code if tier else None
    assert [(h.source, code(h.from_tier), code(h.to_tier)) for h in history] == [
        ("removed", "vip", "regular"), ("override", "regular", "vip"), ("rule", None, "regular")]
    actions = [e.action for e in AuditEvent.select().order_by(AuditEvent.id)]
    assert "tier.override" in actions and "tier.override_remove" in actions
    with pytest.raises(DomainError):
        tiers.remove_override(fresh, SYSTEM)


def test_override_needs_a_reason_and_a_future_end(standard):
    vip = standard[0]
    customer = card()
    for reason, until in (("", None), ("ok", models.utcnow() - DAY)):
        with pytest.raises(DomainError):
            tiers.set_override(customer, SYSTEM, vip, reason, until)
    assert TierChange.select().count() == 0 and tier_of(customer) is None


def test_tier_validation(db):
    good = {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "rank": 1,
            "colour": "#C9A227", "window_days": 365}
    assert tiers.create_tier(SYSTEM, good).colour == "#c9a227"
    for field, value in (("code", "Has Space"), ("code", "gold"), ("colour", "red"),
                         ("colour", "#12345"), ("rank", 1), ("rank", "x"), ("name_en", ""),
                         ("min_spend", "-1"), ("min_spend", "abc"), ("min_orders", "0"),
                         ("window_days", "0"), ("benefits", "x" * 2001), ("name_zh", "a\x00")):
        values = {**good, "code": "silver", "rank": 2, field: value}
        with pytest.raises(DomainError) as caught:
            tiers.create_tier(SYSTEM, values)
        assert caught.value.field == field, (field, value)
    assert Tier.select().count() == 1


def test_one_default_tier_and_delete_only_if_unused(standard):
    vip, _regular, _prospect = standard
    tiers.update_tier(vip, SYSTEM, dict(tiers._tier_snapshot(vip), is_default=True))
    assert [t.code for t in Tier.select().where(Tier.is_default == True)] == ["vip"]
    spare = tiers.create_tier(SYSTEM, {"code": "spare", "name_zh": "备用", "name_en": "Spare",
                                       "rank": 1, "colour": "#000000", "window_days": 30})
    tiers.delete_tier(spare, SYSTEM)
    assert not Tier.select().where(Tier.code == "spare").exists()
    card()
    tiers.recalculate(SYSTEM)
    with pytest.raises(DomainError):
        tiers.delete_tier(vip, SYSTEM)
    assert Tier.select().count() == 3


def _statements(run):
    """The SQL statements ``run()`` sends, counted through peewee's logger."""
    seen = []

    class Catch(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())
    logger = logging.getLogger("peewee")
    handler, level = Catch(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        run()
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    return seen


def test_a_pass_is_set_based(standard):
    for n in range(3):
        buy(card(), "20")
    few = _statements(lambda: tiers.recalculate(SYSTEM))
    TierChange.delete().execute()
    Customer.update(tier=None).execute()
    for n in range(40):
        buy(card(), str(100 * n))
    many = _statements(lambda: tiers.recalculate(SYSTEM))
    assert len(few) == len(many) < 20
    assert sum("GROUP BY" in s for s in many) == 1
    assert TierChange.select().count() == 43


def test_the_demo_business_and_bench_data_follow_the_same_rules(db):
    from services import demo
    demo.seed_demo()
    demo.seed_scale(customers=300, transactions=3000, progress=lambda message: None)
    history = list(TierChange.select())
    assert history and all(tiers.parse_reason(h.reason)["code"] in ("rule", "default")
                           for h in history)
    # The seeders applied the rules the recalculation applies: nothing to change.
    assert tiers.recalculate(SYSTEM)["changed"] == 0


def test_a_new_card_starts_in_the_default_tier_with_the_reason(db):
    from services.demo.reference import ensure_tiers
    from tests.factories import make_customer
    tiers_by_code, _created = ensure_tiers()
    default = next(t for t in tiers_by_code.values() if t.is_default)
    customer = make_customer(account=False)[0]
    assert models.Customer.get_by_id(customer.id).tier_id == default.id
    change = models.TierChange.get(models.TierChange.customer == customer.id)
    assert (change.from_tier_id, change.to_tier_id, change.source) == (None, default.id, "rule")


def test_card_counts_are_the_live_cards_of_each_tier(standard):
    """The tiers page's figures: every card per tier less the erased ones, each tier apart."""
    vip, regular, prospect = standard
    made = {vip: 3, regular: 5, prospect: 2}
    for tier, number in made.items():
        for n in range(number):
            Customer.create(name=f"{tier.code}{n}", tier=tier)
    Customer.create(name="无等级")  # no tier: not counted
    for tier in (vip, regular):
        Customer.update(erased_at=models.utcnow()).where(
            Customer.id == Customer.select(Customer.id).where(Customer.tier == tier)
            .order_by(Customer.id).limit(1).scalar()).execute()
    assert tiers.card_counts() == {vip.id: 2, regular.id: 4, prospect.id: 2}
    if not models.is_postgres():  # SQLite without statistics: no read of every row
        with statements() as seen:
            tiers.card_counts()
        plans = [sqlite_plan(sql, params) for sql, params in seen]
        assert "COVERING INDEX customer_tier_id" in plans[0], plans
        assert "COVERING INDEX customer_erased_at_updated_at (erased_at>?)" in plans[1], plans
        assert "PRIMARY KEY" in plans[1] and "SCAN" not in plans[1], plans
