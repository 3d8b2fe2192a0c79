"""Card search: every query class finds the card (and only cards that match), and the index
stays right whoever writes a name or a contact point (it is kept by database triggers)."""
import random

import pytest
from playhouse.migrations import Runner

import models
from models import ChangeRequest, ContactPoint, Customer
from services import demo, profile, reviews, schema, search
from services.actors import Actor
from tests import factories

STAFF = Actor.system("tests")


def found(query):
    """Public ids of the live cards the search finds."""
    ids = search.matching_ids(query)
    if ids is None:
        return set()
    return {c.public_id for c in Customer.select(Customer.public_id)
            .where(Customer.id.in_(ids), Customer.erased_at.is_null())}


@pytest.fixture
def cards(db):
    zhang, _ = factories.make_customer(name="张伟", mobile="13812345678",
                                       email="zhang.wei@example.com", company="星河贸易有限公司",
                                       wechat="ZW_wechat88", account=False)
    zhangm, _ = factories.make_customer(name="张伟明", mobile="+86 139 0000 1111",
                                        email="zwm@example.org", account=False)
    wang, _ = factories.make_customer(name="王芳", alt_name="Fiona Wang", mobile="13700001234",
                                      email="fang@example.com", company="Acme Trading",
                                      account=False)
    return {"zhang": zhang.public_id, "zhangm": zhangm.public_id, "wang": wang.public_id}


@pytest.mark.parametrize("query, expected", [
    ("张伟", {"zhang", "zhangm"}),  # 2-character name: the short keys
    ("张", {"zhang", "zhangm"}),  # 1 character
    ("伟明", {"zhangm"}),
    ("张伟明", {"zhangm"}),  # 3+ characters: the trigram index
    ("zhangwei", {"zhang", "zhangm"}),  # pinyin
    ("ZhangWeiMing", {"zhangm"}),
    ("zw", {"zhang", "zhangm"}),  # initials
    ("zwm", {"zhangm"}),
    ("5678", {"zhang"}),  # last 4 digits
    ("1234", {"zhang", "wang"}),
    ("138 1234 5678", {"zhang"}),  # typed with spaces
    ("+86 13812345678", {"zhang"}),
    ("0086-139-0000-1111", {"zhangm"}),
    ("zhang.wei@", {"zhang"}),  # email fragment
    ("EXAMPLE.ORG", {"zhangm"}),
    ("星河贸易", {"zhang"}),  # company
    ("acme", {"wang"}),
    ("zw_wechat", {"zhang"}),  # WeChat id
    ("fiona", {"wang"}),  # alternative name
    ("张伟 5678", {"zhang"}),  # every term must match
    ("ｚｈａｎｇ", {"zhang", "zhangm"}),  # full-width letters
    ("nobody", set()),
    ('"%_', set()),  # quotes and LIKE wildcards are plain characters
    ("", set()),
])
def test_every_query_class_finds_its_cards(cards, query, expected):
    assert found(query) == {cards[k] for k in expected}


def test_recall_against_like_on_random_cards(db):
    """What LIKE finds, the index finds too: names, pinyin, initials and phone fragments."""
    demo.seed_scale(customers=300, transactions=0, seed=7)
    rng = random.Random(3)
    rows = list(Customer.select())
    for card in rng.sample(rows, 25):
        for query in (card.name[:2], card.name_pinyin[:5], card.name_initials[:2],
                      card.primary_mobile[-4:], card.primary_email[3:9]):
            like = {c.public_id for c in Customer.select().where(
                Customer.name.contains(query) | Customer.name_pinyin.contains(query)
                | Customer.name_initials.contains(query)
                | Customer.primary_mobile.contains(query)
                | Customer.primary_email.contains(query))}
            got = found(query)
            assert card.public_id in got
            if len(query) >= search.TRIGRAM:
                assert like <= got, query


def test_create_and_apply_changes_keep_the_index(db):
    customer, _ = factories.make_customer(name="张伟", mobile="13812345678", account=False)
    assert customer.public_id in found("张伟") and customer.public_id in found("5678")
    profile.apply_changes(customer, {"name": "李雷", "mobile": "+8613900009999"})
    assert customer.public_id not in found("张伟") and customer.public_id not in found("5678")
    assert {customer.public_id} <= found("李雷") & found("lilei") & found("9999") & found("ll")


def test_accepting_a_reviewed_change_keeps_the_index(db):
    customer, account = factories.make_customer(name="张伟", mobile="13800138000")
    profile.update_own_details(customer, {"name": "李雷"}, Actor.for_customer(account))
    change = ChangeRequest.get(ChangeRequest.customer == customer)
    staff = factories.make_staff()
    reviews.accept(change, Actor.for_staff(staff))
    assert customer.public_id not in found("张伟")
    assert customer.public_id in found("李雷")


def test_contact_points_and_erasure_keep_the_index(db):
    customer, _ = factories.make_customer(name="赵敏", mobile="13812345678", account=False)
    ContactPoint.create(customer=customer, kind="wechat", value="zm_2024", normalized="zm_2024")
    assert customer.public_id in found("zm_2024")
    ContactPoint.update(normalized="zm_2025").where(ContactPoint.kind == "wechat").execute()
    assert customer.public_id not in found("zm_2024") and customer.public_id in found("zm_2025")
    ContactPoint.delete().where(ContactPoint.kind == "wechat").execute()
    assert customer.public_id not in found("zm_2025")
    Customer.update(erased_at=models.utcnow()).where(Customer.id == customer.id).execute()
    assert customer.public_id not in found("赵敏")
    assert models.CustomerSearch.select().count() == 0
    Customer.delete().where(Customer.id == customer.id).execute()
    assert models.CustomerSearch.select().count() == 0


def test_demo_and_scale_data_are_indexed(db):
    demo.seed_demo()
    live = Customer.select().where(Customer.erased_at.is_null()).count()
    assert models.CustomerSearch.select().count() == live
    card = Customer.select().where(Customer.erased_at.is_null()).first()
    assert card.public_id in found(card.name)
    counts = demo.seed_scale(customers=50, transactions=100)
    assert models.CustomerSearch.select().count() == live + 50
    bench = Customer.get(Customer.public_id == counts["bench_card"])
    assert bench.public_id in found(bench.primary_mobile[-8:])
    # the triggers are back after the bulk load
    profile.apply_changes(bench, {"name": "欧阳娜娜"})
    assert found("欧阳") == {bench.public_id}


def test_upgrading_a_populated_database_builds_the_index(db):
    customer, _ = factories.make_customer(name="张伟", mobile="13812345678", account=False)
    runner = Runner(db, str(models.MIGRATIONS_DIR))
    while "0003_card_search" not in schema.pending():
        runner.down()
    assert "customer_search" not in db.get_tables()
    schema.upgrade()
    assert customer.public_id in found("张伟") and customer.public_id in found("5678")
