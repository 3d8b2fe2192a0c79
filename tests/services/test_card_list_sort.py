"""The card list sorted: a broad search (more hits than SEARCH_CAP, read through the search's
subquery) shows the same cards in the same order as a plain ORDER BY over the same filter, for
every sort and page, on SQLite and PostgreSQL; and its queries keep their shape."""
import datetime
import random
from decimal import Decimal

import pytest
from peewee import SQL

import models
from models import Customer
from services import card_list, search
from services.names import pinyin_keys
from tests.sql import sqlite_plan, statements

# the order each sort promises, written out plainly (never contacted: last)
PLAIN = {"updated": "updated_at DESC, id DESC", "name": "name_pinyin, id",
         "last_contact": "last_contact_at IS NULL, last_contact_at DESC, id DESC",
         "spend": "total_spend DESC, id DESC", "newest": "created_at DESC, id DESC"}
SURNAMES = ("张", "章", "王", "李", "赵")  # 张 and 章 are both "zhang"
GIVEN = ("伟", "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰")
PER_PAGE = 7


@pytest.fixture
def cards(db):
    """240 live cards and a few erased ones, with many ties in every sort key."""
    rng = random.Random(5)
    base = datetime.datetime(2024, 1, 1)
    rows = []
    for n in range(250):
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(("", "", "明", "华"))
        if n % 25 == 0:
            name = "Anna Zhang"
        full, initials = pinyin_keys(name)
        rows.append({
            "name": name, "name_pinyin": full, "name_initials": initials,
            "city": rng.choice(("上海", "北京")),
            "total_spend": Decimal(rng.choice((0, 0, 100, 250, 999)) + n % 3),
            "last_contact_at": None if n % 4 == 0 else base + datetime.timedelta(
                days=rng.randint(0, 20)),
            "created_at": base + datetime.timedelta(days=rng.randint(0, 30)),
            "updated_at": base + datetime.timedelta(days=rng.randint(0, 30)),
            "erased_at": base if n % 50 == 7 else None,
            "public_id": f"sortcard{n:04d}",
        })
    with models.atomic():
        Customer.insert_many(rows).execute()
    return rows


def _plain(filters):
    """The ids a plain query finds for the search and city, in the sort's plain order."""
    where = [Customer.erased_at.is_null(), Customer.id.in_(search.matching_ids(filters.get("q")))]
    if filters.get("city"):
        where.append(Customer.city == filters.get("city"))
    return [c.id for c in Customer.select(Customer.id).where(*where)
            .order_by(SQL(PLAIN[filters.sort]))]


def _listed(filters):
    """Every page of the list, walked to one past the end: (ids in order, totals seen)."""
    ids, totals, page = [], set(), 1
    while True:
        shown = card_list.list_page(filters, page=page, per_page=PER_PAGE)
        totals.add((shown.total, shown.more))
        if not shown.items:
            return ids, totals
        assert len(shown.items) == PER_PAGE or not shown.has_next
        ids += [row.id for row in shown.items]
        page += 1


@pytest.mark.parametrize("cap, walk", [(card_list.SEARCH_CAP, card_list.NAME_WALK), (5, 10),
                                       (5, 100_000)])
@pytest.mark.parametrize("query", ["q=zhang", "q=张", "q=zhang&city=上海", "q=wei"])
def test_every_sort_of_a_search_is_the_plain_order(cards, monkeypatch, cap, walk, query):
    """cap 5: the hits go through the subquery (a broad search); walk 10: the first names hold
    no page, so name reads the hits; walk 100k: the name index's walk holds every page."""
    monkeypatch.setattr(card_list, "SEARCH_CAP", cap)
    monkeypatch.setattr(card_list, "NAME_WALK", walk)
    for sort in card_list.SORTS:
        filters = card_list.parse([tuple(p.split("=")) for p in query.split("&")]
                                  + [("sort", sort)])
        expected = _plain(filters)
        assert len(expected) > 2 * PER_PAGE  # several pages, more hits than the cap of 5
        if cap == 5:
            assert not isinstance(search.narrowed_ids(filters.get("q"), cap), list)
        ids, totals = _listed(filters)
        assert ids == expected, sort
        assert totals == {(len(expected), False)}, sort


def _statements(filters, **kwargs):
    with statements() as seen:
        shown = card_list.list_page(filters, per_page=PER_PAGE, **kwargs)
    return shown, seen


