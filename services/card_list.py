"""The staff card list: search and filters, sort, one page of light rows with its count, and
what the list's forms offer. Saved views are in ``services.saved_views``, bulk actions on the
rows a filter finds in ``services.card_bulk`` (both read the filters parsed here)."""
import datetime
import json
import math
import zoneinfo
from dataclasses import dataclass, field

from peewee import JOIN, SQL, Select, Value, fn

import models
from models import (
    ConsentEvent,
    ConsentPurpose,
    Customer,
    CustomerTag,
    StaffUser,
    Tag,
    Tier,
)
from services import N_, DomainError, custom_fields, places, search
from services.card_list_sorted import (
    LIST_COLUMNS,  # noqa: F401 (the list's rows stay this module's API too)
    LIST_TIER_COLUMNS,  # noqa: F401
    ListRow,  # noqa: F401
    broad_rows,
    card_rows,
    list_rows,
    list_select,
    sort_order,
)
from services.card_list_sorted import unindexed as _unindexed  # (live_cards_term's flag)
from services.prepared import Prepared

SORTS = ("updated", "name", "last_contact", "spend", "newest")
CONSENT_STATES = ("granted", "not")
SCALARS = ("q", "tier", "status", "owner", "province", "city", "source", "industry",
           "consent", "consent_state", "purchase_from", "purchase_to", "contact_from",
           "contact_to", "sort")
FIELD_PREFIX = "cf_"  # cf_<key>=value; number and date ranges: cf_<key>.from / cf_<key>.to
RANGE_ENDS = ("from", "to")
YES, NO = ("yes", "1", "true"), ("no", "0", "false")
NOTHING = SQL("1 = 0")
MAX_VALUE = 200
SEARCH_CAP = 10_000  # up to this many hits, the list reads the matching cards by id
COUNT_CAP = 1000  # a search with filters counts its cards up to this many ("1,000+")
# A broad search (more than SEARCH_CAP hits) sorted by name first reads the cards whose
# name_pinyin is among the first NAME_WALK of the name index; many searches have a page there.
NAME_WALK = 25_000


@dataclass
class Filters:
    """What the list shows: every value a plain string ("" when unset), tags a list,
    custom fields {key: value} ({"key.from": low, "key.to": high} for a range)."""
    values: dict = field(default_factory=dict)
    tags: list = field(default_factory=list)
    fields: dict = field(default_factory=dict)

    def get(self, key):
        return self.values.get(key, "")

    @property
    def sort(self):
        return self.get("sort") if self.get("sort") in SORTS else "updated"

    def as_query(self):
        """The filters as query-string pairs (for links, saved views and bulk forms)."""
        pairs = [(k, v) for k, v in self.values.items()
                 if v and not (k == "sort" and v == SORTS[0])]  # the default sort goes unsaid
        pairs += [("tag", t) for t in self.tags]
        pairs += [(FIELD_PREFIX + k, v) for k, v in self.fields.items()]
        return pairs

    @property
    def active(self):
        return bool([k for k, _ in self.as_query() if k != "sort"])


def parse(pairs):
    """Filters from (key, value) pairs of a query string; unknown keys are ignored, values
    trimmed and capped."""
    filters = Filters()
    for key, value in pairs:
        value = (value or "").replace("\x00", "").strip()[:MAX_VALUE]
        if not value:
            continue
        if key in SCALARS:
            filters.values[key] = value
        elif key == "tag" and value not in filters.tags:
            filters.tags.append(value)
        elif key.startswith(FIELD_PREFIX) and len(key) > len(FIELD_PREFIX):
            filters.fields[key[len(FIELD_PREFIX):][:70]] = value
    return filters


def list_query(filters, staff=None, tz="Asia/Shanghai"):
    """(rows, count query) of live cards that pass ``filters``, sorted; rows join the tier."""
    where = conditions(filters, staff, tz)
    rows = (Customer.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER)
            .where(*where).order_by(*sort_order(filters.sort)))
    return rows, Customer.select(Customer.id).where(*where)


@dataclass
class ListPage:
    """One page of the list: ``items`` (cards with their tier) and ``total``. A search may
    stop counting: ``more`` then says there are more than ``total`` cards (shown "1,000+"),
    and there is a next page whenever this one is not the last that the count reaches."""
    items: list
    total: int
    page: int
    per_page: int
    more: bool = False

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages or self.more


