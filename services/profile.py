"""A card's own details as the customer edits them: validation (the one set of rules staff
edits will share) and the per-field policy (auto: saved at once; review: a change request waits
for staff; locked: shown, never editable)."""
import datetime
import re
import unicodedata

from lunardate import LunarDate

import models
from models import CUSTOMER_STATUSES, ChangeRequest, ContactPoint, Customer
from services import N_, DomainError, audit, links, runtime
from services.actors import Actor
from services.contacts import normalize_email, normalize_phone
from services.names import pinyin_keys

# Every field a customer may see in "My details", in form order, with its default policy.
DEFAULT_POLICIES = {
    "name": "review", "alt_name": "review", "mobile": "auto", "phone": "auto",
    "wechat": "auto", "company": "review", "job_title": "auto", "birthday": "auto",
    "birthday_lunar": "auto", "country": "auto", "province": "auto", "city": "auto",
    "district": "auto", "address": "auto", "postal_code": "auto",
    "preferred_language": "auto",
}
POLICIES = ("auto", "review", "locked")
CARD_COLUMNS = ("name", "alt_name", "company", "job_title", "birthday", "birthday_lunar",
                "country", "province", "city", "district", "address", "postal_code",
                "preferred_language")
CONTACT_FIELDS = ("mobile", "phone", "wechat")
# Fields only staff edit (the portal's policies never name them, so customers cannot post them):
# card columns, and the primary email (customers change theirs through a confirmed link).
STAFF_COLUMNS = ("kind", "gender", "status", "source", "industry", "company_size", "notes",
                 "special_requirements")
STAFF_CONTACTS = CONTACT_FIELDS + ("email",)
STAFF_FIELDS = CARD_COLUMNS + STAFF_CONTACTS + STAFF_COLUMNS
CHOICES = {"kind": ("person", "company"), "gender": ("male", "female", "other"),
           "status": CUSTOMER_STATUSES}
MAX_LENGTH = {"name": 200, "alt_name": 200, "company": 200, "job_title": 100, "province": 64,
              "city": 64, "district": 64, "address": 500, "postal_code": 16, "source": 32,
              "industry": 64, "company_size": 32, "notes": 5000, "special_requirements": 5000}
WECHAT_RE = re.compile(r"^[A-Za-z][-_A-Za-z0-9]{5,19}$")


class FieldErrors(DomainError):
    """Several fields are wrong at once: ``errors`` maps field -> (message, params)."""

    def __init__(self, errors):
        super().__init__(N_("Please correct the marked fields."))
        self.errors = errors


def policies():
    """The policy of every field: defaults, overridden by PORTAL_FIELD_POLICY
    ("name=auto,company=locked")."""
    chosen = dict(DEFAULT_POLICIES)
    for item in filter(None, (runtime.settings.get("PORTAL_FIELD_POLICY") or "").split(",")):
        field, _, policy = item.partition("=")
        if field.strip() in chosen and policy.strip() in POLICIES:
            chosen[field.strip()] = policy.strip()
    return chosen


def current_values(customer):
    """The values "My details" shows: card columns plus the primary contact points."""
    values = {field: getattr(customer, field) for field in CARD_COLUMNS}
    values["birthday"] = birthday_as_typed(customer)
    for contact in ContactPoint.select().where(ContactPoint.customer == customer,
                                               ContactPoint.kind.in_(CONTACT_FIELDS),
                                               ContactPoint.is_primary == True):
        values[contact.kind] = contact.normalized if contact.kind != "wechat" else contact.value
    for field in CONTACT_FIELDS:
        values.setdefault(field, None)
    return values


def staff_values(customer):
    """The values the staff edit form starts from: "My details" plus the staff-only fields."""
    values = current_values(customer)
    values.update({field: getattr(customer, field) for field in STAFF_COLUMNS})
    values["email"] = customer.primary_email
    return values


def _text(value):
    """Trimmed, NFC-normalised text with control characters refused; '' becomes None.
    Line breaks as browsers send them from a textarea (CR LF) count as one newline."""
    text = unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n").strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise DomainError(N_("This text contains characters that cannot be saved."))
    return text or None


