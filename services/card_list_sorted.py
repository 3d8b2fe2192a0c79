"""The card list's sorted page reads: the order of each sort, the page query and its light
rows, and a broad search's page (more hits than the list reads by id) read without the plans
that cost in proportion to all the cards. ``services.card_list`` decides what the list shows
and counts; it reads its pages through here."""
from peewee import JOIN, SQL, Expression, NodeList

import models
from models import Customer, Tier
from services.prepared import fast_tuples

# what a row of the list shows (building 50 cards of every column costs more than the query)
LIST_COLUMNS = (Customer.id, Customer.public_id, Customer.name, Customer.alt_name,
                Customer.company, Customer.primary_mobile, Customer.primary_email,
                Customer.tier, Customer.status, Customer.city, Customer.last_contact_at,
                Customer.total_spend, Customer.updated_at)
LIST_TIER_COLUMNS = (Tier.id, Tier.code, Tier.name_zh, Tier.name_en, Tier.colour)
_ROW_NAMES = tuple(column.name for column in LIST_COLUMNS if column is not Customer.tier)
_TIER_AT = next(i for i, column in enumerate(LIST_COLUMNS) if column is Customer.tier)


class ListRow:
    """A card as the list shows it: read-only attributes, its tier a shared Tier per page
    (50 model instances and their joined tiers cost more than the query)."""
    __slots__ = _ROW_NAMES + ("tier",)

    def __init__(self, values, tier):
        for name, value in zip(_ROW_NAMES, values):
            setattr(self, name, value)
        self.tier = tier


def list_rows(query):
    """ListRows from a query selecting LIST_COLUMNS then LIST_TIER_COLUMNS."""
    return card_rows(fast_tuples(query))


def card_rows(tuples):
    """ListRows from tuples of LIST_COLUMNS then LIST_TIER_COLUMNS, values converted."""
    tier_at, width = _TIER_AT, len(LIST_COLUMNS)
    tiers, rows = {}, []
    for values in tuples:
        tier_id = values[width]
        if tier_id is not None and tier_id not in tiers:
            tiers[tier_id] = Tier(**dict(zip(("id", "code", "name_zh", "name_en", "colour"),
                                             values[width:])))
        card = values[:tier_at] + values[tier_at + 1:width]
        rows.append(ListRow(card, tiers.get(tier_id)))
    return rows


def list_select(where, order):
    """The list's columns and the tier's of the cards that meet ``where``, in ``order``."""
    return (Customer.select(*LIST_COLUMNS, *LIST_TIER_COLUMNS).join(Tier, JOIN.LEFT_OUTER)
            .where(*where).order_by(*order))


def sort_order(sort, hits=False, matches_first=False):
    """The ORDER BY terms of one of card_list.SORTS. ``hits``: the query reads a search's
    hits by id (at most card_list.SEARCH_CAP of them). Sorted by name, PostgreSQL then sorts
    the hits rather than walking the name index and testing each card against them, which
    it prefers for a LIMIT, yet a search's hits share their name's sounds and so sit
    together in name order, often far along it (a syllable's 2,400 cards at 100k: 80 ms
    against 18 ms). The other orders keep their index walk: hits spread along them (reading
    every hit to sort them would make "zhang" 18 ms instead of 12). SQLite reads the hits by
    id whatever the order (``card_list.live_cards_term``).

    ``matches_first`` (SQLite): the same order by expressions no index serves, so that SQLite
    reads a filter's few matches through the filter's index and sorts them
    (``card_list._few_matches``)."""
    postgres = models.is_postgres()
    plain = matches_first and not postgres
    key = unindexed if plain else (lambda column: column)
    name = unindexed(Customer.name_pinyin) if plain or (postgres and hits) else \
        Customer.name_pinyin

    def desc(column):  # cards never contacted or without purchases go last on both databases
        return column.desc(nulls="LAST") if postgres else column.desc()
    return {
        "updated": (key(Customer.updated_at).desc(), Customer.id.desc()),
        "name": (name, Customer.id),
        "last_contact": (desc(key(Customer.last_contact_at)), Customer.id.desc()),
        "spend": (key(Customer.total_spend).desc(), Customer.id.desc()),
        "newest": (key(Customer.created_at).desc(), Customer.id.desc()),
    }[sort]


def unindexed(column):
    """The same value, but the planner reads no index for it: ``+column`` on SQLite;
    ``column || ''`` on PostgreSQL (text columns only)."""
    if models.is_postgres():
        return NodeList((column, SQL("|| ''")))
    return NodeList((SQL("+"), column), glue="")


def broad_rows(sort, where, hits, page, per_page, walk):
    """The page of a broad search (``hits``: the search's subquery, more than the list reads
    by id; ``where``: card_list's terms, the live term and the hits first): the same rows in
    the same order as the plain query, without the plans that cost in proportion to all the
    cards (1M cards, a surname's 23k hits: 0.1-1 s on SQLite, 5 s sorted by name on
    PostgreSQL at 200k).

    * updated, spend, last contact, newest (SQLite): walk the index of the sort's column in
      its order, testing each card against the hits, and stop at the page. Unary + keeps
      SQLite from the other plans its statistics may prefer: reading every hit by primary key
      and sorting them all, or testing every live card. PostgreSQL plans these itself.
    * name: a search's hits cluster in name order (a surname's cards sit together, "zhang"
      near the end), so a walk of the name index may cross most of it. On SQLite first the
      cards among the first ``walk`` names (a range of that index, a prefix of the order:
      a full page there is the page); else, and on PostgreSQL, the hits' names read by id from
      a narrow index and sorted (a cost in proportion to the hits rather than to the cards),
      then the page's rows by id."""
    rest = where[2:]  # card_list puts the live term and the hits first
    postgres = models.is_postgres()
    live = where[0] if postgres else unindexed(Customer.erased_at).is_null()
    probe = where[1] if postgres else Expression(unindexed(Customer.id), "IN", hits)
    if sort != "name":
        if postgres:
            return list_rows(list_select(where, sort_order(sort)).paginate(page, per_page))
        if sort == "updated":  # its index starts with erased_at
            live = Customer.erased_at.is_null()
        return list_rows(list_select([live, probe] + rest, sort_order(sort))
                         .paginate(page, per_page))
    if not postgres:  # (PostgreSQL tests each card of a walk at 20 us, SQLite at 0.3 us)
        walked = SQL("(SELECT MAX(name_pinyin) FROM (SELECT name_pinyin FROM customer"
                     " ORDER BY name_pinyin LIMIT ?) AS first_names)", [int(walk)])
        rows = list_rows(list_select([live, probe, Customer.name_pinyin <= walked] + rest,
                                     sort_order("name")).paginate(page, per_page))
        if len(rows) == per_page:
            return rows
    # the page's ids from the narrow (id, erased_at, name_pinyin) index, then their rows
    names = Customer.select(Customer.id)
    if not postgres:  # a small table's statistics may prefer the rows themselves
        names = names.from_(SQL('"customer" AS "t1" INDEXED BY "customer_id_erased_at_name_pinyin"'))
    found = [row[0] for row in names.where(live, Customer.id.in_(hits), *rest).order_by(
        unindexed(Customer.name_pinyin).asc(), Customer.id).paginate(page, per_page).tuples()]
    if not found:
        return []
    at = {card_id: i for i, card_id in enumerate(found)}
    return sorted(list_rows(list_select([Customer.id.in_(found)], ())), key=lambda r: at[r.id])
