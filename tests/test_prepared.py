"""Prepared queries (services.prepared): the SQL is built once per kind of database, and every
run gives what peewee's own query gives, for each set of values, not the first one's."""
import datetime
from decimal import Decimal

import pytest
from peewee import JOIN, fn

from models import Customer, Purchase, StaffUser, Task, Tier, UserSession
from services import cards, sessions, tasks
from services.prepared import Prepared
from tests import factories

PURCHASES = Prepared(lambda customer_id: Purchase.select(
    Purchase.public_id, Purchase.occurred_at, Purchase.amount, Purchase.product)
    .where(Purchase.customer == customer_id).order_by(Purchase.id), Prepared.ID)
WITH_TIER = Prepared(lambda public_id: Customer.select(Customer, Tier)
                     .join(Tier, JOIN.LEFT_OUTER)
                     .where(Customer.public_id == public_id).limit(1), Prepared.TEXT)
DUE = Prepared(lambda staff_id, day: Task.select(fn.COUNT(Task.id)).where(
    Task.assignee == staff_id, Task.due_date <= day), Prepared.ID, Prepared.DATE)


def test_rows_match_peewee_and_follow_the_values(db):
    first, _ = factories.make_customer(name="甲")
    second, _ = factories.make_customer(name="乙")
    factories.make_purchase(first, amount="12.50", product="<b>茶</b>")
    factories.make_purchase(first, amount="3", product="水")
    factories.make_purchase(second, amount="99.99", product="咖啡")

    for customer in (first, second, first):
        expected = list(Purchase.select(Purchase.public_id, Purchase.occurred_at,
                                        Purchase.amount, Purchase.product)
                        .where(Purchase.customer == customer).order_by(Purchase.id).tuples())
        rows = PURCHASES.rows(customer.id)
        assert [tuple(row) for row in rows] == expected
        assert all(isinstance(row.occurred_at, datetime.datetime) for row in rows)
        assert all(isinstance(row.amount, Decimal) for row in rows)
    assert [row.amount for row in PURCHASES.rows(first.id)] == [Decimal("12.50"),
                                                                Decimal("3.00")]
    assert PURCHASES.rows(-1) == []


NUMBERS = Prepared(lambda customer_id: Purchase.select(
    Purchase.quantity, Purchase.unit_price, Purchase.amount, Customer.birthday_lunar)
    .join(Customer).where(Purchase.customer == customer_id).order_by(Purchase.id), Prepared.ID)


def test_decimals_money_and_booleans_read_as_peewee_reads_them(db):
    """Quantities keep their decimals exactly (1.005 stays 1.005, no float digits), money has
    both places, booleans are bools on SQLite too (it stores 0/1)."""
    customer, _ = factories.make_customer(name="丙")
    for quantity, amount in (("1", "3"), ("1.5", "12.10"), ("1.005", "0.1"), ("2", "1234567.89")):
        factories.make_purchase(customer, amount=amount, quantity=Decimal(quantity))
    expected = list(Purchase.select(Purchase.quantity, Purchase.unit_price, Purchase.amount,
                                    Customer.birthday_lunar).join(Customer)
                    .where(Purchase.customer == customer).order_by(Purchase.id).tuples())
    rows = NUMBERS.rows(customer.id)
    assert [tuple(row) for row in rows] == expected
    assert [str(row.quantity) for row in rows] == [str(q) for q, *_ in expected]
    assert [str(row.amount) for row in rows] == ["3.00", "12.10", "0.10", "1234567.89"]
    assert all(row.birthday_lunar is False for row in rows)


def test_objects_read_every_column_as_peewee_does(db):
    """From the second run on, objects are read with the plain-type readers (dates, decimals,
    booleans): every field of the card and its tier must come out as peewee's own read."""
    tier = Tier.create(code="silver", name_zh="银卡", name_en="Silver", rank=3,
                       min_spend=Decimal("999.5"))
    card, _ = factories.make_customer(name="丁", birthday=datetime.date(1990, 2, 28))
    Customer.update(tier=tier, tier_overridden=True, total_spend=Decimal("12.3"),
                    last_contact_at=datetime.datetime(2025, 3, 4, 5, 6, 7, 890),
                    tier_override_until=datetime.datetime(2026, 1, 2, 3, 4, 5)).where(
        Customer.id == card.id).execute()
    expected = Customer.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER).where(
        Customer.id == card.id).get()
    for _ in range(3):  # the first run works the reader out, the next ones reuse it
        found = WITH_TIER.first(card.public_id)
        assert found.__data__ == expected.__data__
        assert found.tier.__data__ == expected.tier.__data__
        assert {type(v) for v in found.__data__.values()} == \
            {type(v) for v in expected.__data__.values()}
    assert found.tier_overridden is True and found.total_spend == Decimal("12.30")
    assert found.last_contact_at == datetime.datetime(2025, 3, 4, 5, 6, 7, 890)