def test_a_broad_sorted_search_is_the_search_and_one_page_query(cards, monkeypatch):
    """No count of a broad search, no fetching of its ids: the search (up to the cap), then
    the page; by name, when the first names hold no page (SQLite) or always (PostgreSQL), the
    page's ids among the hits sorted by name, then their rows."""
    monkeypatch.setattr(card_list, "SEARCH_CAP", 10)
    monkeypatch.setattr(card_list, "COUNT_CAP", 2)
    for sort in ("updated", "spend", "last_contact", "newest"):
        shown, seen = _statements(card_list.parse([("q", "zhang"), ("sort", sort)]))
        assert len(seen) == 2 and len(shown.items) == PER_PAGE, sort
        assert (shown.total, shown.more) == (10, True)  # "10+", uncounted
    monkeypatch.setattr(card_list, "NAME_WALK", 100_000)
    _shown, seen = _statements(card_list.parse([("q", "zhang"), ("sort", "name")]))
    assert len(seen) == (3 if models.is_postgres() else 2)  # SQLite: the walk holds the page
    monkeypatch.setattr(card_list, "NAME_WALK", 10)  # ten Anna Zhangs: no "wei" among them
    _shown, seen = _statements(card_list.parse([("q", "wei"), ("sort", "name")]))
    # SQLite: the search, the first names, the hits' names from the narrow index, the rows
    assert len(seen) == (3 if models.is_postgres() else 4)
    if not models.is_postgres():
        sql, params = seen[-2]
        plan = sqlite_plan(sql, params)
        assert "COVERING INDEX customer_id_erased_at_name_pinyin" in plan, plan


@pytest.mark.parametrize("sort, index", [("spend", "customer_total_spend"),
                                         ("last_contact", "customer_last_contact_at"),
                                         ("newest", "customer_created_at"),
                                         ("updated", "customer_erased_at_updated_at")])
def test_sqlite_walks_the_sort_index_of_a_broad_search(cards, monkeypatch, sort, index):
    """The page of a broad search reads the sort's index in order and stops there: no temporary
    sort of every hit (1M cards, a surname: 0.1-0.5 s), with or without statistics."""
    if models.is_postgres():
        pytest.skip("SQLite's plan")
    monkeypatch.setattr(card_list, "SEARCH_CAP", 5)
    for analyzed in (False, True):
        if analyzed:
            models.db.execute_sql("ANALYZE")
        _shown, seen = _statements(card_list.parse([("q", "zhang"), ("sort", sort)]))
        sql, params = next(m for m in seen if "ORDER BY" in m[0])  # the page, not the count
        plan = sqlite_plan(sql, params)
        assert f"USING INDEX {index}" in plan and "TEMP B-TREE" not in plan, plan


def test_the_unfiltered_list_counts_live_cards_only(cards):
    """Without a filter the total is every card less the erased ones (a count SQLite answers
    from the table's pages); with one it is a count over the WHERE: both leave erased out."""
    live = sum(1 for row in cards if row["erased_at"] is None)
    assert live == 245
    assert card_list.list_page(card_list.parse([]), per_page=PER_PAGE).total == live
    shanghai = sum(1 for row in cards if row["erased_at"] is None and row["city"] == "上海")
    page = card_list.list_page(card_list.parse([("city", "上海")]), per_page=PER_PAGE)
    assert page.total == shanghai
    Customer.update(erased_at=datetime.datetime(2025, 1, 1)).where(
        Customer.public_id == "sortcard0000").execute()
    assert card_list.list_page(card_list.parse([]), per_page=PER_PAGE).total == live - 1


@pytest.mark.parametrize("sort", card_list.SORTS)
def test_the_unfiltered_list_pages_are_the_plain_order_with_every_value(cards, sort):
    """The unfiltered list reads its pages through SQL built once per sort; walked to the end
    they are the plain query's cards in its order, each value as the model reads it."""
    filters = card_list.parse([("sort", sort)])
    ids, _totals = _listed(filters)
    plain = [c.id for c in Customer.select(Customer.id).where(Customer.erased_at.is_null())
             .order_by(SQL(PLAIN[sort]))]
    assert ids == plain
    shown = card_list.list_page(filters, page=2, per_page=PER_PAGE).items
    for row in shown:
        card = Customer.get_by_id(row.id)
        for column in card_list.LIST_COLUMNS:
            name = column.name
            expected = card.tier_id if name == "tier" else getattr(card, name)
            got = row.tier.id if name == "tier" and row.tier else getattr(row, name, None)
            assert got == expected and type(got) is type(expected), (name, got, expected)