def list_page(filters, staff=None, tz="Asia/Shanghai", page=1, per_page=50):
    """A page of the cards that pass ``filters`` (the list page reads this).

    Without a search: the rows and the full count. With a search, the count costs nothing
    more when the index's hits are all there is to it: up to ``SEARCH_CAP`` hits it is their
    number (the index holds live cards only); above, it is "more than SEARCH_CAP". A search
    with other filters counts up to ``COUNT_CAP`` (or up to this page) and says "more"."""
    page = max(1, page)
    ids = search.narrowed_ids(filters.get("q"), SEARCH_CAP)
    where = _conditions(filters, staff, tz, ids)
    if ids is None and len(where) == 1:  # no filter: every live card, SQL built once
        rows = card_rows(EVERY_CARD_PAGE[filters.sort].tuples(per_page, (page - 1) * per_page))
        return ListPage(rows, LIVE_CARDS.scalar(), page, per_page)
    if ids is None:
        total = _filtered_count(where)
        if not total:  # nothing to read (a walk of the sort's index would cross every card)
            return ListPage([], 0, page, per_page)
        if _few_matches(total, page * per_page):
            where, order = [live_cards_term(unindexed=True)] + where[1:], sort_order(
                filters.sort, matches_first=True)
        else:
            order = sort_order(filters.sort)
        rows = list_rows(list_select(where, order).paginate(page, per_page))
        return ListPage(rows, total, page, per_page)
    if isinstance(ids, SQL):
        rows = broad_rows(filters.sort, where, ids, page, per_page, NAME_WALK)
    else:
        rows = list_rows(list_select(where, sort_order(filters.sort, hits=True))
                         .paginate(page, per_page))
    searched_only = not [k for k, _ in filters.as_query() if k not in ("q", "sort")]
    reach = max(COUNT_CAP, page * per_page)  # a count this high still shows this page
    if searched_only and isinstance(ids, list):
        return ListPage(rows, len(ids), page, per_page)
    if searched_only and reach <= SEARCH_CAP:
        return ListPage(rows, SEARCH_CAP, page, per_page, more=True)
    counted = Customer.select(SQL("1")).where(*where).limit(reach + 1).count()
    return ListPage(rows, min(counted, reach), page, per_page, more=counted > reach)


def _live_cards():
    # All cards less the erased ones, rather than counting the live ones: SQLite answers a
    # COUNT(*) without WHERE from the table's b-tree pages, not row by row (0.02 ms against
    # 3 ms at 100k cards, on the list page everybody opens first), and erased cards are few
    # (an index range). COALESCE makes each subquery a value: a bare "select - select" is
    # peewee's EXCEPT.
    every = Customer.select(fn.COUNT(SQL("*")))
    erased = Customer.select(fn.COUNT(SQL("*"))).where(Customer.erased_at.is_null(False))
    return Select(columns=[fn.COALESCE(every, 0) - fn.COALESCE(erased, 0)]).bind(models.db)


LIVE_CARDS = Prepared(_live_cards)
ERASED_FEW = 10_000  # up to this many erased cards, a filtered count subtracts them by id

# A page of every live card in each order (the list everybody opens first): limit, offset.
# Walked along the sort's own index: the live term keeps off the (erased_at, updated_at) index
# but for its own order, which SQLite without statistics would otherwise read whole and sort
# (100k cards sorted by name: 170 ms against 0.5 ms).
EVERY_CARD_PAGE = {
    sort: Prepared(lambda limit, offset, sort=sort: list_select(
        [live_cards_term(unindexed=sort != "updated")], sort_order(sort))
        .limit(limit).offset(offset), Prepared.ID, Prepared.ID + 1)
    for sort in SORTS}


def _among(ids):
    """The cards whose id is in ``ids`` (a non-empty list), as one parameter rather than one
    per id (10k ids: Peewee builds 10k nodes, and PostgreSQL parses as many placeholders:
    85 ms for a syllable's 2,400 hits at 100k)."""
    if models.is_postgres():
        return Customer.id == fn.ANY(Value(ids, unpack=False))
    return Customer.id.in_(SQL("(SELECT value FROM json_each(?))", [json.dumps(ids)]))


