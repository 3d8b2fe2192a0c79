"""Segments: saved filters over the cards (dynamic) and hand-picked lists (static).

A dynamic segment keeps its criteria as query-string pairs: the card list's filters (built by
``services.card_list.conditions``) plus the segment's own (RFM figures, birthday month, NPS
answers to a survey). Counting, listing and materialising members are set-based SQL."""
import datetime
from decimal import Decimal, InvalidOperation

from peewee import SQL, NodeList, Value, fn

import models
from models import (
    Campaign,
    Customer,
    Segment,
    SegmentMember,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    Tier,
)
from services import N_, DomainError, audit, card_list
from services.actors import Actor
from services.profile import FieldErrors

KINDS = ("dynamic", "static")
NAME_MAX = 100
DESCRIPTION_MAX = 1000
DEFAULT_TZ = "Asia/Shanghai"
# the card list's criteria a segment keeps (its sort is meaningless here)
LIST_KEYS = tuple(k for k in card_list.SCALARS if k != "sort")
DAYS = ("purchase_within_days", "purchase_before_days")
COUNTS = ("min_purchases", "max_purchases")
MONEY = ("min_spend", "max_spend")
OWN_KEYS = DAYS + COUNTS + MONEY + ("birthday_month", "survey", "nps")
NPS_BANDS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}
MAX_DAYS = 36_500
MAX_COUNT = 1_000_000
MAX_IDS = 5_000  # public ids added or removed in one go


# --- criteria -----------------------------------------------------------------------------------

def criteria_pairs(pairs):
    """The (key, value) pairs a segment keeps from a submitted form or query string: the card
    list's filters and the segment's own, trimmed; everything else is dropped."""
    pairs = list(pairs)
    kept = [(k, v) for k, v in card_list.parse(pairs).as_query() if k != "sort"]
    for key, value in pairs:
        value = (value or "").replace("\x00", "").strip()[:card_list.MAX_VALUE]
        if key in OWN_KEYS and value and key not in dict(kept):
            kept.append((key, value))
    return kept


def clean_criteria(pairs):
    """The criteria checked: a list of pairs, or FieldErrors naming each bad field."""
    pairs = criteria_pairs(pairs)
    values, errors = dict(pairs), {}
    checks = [(k, _check_days) for k in DAYS] + [(k, _check_count) for k in COUNTS] + [
        (k, _check_money) for k in MONEY] + [("birthday_month", _check_month)] + [
        (k, _check_date) for k in ("purchase_from", "purchase_to", "contact_from", "contact_to")]
    for key, check in checks:
        if values.get(key):
            try:
                values[key] = check(values[key])
            except DomainError as exc:
                errors[key] = (exc.message, exc.params)
    for low, high in (COUNTS, MONEY):
        if low not in errors and high not in errors and values.get(low) and values.get(high) \
                and Decimal(values[low]) > Decimal(values[high]):
            errors[high] = (N_("The maximum is below the minimum."), {})
    errors.update(_check_choices(values))
    errors.update(card_list.filter_errors(card_list.parse(pairs)))  # custom fields
    if errors:
        raise FieldErrors(errors)
    return [(k, values[k] if k in values and k != "tag" else v) for k, v in pairs]