def test_a_search_sorted_by_name_reads_its_hits_then_sorts_them(cards):
    """A search's hits share the sounds of their names, so they sit together in name order:
    PostgreSQL, left to choose, walks the name index to them testing every card on the way
    (2,400 hits at 100k cards: 80 ms against 18). The page of a search sorted by name orders
    by an expression no index serves; in the same order (see the test of every sort above).
    SQLite reads the hits by id through the live term's unary + (its other tests)."""
    shown, seen = _statements(card_list.parse([("q", "zhang"), ("sort", "name")]))
    assert shown.items
    sql = next(s for s, _params in seen if "ORDER BY" in s)
    order = sql[sql.index("ORDER BY"):]
    if models.is_postgres():
        assert order.startswith('ORDER BY "t1"."name_pinyin" || \'\', "t1"."id"'), order
        assert "= ANY(" in sql and sql.count("%s") < 10, sql  # the hits: one array parameter
    else:
        assert order.startswith('ORDER BY "t1"."name_pinyin"'), order
    _shown, seen = _statements(card_list.parse([("q", "zhang")]))
    sql = next(s for s, _params in seen if "ORDER BY" in s)
    assert 'ORDER BY "t1"."updated_at" DESC' in sql  # other orders keep their index walk


@pytest.mark.parametrize("sort", card_list.SORTS)
def test_sqlite_walks_the_sort_index_of_the_unfiltered_list(cards, sort):
    """Without statistics (a database before its first nightly ANALYZE) SQLite would read
    every live card through the (erased_at, updated_at) index and sort them all for any other
    order (100k cards by name: 170 ms); the unfiltered list walks the sort's own index."""
    if models.is_postgres():
        pytest.skip("SQLite's plan")
    _shown, seen = _statements(card_list.parse([("sort", sort)]))
    sql, params = next(m for m in seen if "ORDER BY" in m[0])
    plan = sqlite_plan(sql, params)
    assert "TEMP B-TREE" not in plan, plan


def _plain_filtered(city, sort):
    return [c.id for c in Customer.select(Customer.id).where(
        Customer.erased_at.is_null(), Customer.city == city).order_by(SQL(PLAIN[sort]))]


@pytest.mark.parametrize("sort", card_list.SORTS)
def test_a_filtered_list_is_the_plain_order_whether_its_matches_are_few_or_many(cards, sort):
    """A filter's page is read along the sort's index when its matches are many, or, on
    SQLite, through the filter's own index and sorted when they are few (a city nobody
    lives in crossed all 100k cards along the sort's index: 80 ms); the pages are the same
    either way, and a filter that matches nothing reads no rows at all."""
    Customer.update(city="拉萨").where(Customer.public_id.in_(
        [f"sortcard{n:04d}" for n in (3, 17, 44, 45, 90, 133, 201, 249)])).execute()
    for city in ("拉萨", "北京"):
        ids, _totals = _listed(card_list.parse([("city", city), ("sort", sort)]))
        assert ids == _plain_filtered(city, sort), city
    _shown, seen = _statements(card_list.parse([("city", "拉萨"), ("sort", sort)]))
    page_sql = next(s for s, _params in seen if "ORDER BY" in s)
    if not models.is_postgres():
        assert '+"t1"."erased_at" IS NULL' in page_sql  # the few matches: the city's index
        _shown, seen = _statements(card_list.parse([("city", "北京"), ("sort", sort)]))
        assert '+"t1"' not in next(s for s, _params in seen if "ORDER BY" in s)
    shown, seen = _statements(card_list.parse([("city", "无人城"), ("sort", sort)]))
    assert (shown.items, shown.total) == ([], 0)
    assert not [s for s, _params in seen if "ORDER BY" in s]


@pytest.mark.parametrize("erased_few", [card_list.ERASED_FEW, 1])
def test_a_filtered_count_leaves_the_erased_cards_out(cards, monkeypatch, erased_few):
    """Every card meeting the filters less the erased ones among them (read by id), or, with
    more erased cards than ERASED_FEW, the live ones counted directly: the same number."""
    monkeypatch.setattr(card_list, "ERASED_FEW", erased_few)
    for city in ("上海", "北京"):
        live = sum(1 for row in cards if row["erased_at"] is None and row["city"] == city)
        erased = sum(1 for row in cards if row["erased_at"] is not None and row["city"] == city)
        assert erased  # the fixture erases cards in both cities
        page = card_list.list_page(card_list.parse([("city", city)]), per_page=PER_PAGE)
        assert page.total == live, city
    assert card_list.list_page(card_list.parse([("city", "上海"), ("sort", "name")]),
                               per_page=PER_PAGE).total == sum(
        1 for row in cards if row["erased_at"] is None and row["city"] == "上海")