def _filtered_count(where):
    """The live cards that meet ``where`` (the live term, then the filters): every card that
    meets the filters less the erased ones among them. Counting the live ones reads each
    match's row for its erased_at (the largest city at 1M cards: 250 ms on SQLite), where
    one filter on an indexed column is counted from its index alone and the erased cards,
    few, are read by id. With many erased cards, the plain count."""
    filters = where[1:]
    erased = [row[0] for row in Customer.select(Customer.id).where(
        Customer.erased_at.is_null(False)).limit(ERASED_FEW + 1).tuples()]
    if len(erased) > ERASED_FEW:
        return Customer.select(fn.COUNT(SQL("*"))).where(*where).scalar()
    total = Customer.select(fn.COUNT(SQL("*"))).where(*filters).scalar()
    if erased:
        total -= Customer.select(fn.COUNT(SQL("*"))).where(_among(erased), *filters).scalar()
    return total


def _few_matches(total, reach):
    """SQLite: whether the page of a filtered list is found sooner by reading the filter's
    ``total`` matches (through the filter's index) and sorting them than by walking the
    sort's index until ``reach`` matches have passed: a walk crosses about reach x live cards
    / total cards. SQLite guesses from its statistics, or without them, and walks: a city
    nobody lives in crossed all 100k cards (80 ms). PostgreSQL's statistics know the rare
    values and choose well."""
    if models.is_postgres():
        return False
    return total * total < reach * (LIVE_CARDS.scalar() or 0)


def conditions(filters, staff=None, tz="Asia/Shanghai"):
    """The WHERE terms of ``filters`` (a bad value matches nothing rather than failing)."""
    return _conditions(filters, staff, tz, search.narrowed_ids(filters.get("q"), SEARCH_CAP))


def _conditions(filters, staff, tz, ids):
    """``conditions`` with the search's hits (``search.narrowed_ids``) already found; the live
    term and the hits come first (``card_list_sorted.broad_rows`` replaces those two)."""
    where = [live_cards_term(unindexed=isinstance(ids, list))]
    if isinstance(ids, list) and ids:
        where.append(_among(ids))
    elif ids is not None:
        where.append(Customer.id.in_(ids))
    for key in ("province", "city"):  # 上海 finds 上海市 (services.places)
        if filters.get(key):
            where.append(getattr(Customer, key).in_(places.spellings(filters.get(key))))
    for key in ("source", "industry"):
        if filters.get(key):
            where.append(getattr(Customer, key) == filters.get(key))
    if filters.get("status"):
        where.append(Customer.status == filters.get("status"))
    if filters.get("tier"):
        where.append(Customer.tier.is_null() if filters.get("tier") == "none" else
                     Customer.tier.in_(Tier.select(Tier.id).where(
                         Tier.code == filters.get("tier"))))
    where += _owner(filters.get("owner"), staff)
    for tag in filters.tags:
        where.append(Customer.id.in_(CustomerTag.select(CustomerTag.customer)
                                     .join(Tag).where(Tag.name == tag)))
    where += _consent(filters.get("consent"), filters.get("consent_state"))
    where += _dates(Customer.last_purchase_at, filters.get("purchase_from"),
                    filters.get("purchase_to"), tz)
    where += _dates(Customer.last_contact_at, filters.get("contact_from"),
                    filters.get("contact_to"), tz)
    where += _field_terms(filters)[0]
    return where


def live_cards_term(unindexed):
    """Not erased. With a short list of search hits, SQLite must read those cards by primary
    key; seeing ``erased_at IS NULL`` it may walk the (erased_at, updated_at) index of every
    live card instead (1M cards: 200-600 ms). A unary + keeps it off that index."""
    if unindexed and not models.is_postgres():
        return _unindexed(Customer.erased_at).is_null()
    return Customer.erased_at.is_null()


def _owner(owner, staff):
    if not owner:
        return []
    if owner == "none":
        return [Customer.owner.is_null()]
    if owner == "me":
        return [Customer.owner == (staff.id if staff else 0)]
    return [Customer.owner.in_(StaffUser.select(StaffUser.id).where(
        StaffUser.public_id == owner))]