def clean_text(value):
    """Free text by the card's rules (trimmed, NFC, no control characters), or None."""
    return _text(value)


def _clean_one(field, raw, values):
    if field == "birthday_lunar":
        return bool(raw)
    if field == "birthday":
        return _clean_birthday(raw, values.get("birthday_lunar"))
    text = _text(raw)
    if field == "name" and not text:
        raise DomainError(N_("Enter the full name."))
    if text and len(text) > MAX_LENGTH.get(field, 254):
        raise DomainError(N_("This is too long (%(max)d characters at most)."),
                          max=MAX_LENGTH.get(field, 254))
    if text and field in ("mobile", "phone"):
        return normalize_phone(text, values.get("country") or "CN", field)
    if text and field == "email":
        return normalize_email(text, field)
    if field in CHOICES and (text or field != "gender") and text not in CHOICES[field]:
        raise DomainError(N_("Choose a value from the list."))
    if field in ("notes", "special_requirements"):
        return text or ""
    if text and field == "wechat" and not WECHAT_RE.match(text):
        raise DomainError(N_("A WeChat ID has 6 to 20 letters, digits, - or _, and starts with a "
                             "letter."))
    if field == "preferred_language" and text not in (None, "zh", "en"):
        raise DomainError(N_("Choose a language from the list."))
    if field == "country":
        text = (text or "CN").upper()
        if not re.fullmatch(r"[A-Z]{2}", text):
            raise DomainError(N_("Choose a country from the list."))
    if text and field == "postal_code" and (values.get("country") or "CN") == "CN" and \
            not re.fullmatch(r"\d{6}", text):
        raise DomainError(N_("A Chinese postal code has 6 digits."))
    return text


def _clean_birthday(raw, lunar):
    """The solar date of birth from what was typed (YYYY-MM-DD). With ``lunar`` the typed date
    is a lunar-calendar date (e.g. 1990-02-30, which no solar calendar has) and is converted."""
    if raw in (None, ""):
        return None
    if isinstance(raw, datetime.date):
        raw = raw.isoformat()
    match = re.fullmatch(r"\s*(\d{4})-(\d{1,2})-(\d{1,2})\s*", str(raw))
    if not match:
        raise DomainError(N_("Enter the date as YYYY-MM-DD."))
    year, month, day = (int(part) for part in match.groups())
    try:
        solar = (LunarDate(year, month, day).to_solar_date() if lunar
                 else datetime.date(year, month, day))
    except ValueError as exc:
        if lunar:
            raise DomainError(N_("This day does not exist in the lunar calendar.")) from exc
        raise DomainError(N_("This date does not exist.")) from exc
    if not datetime.date(1900, 1, 31) <= solar <= datetime.date.today():
        raise DomainError(N_("Enter a birthday between 1900 and today."))
    return solar


def birthday_as_typed(customer):
    """The birthday as the customer knows it: the lunar date if they keep a lunar birthday."""
    if customer.birthday is None:
        return None
    if not customer.birthday_lunar:
        return customer.birthday.isoformat()
    lunar = LunarDate.from_solar_date(customer.birthday.year, customer.birthday.month,
                                      customer.birthday.day)
    return f"{lunar.year:04d}-{lunar.month:02d}-{lunar.day:02d}"


def clean(values, fields):
    """Validate ``fields`` of ``values``; return the cleaned values or raise FieldErrors."""
    cleaned, errors = {}, {}
    for field in fields:
        try:
            cleaned[field] = _clean_one(field, values.get(field), values)
        except DomainError as exc:
            errors[field] = (exc.message, exc.params)
    if errors:
        raise FieldErrors(errors)
    return cleaned


def pending_changes(customer):
    """{field: new value} waiting for staff review."""
    request = ChangeRequest.get_or_none(ChangeRequest.customer == customer,
                                        ChangeRequest.status == "pending")
    return {field: change["new"] for field, change in (request.changes if request else {}).items()}