def _whole(value, low, high):
    text = value.replace(",", "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise DomainError(N_("Type a whole number from %(low)s to %(high)s."), low=low, high=high)
    return str(int(text))


def _check_days(value):
    return _whole(value, 1, MAX_DAYS)


def _check_count(value):
    return _whole(value, 0, MAX_COUNT)


def _check_month(value):
    return _whole(value, 1, 12)


def _check_money(value):
    try:
        amount = Decimal(value.replace(",", "").replace("¥", "").strip())
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or amount < 0 or amount >= 10**12:
        raise DomainError(N_("Type an amount such as 1000 or 99.50."))
    return str(amount.quantize(Decimal("0.01")))


def _check_date(value):
    try:
        return datetime.date.fromisoformat(value).isoformat()
    except ValueError as exc:
        raise DomainError(N_("Type a date like 2025-03-01.")) from exc


def _check_choices(values):
    """Codes that must name something that exists: tier, owner, survey, NPS band."""
    errors = {}
    tier = values.get("tier")
    if tier and tier != "none" and not Tier.select().where(Tier.code == tier).exists():
        errors["tier"] = (N_("Choose a tier."), {})
    owner = values.get("owner")
    if owner and owner != "none" and not StaffUser.select().where(
            StaffUser.public_id == owner).exists():
        errors["owner"] = (N_("Choose a member of staff."), {})
    if values.get("consent_state") and not values.get("consent"):
        errors["consent"] = (N_("Choose the purpose whose consent counts."), {})
    survey, band = values.get("survey"), values.get("nps")
    if band and band not in NPS_BANDS:
        errors["nps"] = (N_("Choose detractors, passives or promoters."), {})
    if survey and _nps_survey(survey) is None:
        errors["survey"] = (N_("Choose a survey with a recommendation (NPS) question."), {})
    elif survey and not band:
        errors["nps"] = (N_("Choose detractors, passives or promoters."), {})
    elif band and not survey:
        errors["survey"] = (N_("Choose a survey with a recommendation (NPS) question."), {})
    return errors


def _nps_survey(public_id):
    return Survey.select().where(Survey.public_id == public_id, fn.EXISTS(
        SurveyQuestion.select(SQL("1")).where(SurveyQuestion.survey == Survey.id,
                                              SurveyQuestion.kind == "nps"))).first()


def nps_surveys():
    """Surveys that ask the recommendation question, newest first (what the form offers)."""
    return list(Survey.select(Survey.public_id, Survey.title_zh, Survey.title_en).where(
        fn.EXISTS(SurveyQuestion.select(SQL("1")).where(SurveyQuestion.survey == Survey.id,
                                                        SurveyQuestion.kind == "nps")))
        .order_by(Survey.created_at.desc(), Survey.id.desc()).limit(200))


def conditions(pairs, tz=DEFAULT_TZ, now=None):
    """The WHERE terms (live cards only) of checked criteria pairs: the card list's filters
    through ``card_list.conditions`` and the segment's own terms."""
    where = card_list.conditions(card_list.parse(pairs), None, tz)
    values = dict(pairs)
    now = now or models.utcnow()
    if values.get("purchase_within_days"):
        where.append(Customer.last_purchase_at >= now - datetime.timedelta(
            days=int(values["purchase_within_days"])))
    if values.get("purchase_before_days"):
        where.append(Customer.last_purchase_at < now - datetime.timedelta(
            days=int(values["purchase_before_days"])))
    for key, column, op in (("min_purchases", Customer.purchase_count, "ge"),
                            ("max_purchases", Customer.purchase_count, "le"),
                            ("min_spend", Customer.total_spend, "ge"),
                            ("max_spend", Customer.total_spend, "le")):
        if values.get(key):
            figure = Decimal(values[key]) if key in MONEY else int(values[key])
            where.append(column >= figure if op == "ge" else column <= figure)
    if values.get("birthday_month"):
        where.append(_birth_month() == int(values["birthday_month"]))
    if values.get("survey") and values.get("nps") in NPS_BANDS:
        where.append(Customer.id.in_(_nps_answerers(values["survey"], values["nps"])))
    return where


def _birth_month():
    if models.is_postgres():
        return fn.EXTRACT(NodeList((SQL("MONTH FROM"), Customer.birthday))).cast("integer")
    return fn.strftime("%m", Customer.birthday).cast("INTEGER")


def _nps_answerers(survey_public_id, band):
    """Customers with an answer in ``band`` to the survey's NPS question (any of their
    responses, as each invite is answered once)."""
    low, high = NPS_BANDS[band]
    return (SurveyResponse.select(SurveyResponse.customer)
            .join(SurveyAnswer, on=(SurveyAnswer.response == SurveyResponse.id))
            .join(SurveyQuestion, on=(SurveyAnswer.question == SurveyQuestion.id))
            .join(Survey, on=(SurveyQuestion.survey == Survey.id))
            .where(Survey.public_id == survey_public_id, SurveyQuestion.kind == "nps",
                   SurveyAnswer.number.between(low, high),
                   SurveyResponse.customer.is_null(False)))


def count(pairs, tz=DEFAULT_TZ):
    """How many live cards checked criteria pairs find (one COUNT query)."""
    return Customer.select(Customer.id).where(*conditions(pairs, tz)).count()


def members_query(segment, tz=DEFAULT_TZ):
    """The segment's members as a Customer query of live cards (``erased_at IS NULL``): for a
    dynamic segment, the cards its criteria find now; for a static one, its SegmentMember
    rows. Campaigns select their recipients from this (add columns, joins or an order as
    needed: ``members_query(s).select(Customer.id)`` is a plain subquery of ids)."""
    if segment.kind == "static":
        return Customer.select().where(Customer.erased_at.is_null(), Customer.id.in_(
            SegmentMember.select(SegmentMember.customer)
            .where(SegmentMember.segment == segment.id)))
    return Customer.select().where(*conditions(criteria_of(segment), tz))


def criteria_of(segment):
    """The saved criteria pairs of a segment ([] for a static one)."""
    return [tuple(pair) for pair in (segment.filters or {}).get("query", [])]


def member_counts(segment_ids):
    """{segment id: saved members that are live cards}, in one grouped query."""
    if not segment_ids:
        return {}
    rows = (SegmentMember.select(SegmentMember.segment, fn.COUNT(SegmentMember.id))
            .join(Customer, on=(SegmentMember.customer == Customer.id))
            .where(SegmentMember.segment.in_(list(segment_ids)), Customer.erased_at.is_null())
            .group_by(SegmentMember.segment).tuples())
    return dict(rows)


# --- segments -----------------------------------------------------------------------------------

def _clean_text(name, description):
    errors = {}
    name = (name or "").replace("\x00", "").strip()
    description = (description or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not name:
        errors["name"] = (N_("Give the segment a name."), {})
    elif len(name) > NAME_MAX:
        errors["name"] = (N_("Use at most %(num)s characters."), {"num": NAME_MAX})
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = (N_("Use at most %(num)s characters."), {"num": DESCRIPTION_MAX})
    return name, description, errors


def _validated(name, description, kind, pairs):
    name, description, errors = _clean_text(name, description)
    if kind not in KINDS:
        errors["kind"] = (N_("Choose dynamic or static."), {})
    query = []
    if kind == "dynamic":
        try:
            query = clean_criteria(pairs)
        except FieldErrors as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    return name, description, [list(p) for p in query]


def create_segment(actor, staff, name, description, kind, pairs=()):
    """A new segment; a dynamic one's members are saved at once (``refresh_members``)."""
    name, description, query = _validated(name, description, kind, pairs)
    with models.atomic():
        segment = Segment.create(name=name, description=description, kind=kind,
                                 filters={"query": query} if kind == "dynamic" else {},
                                 created_by=staff)
        audit.record(actor, "segment.create", "segment", segment.public_id,
                     after={"name": name, "kind": kind, "query": query})
        if kind == "dynamic":
            refresh_members(segment, actor)
    return segment


def update_segment(segment, actor, name, description, pairs=()):
    """Rename, describe and (dynamic) change the criteria; the kind stays."""
    name, description, query = _validated(name, description, segment.kind, pairs)
    with models.atomic():
        before = {"name": segment.name, "description": segment.description,
                  "query": (segment.filters or {}).get("query", [])}
        segment.name, segment.description = name, description
        if segment.kind == "dynamic":
            segment.filters = {"query": query}
        segment.updated_at = models.utcnow()
        segment.save()
        audit.record(actor, "segment.update", "segment", segment.public_id, before=before,
                     after={"name": name, "description": description, "query": query})
        if segment.kind == "dynamic":
            refresh_members(segment, actor)
    return segment


def delete_segment(segment, actor):
    """Delete a segment and its saved members; refused while a campaign uses it."""
    with models.atomic():
        if Campaign.select().where(Campaign.segment == segment.id).exists():
            raise DomainError(N_("A campaign uses this segment: it cannot be deleted."))
        audit.record(actor, "segment.delete", "segment", segment.public_id,
                     before={"name": segment.name, "kind": segment.kind,
                             "query": (segment.filters or {}).get("query", [])})
        SegmentMember.delete().where(SegmentMember.segment == segment.id).execute()
        segment.delete_instance()


def refresh_members(segment, actor=None, tz=DEFAULT_TZ):
    """Save a dynamic segment's current members as SegmentMember rows (what survey results
    filter on): one DELETE and one INSERT ... SELECT in one transaction, audited with the
    count. Returns the count."""
    if segment.kind != "dynamic":
        raise DomainError(N_("A static list's members are the cards added to it."))
    actor = actor or Actor.system("segments")
    now = models.utcnow()
    with models.atomic():
        SegmentMember.delete().where(SegmentMember.segment == segment.id).execute()
        source = members_query(segment, tz).select(
            SQL(str(int(segment.id))), Customer.id,
            Value(now, converter=SegmentMember.added_at.db_value))
        added = SegmentMember.insert_from(source, [SegmentMember.segment, SegmentMember.customer,
                                                   SegmentMember.added_at]).as_rowcount().execute()
        Segment.update(updated_at=now).where(Segment.id == segment.id).execute()
        segment.updated_at = now
        audit.record(actor, "segment.refresh", "segment", segment.public_id,
                     after={"members": added})
    return added


# --- static lists -------------------------------------------------------------------------------

def parse_ids(text):
    """Card public ids from text, one a line (commas and spaces also separate), in order."""
    seen = []
    for word in (text or "").replace(",", " ").replace("\x00", "").split():
        if word not in seen and len(word) <= 16:
            seen.append(word)
    return seen


def _static(segment):
    if segment.kind != "static":
        raise DomainError(N_("Cards are added by hand only to a static list."))


def _insert(segment, targets, actor, how):
    """Add the cards of ``targets`` (a Customer query) not yet in the list: one INSERT ...
    SELECT; audited with the count."""
    now = models.utcnow()
    with models.atomic():
        source = targets.select(SQL(str(int(segment.id))), Customer.id,
                                Value(now, converter=SegmentMember.added_at.db_value)).where(
            Customer.id.not_in(SegmentMember.select(SegmentMember.customer)
                               .where(SegmentMember.segment == segment.id)))
        added = SegmentMember.insert_from(source, [SegmentMember.segment, SegmentMember.customer,
                                                   SegmentMember.added_at]).as_rowcount().execute()
        Segment.update(updated_at=now).where(Segment.id == segment.id).execute()
        audit.record(actor, "segment.add", "segment", segment.public_id,
                     after={"added": added, "how": how})
    return added


def add_cards(segment, public_ids, actor):
    """Add live cards by public id to a static list; (added, ids not found). Adding a card
    already in the list changes nothing."""
    _static(segment)
    ids = list(public_ids)
    if not ids:
        raise DomainError(N_("Type at least one card number."), "ids")
    if len(ids) > MAX_IDS:
        raise DomainError(N_("Add at most %(num)s cards at a time."), "ids", num=MAX_IDS)
    found = {row[0] for row in Customer.select(Customer.public_id).where(
        Customer.public_id.in_(ids), Customer.erased_at.is_null()).tuples()}
    missing = [i for i in ids if i not in found]
    targets = Customer.select(Customer.id).where(Customer.public_id.in_(list(found)),
                                                 Customer.erased_at.is_null())
    added = _insert(segment, targets, actor, "ids") if found else 0
    return added, missing


def add_found(segment, pairs, actor, staff=None, tz=DEFAULT_TZ):
    """Add every card the card list's search and filters (its query-string pairs) find."""
    _static(segment)
    filters = card_list.parse(pairs)
    if not filters.active:
        raise DomainError(N_("Paste the address of a card list with a search or a filter."),
                          "list_query")
    return _insert(segment, card_list.target_query(filters, None, staff, tz), actor, "list")


def remove_cards(segment, public_ids, actor):
    """Remove cards from a static list; returns how many were in it."""
    _static(segment)
    ids = list(public_ids)[:MAX_IDS]
    with models.atomic():
        removed = SegmentMember.delete().where(
            SegmentMember.segment == segment.id, SegmentMember.customer.in_(
                Customer.select(Customer.id).where(Customer.public_id.in_(ids)))).execute()
        if removed:
            Segment.update(updated_at=models.utcnow()).where(Segment.id == segment.id).execute()
            audit.record(actor, "segment.remove", "segment", segment.public_id,
                         after={"removed": removed, "cards": ids[:50]})
    return removed


# --- static lists from the card -----------------------------------------------------------------

def static_lists(limit=500):
    """The static lists a card can be added to, by name."""
    return list(Segment.select(Segment.id, Segment.public_id, Segment.name)
                .where(Segment.kind == "static").order_by(Segment.name, Segment.id).limit(limit))


def lists_of(customer):
    """The static lists ``customer`` is in, by name (one query)."""
    return list(Segment.select(Segment.id, Segment.public_id, Segment.name)
                .join(SegmentMember, on=(SegmentMember.segment == Segment.id))
                .where(SegmentMember.customer == customer.id, Segment.kind == "static")
                .order_by(Segment.name, Segment.id))


def static_list(public_id):
    """The static list with this public id, or DomainError (a dynamic one is refused too)."""
    segment = Segment.get_or_none(Segment.public_id == (public_id or "")[:16],
                                  Segment.kind == "static")
    if segment is None:
        raise DomainError(N_("Choose a static list."), "segment")
    return segment


def add_card(segment, customer, actor):
    """Add one card to a static list; False (nothing changes) if it is already in it. The
    unique (segment, customer) index makes a double submission add one row."""
    _static(segment)
    now = models.utcnow()
    with models.atomic():
        added = (SegmentMember.insert(segment=segment.id, customer=customer.id, added_at=now)
                 .on_conflict_ignore().as_rowcount().execute())
        if added:
            Segment.update(updated_at=now).where(Segment.id == segment.id).execute()
            audit.record(actor, "segment.add", "segment", segment.public_id,
                         customer_id=customer.id,
                         after={"added": 1, "how": "card", "card": customer.public_id})
    return bool(added)


def remove_card(segment, customer, actor):
    """Take one card out of a static list; False if it was not in it."""
    _static(segment)
    with models.atomic():
        removed = SegmentMember.delete().where(SegmentMember.segment == segment.id,
                                               SegmentMember.customer == customer.id).execute()
        if removed:
            Segment.update(updated_at=models.utcnow()).where(Segment.id == segment.id).execute()
            audit.record(actor, "segment.remove", "segment", segment.public_id,
                         customer_id=customer.id,
                         after={"removed": 1, "cards": [customer.public_id]})
    return bool(removed)
