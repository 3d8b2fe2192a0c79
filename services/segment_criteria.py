"""A dynamic segment's criteria: which query-string pairs it keeps (the card list's filters
plus its own: RFM figures, birthday month, NPS answers to a survey), checking them, and
turning them into WHERE terms on the live cards (set-based SQL)."""
import datetime
from decimal import Decimal, InvalidOperation

from peewee import SQL, NodeList, fn

import models
from models import (
    Customer,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    Tier,
)
from services import N_, DomainError, card_list
from services.profile import FieldErrors

DEFAULT_TZ = "Asia/Shanghai"
DAYS = ("purchase_within_days", "purchase_before_days")
COUNTS = ("min_purchases", "max_purchases")
MONEY = ("min_spend", "max_spend")
OWN_KEYS = DAYS + COUNTS + MONEY + ("birthday_month", "survey", "nps")
NPS_BANDS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10)}
MAX_DAYS = 36_500
MAX_COUNT = 1_000_000


def criteria_pairs(pairs):
    """The (key, value) pairs a segment keeps from a submitted form or query string: the card
    list's filters and the segment's own, trimmed; everything else is dropped. They come in
    one order whatever the order given (``_rank``), so that the edit form saved unchanged
    saves the same list."""
    pairs = list(pairs)
    kept = [(k, v) for k, v in card_list.parse(pairs).as_query() if k != "sort"]
    own = {}  # a key given twice keeps its last value, as the card list's keys do
    for key, value in pairs:
        value = (value or "").replace("\x00", "").strip()[:card_list.MAX_VALUE]
        if key in OWN_KEYS and value:
            own[key] = value
    return sorted(kept + list(own.items()), key=_rank)


def _rank(pair):
    """The card list's keys in their order, the tags as given, custom fields by name, then
    the segment's own keys in their order."""
    key = pair[0]
    if key in card_list.SCALARS:
        return 0, card_list.SCALARS.index(key), ""
    if key in OWN_KEYS:
        return 3, OWN_KEYS.index(key), ""
    return (1, 0, "") if key == "tag" else (2, 0, key)


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
    values.update(card_list.normal_field_values(card_list.parse(pairs)))
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