def update_own_details(customer, submitted, actor):
    """Apply a customer's edit of their own details under the field policies.

    Only fields whose policy is auto or review are accepted (anything else is refused, so a
    forged ``tier`` never lands). Unchanged fields are ignored; auto fields are saved at once,
    review fields wait in one pending change request. Returns (applied, queued) field lists.
    """
    policy = policies()
    refused = [f for f in submitted if policy.get(f) not in ("auto", "review")]
    if refused:
        raise DomainError(N_("These details cannot be changed here."), refused[0])
    before = current_values(customer)
    cleaned = clean({**before, **submitted}, list(submitted))
    stored = {**before, "birthday": customer.birthday}  # compare solar with solar
    changed = {f: v for f, v in cleaned.items() if v != stored.get(f)}
    auto = {f: v for f, v in changed.items() if policy[f] == "auto"}
    review = {f: v for f, v in changed.items() if policy[f] == "review"}
    with models.atomic():
        apply_changes(customer, auto)
        if review:
            _queue_for_review(customer, review, before, actor)
        Customer.update(last_verified_at=models.utcnow()).where(
            Customer.id == customer.id).execute()
        if auto:
            audit.record(actor, "customer.update", "customer", customer.public_id,
                         customer_id=customer.id, before={f: before[f] for f in auto},
                         after=auto)
    return sorted(auto), sorted(review)


def apply_changes(customer, changes, expected_version=None):
    """Write cleaned field values to the card and its primary contact points (no audit: the
    caller records who and why). Every change moves the card's version on. With
    ``expected_version`` the card is written only if it still has that version (one conditional
    UPDATE, so two editors cannot both win); returns False when it did not."""
    if not changes:
        return True
    columns = {f: v for f, v in changes.items() if f in CARD_COLUMNS + STAFF_COLUMNS + ("owner",)}
    if "name" in columns:
        columns["name_pinyin"], columns["name_initials"] = pinyin_keys(columns["name"])
    if "mobile" in changes:
        columns["primary_mobile"] = changes["mobile"]
    if "email" in changes:
        columns["primary_email"] = changes["email"]
    columns.update(updated_at=models.utcnow(), version=Customer.version + 1)
    query = Customer.update(**columns).where(Customer.id == customer.id)
    if expected_version is not None:
        query = query.where(Customer.version == expected_version)
    if not query.execute():
        return False
    for kind in STAFF_CONTACTS:
        if kind in changes:
            _set_primary_contact(customer, kind, changes[kind])
    return True


def _set_primary_contact(customer, kind, value):
    ContactPoint.delete().where(ContactPoint.customer == customer, ContactPoint.kind == kind,
                                ContactPoint.is_primary == True).execute()
    if value:
        ContactPoint.delete().where(ContactPoint.customer == customer, ContactPoint.kind == kind,
                                    ContactPoint.normalized == value.lower()).execute()
        ContactPoint.create(customer=customer, kind=kind, value=value, is_primary=True,
                            normalized=value.lower() if kind == "wechat" else value)


def _queue_for_review(customer, review, before, actor):
    request = ChangeRequest.get_or_none(ChangeRequest.customer == customer,
                                        ChangeRequest.status == "pending")
    changes = dict(request.changes) if request else {}
    for field, value in review.items():
        changes[field] = {"old": audit.jsonable(before.get(field)), "new": audit.jsonable(value)}
    if request is None:
        request = ChangeRequest.create(customer=customer, changes=changes)
    else:
        ChangeRequest.update(changes=changes).where(ChangeRequest.id == request.id).execute()
    audit.record(actor, "change_request.submit", "change_request", request.public_id,
                 customer_id=customer.id, before={f: before.get(f) for f in review},
                 after=review)


def confirm_details_link(customer):
    """An emailable link where the customer confirms their details without signing in."""
    return links.portal_url(f"/details/confirm/{links.issue('confirm_details', customer)}")


def confirm_details(token, ip=None, user_agent=None):
    """The customer says their details are correct: the card's freshness date moves."""
    with models.atomic():
        row = links.consume("confirm_details", token)
        Customer.update(last_verified_at=models.utcnow()).where(
            Customer.id == row.customer_id).execute()
        audit.record(Actor("link", row.customer_id, "confirm-details link", ip, user_agent),
                     "customer.confirm_details", "customer", None,
                     customer_id=row.customer_id)
    return Customer.get_by_id(row.customer_id)
