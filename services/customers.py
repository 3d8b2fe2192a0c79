"""Creating customer cards (staff, import, demo, self-registration all come through here), and
finding the live cards a new card's contact points are already on."""
import operator
import re
import unicodedata
from functools import reduce
from typing import NamedTuple

import models
from models import ContactPoint, Customer, StaffUser
from services import N_, DomainError, audit, card_edit, profile, tiers
from services.names import pinyin_keys

CARD_FIELDS = ("kind", "name", "alt_name", "gender", "birthday", "birthday_lunar", "company",
               "job_title", "industry", "company_size", "country", "province", "city",
               "district", "address", "postal_code", "source", "status", "owner", "notes",
               "special_requirements", "preferred_language", "tier")
CONTACTS = ("email", "mobile", "wechat")
DUPLICATES_SHOWN = 10
PHONE_LIKE = re.compile(r"\+?[\d\s()\-]{5,32}")


class Duplicate(NamedTuple):
    """A live card already holding a contact point of a new card: ``matches`` are (kind,
    value) of the ones it holds (mobile and phone numbers in E.164)."""
    public_id: str
    name: str
    company: str | None
    matches: tuple


class PossibleDuplicates(DomainError):
    """The new card's mobile, email or WeChat ID is already on ``cards`` (Duplicate rows)."""

    def __init__(self, cards):
        super().__init__(N_("This mobile, email or WeChat ID is already on a card."))
        self.cards = cards


def _clean(contacts, fields):
    """The card's fields and contact points by the staff edit form's rules
    (services.card_edit.clean_edit: services.profile, and the owner as an active member of
    staff by public id), so a new card never holds a value that would block saving that form
    later. FieldErrors names every wrong one at once. An owner given as a StaffUser (the code's
    callers: demo data, tests) is taken as it is."""
    values = {**fields, **contacts}
    names = [f for f in values if f in profile.STAFF_FIELDS or
             (f == "owner" and isinstance(values[f], str))]
    errors = {}
    try:
        cleaned = card_edit.clean_edit(values, list(dict.fromkeys(["name", *names])))
    except profile.FieldErrors as exc:
        cleaned, errors = {}, dict(exc.errors)
    if "name" in errors and not str(values.get("name") or "").strip():
        errors["name"] = (N_("Enter the customer's name."), {})  # staff: not "your" name
    if errors:
        raise profile.FieldErrors(errors)
    return cleaned


def create_customer(actor, email=None, mobile=None, wechat=None, check_duplicates=False,
                    **fields):
    """A new card with its primary contact points; validated, audited, one transaction. With
    ``check_duplicates`` a mobile, email or WeChat ID already on a live card raises
    PossibleDuplicates naming those cards, and nothing is created."""
    unknown = set(fields) - set(CARD_FIELDS)
    if unknown:
        raise TypeError(f"not card fields: {sorted(unknown)}")
    given = {kind: value for kind, value in zip(CONTACTS, (email, mobile, wechat)) if value}
    cleaned = _clean(given, fields)
    contacts = [(kind, cleaned[kind] if kind == "wechat" else profile.clean_text(given[kind]),
                 cleaned[kind].lower() if kind == "wechat" else cleaned[kind])
                for kind in given if cleaned[kind] is not None]  # only blanks: no contact
    by_kind = {kind: normalized for kind, _, normalized in contacts}
    columns = {**fields, **{f: v for f, v in cleaned.items() if f not in CONTACTS}}
    owner = columns.get("owner")
    if isinstance(owner, str):  # a public id, checked above
        columns["owner"] = StaffUser.get(StaffUser.public_id == owner)
    columns["name_pinyin"], columns["name_initials"] = pinyin_keys(columns["name"])
    with models.atomic():
        if check_duplicates and by_kind:
            found = find_duplicates(**by_kind)
            if found:
                raise PossibleDuplicates(found)
        customer = Customer.create(primary_email=by_kind.get("email"),
                                   primary_mobile=by_kind.get("mobile"), **columns)
        for kind, value, normalized in contacts:
            ContactPoint.create(customer=customer, kind=kind, value=value, normalized=normalized,
                                is_primary=True)
        audit.record(actor, "customer.create", "customer", customer.public_id,
                     customer_id=customer.id, after=_audited(cleaned, customer))
        # A new card starts in the tier the rules give it (the default tier, usually), with
        # the reason in its tier history, instead of "no tier" until the nightly pass.
        if "tier" not in fields:
            tiers.card_created(customer.id)
    return customer


def _audited(cleaned, customer):
    """What the creation event keeps: every value given, the status (given or the default)
    and the owner (if any) by public id, as the edit form's events name them."""
    after = {f: v for f, v in cleaned.items() if v not in (None, "", False)}
    after["status"] = customer.status
    if customer.owner_id is not None:
        after["owner"] = customer.owner.public_id
    return audit.jsonable(after)


def find_duplicates(email=None, mobile=None, wechat=None):
    """The live cards holding any of these contact points, normalised as ContactPoint stores
    them (a mobile also matches a card's other phone numbers): Duplicate rows, newest card
    first, at most DUPLICATES_SHOWN; one query."""
    wanted = [(("email",), email), (("mobile", "phone"), mobile),
              (("wechat",), wechat.lower() if wechat else None)]
    terms = [ContactPoint.kind.in_(kinds) & (ContactPoint.normalized == value)
             for kinds, value in wanted if value]
    if not terms:
        return []
    rows = (ContactPoint.select(Customer.public_id, Customer.name, Customer.company,
                                ContactPoint.kind, ContactPoint.value, ContactPoint.normalized)
            .join(Customer)
            .where(reduce(operator.or_, terms), Customer.erased_at.is_null())
            .order_by(Customer.id.desc(), ContactPoint.kind)
            .limit(DUPLICATES_SHOWN * 4)  # a card matches on at most four contact points
            .tuples())
    cards = {}
    for public_id, name, company, kind, value, normalized in rows:
        card = cards.setdefault(public_id, (name, company, []))
        card[2].append((kind, value if kind == "wechat" else normalized))
    return [Duplicate(public_id, name, company, tuple(matches))
            for public_id, (name, company, matches) in list(cards.items())[:DUPLICATES_SHOWN]]


def prefill(query):
    """The new-card form's start from a search that found nothing: a query that looks like a
    phone number is the mobile, one with an @ the email, anything else the name."""
    text = (query or "").strip()
    folded = unicodedata.normalize("NFKC", text)  # full-width digits and ＠ as typed on phones
    if not text:
        return {}
    if "@" in folded:
        return {"email": text}
    if PHONE_LIKE.fullmatch(folded) and sum(ch.isdigit() for ch in folded) >= 5:
        return {"mobile": text}
    return {"name": text}