def test_objects_keep_their_joins_for_each_run(db):
    tier = Tier.create(code="gold", name_zh="金卡", name_en="Gold", rank=5)
    gold, _ = factories.make_customer(name="金")
    plain, _ = factories.make_customer(name="普")
    Customer.update(tier=tier).where(Customer.id == gold.id).execute()

    # The second and third runs reuse what the first worked out about the columns.
    for _ in range(2):
        found = WITH_TIER.first(gold.public_id)
        assert (found.id, found.name, found.tier.code) == (gold.id, "金", "gold")
        other = WITH_TIER.first(plain.public_id)
        assert (other.id, other.name, other.tier) == (plain.id, "普", None)
    assert WITH_TIER.first("no-such-card") is None
    assert [c.id for c in WITH_TIER.objects(gold.public_id)] == [gold.id]


def test_scalar_with_two_values(db):
    staff = factories.make_staff()
    today = datetime.date(2024, 5, 1)
    for days in (-1, 0, 3):
        Task.create(title="x", due_date=today + datetime.timedelta(days=days), assignee=staff)
    assert DUE.scalar(staff.id, today) == 2
    assert DUE.scalar(staff.id, today + datetime.timedelta(days=3)) == 3
    assert DUE.scalar(staff.id + 1000, today) == 0
    assert tasks.open_count(staff, today) == 2


def test_a_stand_in_that_does_not_reach_the_sql_is_refused(db):
    broken = Prepared(lambda customer_id: Purchase.select().where(Purchase.id > 0),
                      Prepared.ID)
    with pytest.raises(ValueError, match="stand-in"):
        broken.rows(1)
    with pytest.raises(TypeError):
        PURCHASES.rows()


def test_the_card_reads_agree_with_the_services_they_mirror(db):
    from services import tiers
    low = tiers.create_tier(factories.SYSTEM, {"code": "low", "name_zh": "低", "name_en": "Low",
                                               "rank": 1, "colour": "#123456",
                                               "window_days": 365})
    high = tiers.create_tier(factories.SYSTEM, {"code": "high", "name_zh": "高",
                                                "name_en": "High", "rank": 9,
                                                "colour": "#654321", "window_days": 365})
    customer, _ = factories.make_customer()
    customer = Customer.get_by_id(customer.id)
    tiers.set_override(customer, factories.SYSTEM, high, "VIP", None)
    customer = Customer.get_by_id(customer.id)
    tiers.set_override(customer, factories.SYSTEM, low, "back", None)

    assert [(t.code, t.name_zh, t.name_en) for t in cards.tier_choices()] == \
        [(t.code, t.name_zh, t.name_en) for t in tiers.ranked()]
    mine = cards.TIER_HISTORY.objects(customer.id)
    theirs = tiers.card_history(customer)
    assert len(mine) == len(theirs) == 2
    for a, b in zip(mine, theirs):
        assert (a.id, a.reason, a.source, a.created_at) == (b.id, b.reason, b.source,
                                                            b.created_at)
        assert (a.to_tier.code, getattr(a.from_tier, "code", None)) == \
            (b.to_tier.code, getattr(b.from_tier, "code", None))
        assert getattr(a.changed_by, "id", None) == getattr(b.changed_by, "id", None)


def test_the_session_lookup_finds_its_own_principal_only(db):
    staff = factories.make_staff(name="甲")
    other = factories.make_staff(name="乙")
    token, token2 = sessions.start(staff), sessions.start(other)
    for _ in range(2):
        assert sessions.resolve(token, "staff", 30, 12).id == staff.id
        assert sessions.resolve(token2, "staff", 30, 12).id == other.id
        assert sessions.resolve(token, "customer", 30, 12) is None
    StaffUser.update(is_active=False).where(StaffUser.id == other.id).execute()
    assert sessions.resolve(token2, "staff", 30, 12) is None
    later = datetime.datetime.now(datetime.UTC).replace(tzinfo=None) + \
        datetime.timedelta(minutes=31)
    assert sessions.resolve(token, "staff", 30, 12, now=later) is None
    assert not UserSession.select().where(UserSession.staff == staff.id).exists()