def _consent(code, state):
    """Cards whose latest event for the purpose grants it under the current policy version
    (the ledger's current state, as services.consent.has_consent reads it), or the others."""
    if not code or state not in CONSENT_STATES:
        return []
    later = ConsentEvent.alias("later")
    newer = (later.select(SQL("1")).where(
        (later.customer == ConsentEvent.customer) & (later.purpose == ConsentEvent.purpose)
        & ((later.created_at > ConsentEvent.created_at)
           | ((later.created_at == ConsentEvent.created_at) & (later.id > ConsentEvent.id)))))
    granted = (ConsentEvent.select(ConsentEvent.customer).join(ConsentPurpose)
               .where(ConsentPurpose.code == code, ConsentPurpose.active == True,
                      ConsentEvent.granted == True,
                      ConsentEvent.policy_version >= ConsentPurpose.current_version,
                      ~fn.EXISTS(newer)))
    return [Customer.id.in_(granted) if state == "granted" else Customer.id.not_in(granted)]


def _dates(column, start, end, tz):
    """Local calendar days [start, end] (either may be missing) as a UTC range on ``column``."""
    where = []
    for value, inclusive_end in ((start, False), (end, True)):
        day = _date(value)
        if value and day is None:
            return [SQL("1 = 0")]
        if day is None:
            continue
        if inclusive_end:
            day += datetime.timedelta(days=1)
        local = datetime.datetime.combine(day, datetime.time(), zoneinfo.ZoneInfo(tz))
        moment = local.astimezone(datetime.UTC).replace(tzinfo=None)
        where.append(column < moment if inclusive_end else column >= moment)
    return where


def _date(value):
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None


# --- custom fields ------------------------------------------------------------------------------

def _field_parts(filters):
    """{key: {"": value, "from": low, "to": high}} of the custom-field filters, and the query
    names whose ending is not one of those."""
    parts, odd = {}, []
    for name, value in filters.fields.items():
        key, dot, end = name.partition(".")
        if dot and end not in RANGE_ENDS:
            odd.append(name)
        else:
            parts.setdefault(key, {})[end] = value
    return parts, odd


def _field_term(field, parts):
    """One condition for a field's filter (raises DomainError for a value it cannot hold)."""
    value, low, high = parts.get(""), parts.get("from"), parts.get("to")
    if value is None:
        return custom_fields.filter_expression(field, low=low, high=high)
    if field.kind == "bool":
        if value.lower() not in YES + NO:
            raise DomainError(N_("Choose yes or no."))
        having = custom_fields.filter_expression(field, True)
        return having if value.lower() in YES else ~having
    return custom_fields.filter_expression(field, value)


def _field_terms(filters):
    """(WHERE terms, {query name: (message, params)}) of the custom-field filters, built by
    ``custom_fields.filter_expression`` (the one helper lists and segments share). A filter
    that cannot hold (an unknown or sensitive field, "abc" for a number) matches nothing and
    names its error, so that the list shows it at that filter and keeps the others."""
    if not filters.fields:
        return [], {}
    parts, odd = _field_parts(filters)
    fields = custom_fields.fields_by_key(parts)
    terms, errors = [], {}
    for name in odd:
        terms.append(NOTHING)
        errors[FIELD_PREFIX + name] = (N_("There is no such filter."), {})
    for key, given in parts.items():
        field = fields.get(key)
        if field is None or not field.active:
            terms.append(NOTHING)
            errors[FIELD_PREFIX + key] = (N_("This field no longer exists."), {})
            continue
        bad = {}
        for end in given:  # each input on its own, so that the message goes to the right one
            try:
                _field_term(field, {end: given[end]})
            except DomainError as exc:
                bad[FIELD_PREFIX + key + ("." + end if end else "")] = (exc.message, exc.params)
        terms.append(NOTHING if bad else _field_term(field, given))
        errors.update(bad)
    return terms, errors


def normal_field_values(filters):
    """{query name: value} of the number and date filters as their inputs show them
    ("2025-1-5" -> "2025-01-05", "４２" -> "42"): a browser's date and number inputs show
    nothing for any other spelling. Only for filters ``filter_errors`` accepted."""
    parts, _odd = _field_parts(filters)
    fields = custom_fields.fields_by_key(parts)
    normal = {}
    for key, given in parts.items():
        field = fields.get(key)
        if field is None or field.kind not in ("number", "date"):
            continue
        for end, value in given.items():
            cleaned = custom_fields.filter_value(field, value)
            if cleaned is not None:
                normal[FIELD_PREFIX + key + ("." + end if end else "")] = str(cleaned)
    return normal


def filter_errors(filters):
    """{query name: (message, params)} for each filter value that cannot match (shown at its
    field); empty when every filter is usable."""
    return _field_terms(filters)[1]
