"""Custom field values: the one validation every form shares (portal and staff), the card's
fields as a role sees them (sensitive ones masked), the staff edit of them and of the ID number,
revealing a sensitive value (audited), and re-encrypting everything under the newest key."""
import datetime
import json
import re
import unicodedata
from dataclasses import dataclass

from peewee import JOIN, SQL, NodeList, fn

import models
from models import Customer, CustomField, CustomFieldValue
from services import N_, DomainError, audit, crypto, totp
from services.access import can
from services.prepared import Prepared
from services.profile import FieldErrors

KINDS = models.FIELD_KINDS
MAX_TEXT = 500
MAX_NUMBER = 10**12
NUMBER_RE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)
ID_NUMBER = "id_number"  # the built-in sensitive field, kept in Customer.id_number_enc
ID_LABELS = {"zh": "身份证号码", "en": "ID number"}
ROTATE_BATCH = 500
KEEP = object()  # "leave the stored ID number as it is"


@dataclass(frozen=True)
class CardValue:
    """One field on the card as a role sees it. ``display`` is {"zh": ..., "en": ...}: the
    value in words, or masked (110***********1234) for a sensitive field."""
    key: str
    field: object  # the CustomField, or None for the built-in ID number
    labels: dict
    display: dict
    has_value: bool
    is_sensitive: bool
    can_reveal: bool

    def label(self, lang):
        return self.labels.get(lang) or self.labels.get("zh") or self.key

    def shown(self, lang):
        return self.display.get(lang) if self.has_value else None


# --- which fields a role sees -------------------------------------------------------------------

def visible_to(field, role):
    """True if ``role`` may see ``field`` on the card (visible_roles None: every role)."""
    return field.visible_roles is None or role in (field.visible_roles or [])


def card_fields(role, section="card"):
    """The active fields of ``section`` the role sees, in card order."""
    rows = (CustomField.select().where(CustomField.section == section,
                                       CustomField.active == True)
            .order_by(CustomField.position, CustomField.id))
    return [f for f in rows if visible_to(f, role)]


def stored_values(customer, fields):
    """{key: stored value (sealed for sensitive fields)} for ``fields``, in one query."""
    if not fields:
        return {}
    by_id = {f.id: f.key for f in fields}
    rows = (CustomFieldValue.select(CustomFieldValue.field, CustomFieldValue.value)
            .where(CustomFieldValue.customer == customer,
                   CustomFieldValue.field.in_(list(by_id))).namedtuples())
    return {by_id[row.field]: row.value for row in rows}


# Every card page runs this one: prepared, so its SQL is built once (services.prepared).
_CARD_FIELDS = Prepared(lambda customer_id: CustomField.select(
    CustomField, CustomFieldValue.value.alias("stored"))
    .join(CustomFieldValue, JOIN.LEFT_OUTER, on=(CustomFieldValue.field == CustomField.id)
          & (CustomFieldValue.customer == customer_id))
    .where(CustomField.section == "card", CustomField.active == True)
    .order_by(CustomField.position, CustomField.id).objects(), Prepared.ID)


def card_values(customer, role):
    """The card's custom fields (section "card") the role may see, plus the ID number: the
    list the card page's fields partial shows. One query (fields with this card's values)."""
    fields = [f for f in _CARD_FIELDS.objects(customer.id) if visible_to(f, role)]
    stored = {f.key: f.stored for f in fields}
    reveal = can(role, "sensitive.reveal")
    items = [CardValue(ID_NUMBER, None, ID_LABELS, _masked_display(customer.id_number_enc, True),
                       bool(customer.id_number_enc), True,
                       reveal and bool(customer.id_number_enc))]
    for field in fields:
        value = stored.get(field.key)
        has = value not in (None, "", [])
        if field.sensitive:
            display = _masked_display(value, False) if has else {}
        else:
            display = {lang: display_value(field, value, lang) for lang in ("zh", "en")}
        items.append(CardValue(field.key, field, {"zh": field.label_zh, "en": field.label_en},
                               display, has, field.sensitive, field.sensitive and reveal and has))
    return items


def _masked_display(stored, is_id):
    """The masked form of a sealed value (decrypted only to mask it)."""
    if not stored:
        return {}
    try:
        clear = crypto.decrypt(stored) if is_id else crypto.unseal(stored)
    except crypto.UnreadableValue:
        return {"zh": "••••", "en": "••••"}
    masked = crypto.mask(clear)
    return {"zh": masked, "en": masked}


def display_value(field, value, lang="zh"):
    """A stored clear value as a person reads it: choice labels in ``lang``, lists joined."""
    if value is None or value == [] or value == "":
        return None
    labels = {c.get("value"): c.get(lang) or c.get("zh") or c.get("value")
              for c in (field.choices or [])}
    if field.kind == "multi_choice":
        items = value if isinstance(value, list) else [value]
        return ("、" if lang == "zh" else ", ").join(str(labels.get(v, v)) for v in items)
    if field.kind == "choice":
        return str(labels.get(value, value))
    if field.kind == "bool":
        return ("是" if lang == "zh" else "Yes") if value else ("否" if lang == "zh" else "No")
    return str(value)


# --- validation: the one set of rules for a custom field value -----------------------------------

def _text(raw):
    """Trimmed, NFC text with control characters refused; '' becomes None."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    text = unicodedata.normalize("NFC", "" if raw is None else str(raw)).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text):
        raise DomainError(N_("This text contains characters that cannot be saved."))
    return text.replace("\r\n", "\n") or None


def choice_values(field):
    return [str(c.get("value")) for c in (field.choices or [])]


def clean_value(field, raw):
    """The value to store for ``field`` from what was submitted (portal or staff form), or
    raise DomainError. None means "no value" (the row is deleted)."""
    kind = field.kind if field.kind in KINDS else "text"
    if kind == "bool":
        value = True if raw not in (None, "", False, "0", "false", "off", []) else None
    elif kind == "multi_choice":
        items = raw if isinstance(raw, (list, tuple)) else ([] if raw in (None, "") else [raw])
        chosen = {_text(item) for item in items} - {None}
        allowed = choice_values(field)
        if chosen - set(allowed):
            raise DomainError(N_("Choose from the options shown."))
        value = [v for v in allowed if v in chosen] or None  # in the defined order
    else:
        text = _text(raw)
        if text is not None and len(text) > MAX_TEXT:
            raise DomainError(N_("This is too long (%(max)d characters at most)."),
                              max=MAX_TEXT)
        value = text if text is None else _clean_scalar(field, kind, text)
    if value is None:
        if field.required:
            raise DomainError(N_("This field is required."))
        return None
    if field.pattern and kind in ("text", "number", "date") and not _matches(field, value):
        raise DomainError(N_("This is not in the expected format."))
    return value


def _matches(field, value):
    # The pattern was checked when the field was saved; the value is at most MAX_TEXT long.
    try:
        return re.fullmatch(field.pattern, str(value)[:MAX_TEXT]) is not None
    except re.error:
        return True  # a pattern broken outside the dictionary must not lock customers out


def _clean_scalar(field, kind, text):
    if kind == "number":
        typed = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
        if not NUMBER_RE.fullmatch(typed) or abs(float(typed)) >= MAX_NUMBER:
            raise DomainError(N_("Enter a number."))
        number = float(typed)
        return int(number) if number.is_integer() and "." not in typed else number
    if kind == "date":
        match = DATE_RE.fullmatch(unicodedata.normalize("NFKC", text))
        if not match:
            raise DomainError(N_("Enter the date as YYYY-MM-DD."))
        try:
            date = datetime.date(*(int(part) for part in match.groups()))
        except ValueError as exc:
            raise DomainError(N_("This date does not exist.")) from exc
        if not EARLIEST <= date <= LATEST:
            raise DomainError(N_("Enter a date between 1900 and 2100."))
        return date.isoformat()
    if kind == "choice" and text not in choice_values(field):
        raise DomainError(N_("Choose from the options shown."))
    return text


def clean(fields, submitted):
    """{key: cleaned value} for every field of ``fields`` ({key: CustomField}); raises
    FieldErrors naming every wrong field at once."""
    cleaned, errors = {}, {}
    for key, field in fields.items():
        try:
            cleaned[key] = clean_value(field, submitted.get(key))
        except DomainError as exc:
            errors[key] = (exc.message, exc.params)
    if errors:
        raise FieldErrors(errors)
    return cleaned


# --- writing values -------------------------------------------------------------------------------

def save_values(customer, fields, changes):
    """Write cleaned values by key (None deletes), sealing sensitive ones. No audit: the
    caller records who and why, inside its transaction."""
    now = models.utcnow()
    gone = [fields[k].id for k, v in changes.items() if v is None]
    if gone:
        CustomFieldValue.delete().where(CustomFieldValue.customer == customer,
                                        CustomFieldValue.field.in_(gone)).execute()
    for key, value in changes.items():
        if value is None:
            continue
        stored = crypto.seal(value) if fields[key].sensitive else value
        (CustomFieldValue.insert(customer=customer, field=fields[key], value=stored,
                                 updated_at=now)
         .on_conflict(conflict_target=[CustomFieldValue.customer, CustomFieldValue.field],
                      update={CustomFieldValue.value: stored, CustomFieldValue.updated_at: now})
         .execute())


def for_audit(field, value):
    """What the audit trail keeps of a value: masked for a sensitive field."""
    sensitive = field is None or field.sensitive
    return crypto.mask(value) if sensitive else value


def clear_values(customer, fields):
    """{key: clear value} of the card's values for ``fields`` (decrypting sensitive ones)."""
    return {k: crypto.unseal(v) for k, v in stored_values(customer, fields).items()}


def current_id_number(customer):
    return crypto.decrypt(customer.id_number_enc) if customer.id_number_enc else None


def update_card_fields(customer, submitted, actor, role, version=None):
    """A staff edit of the card's custom fields and ID number.

    ``submitted`` maps key -> raw value (the form sends every field the role sees; a key not
    submitted is left alone, one the role does not see is ignored). A sensitive field left
    blank keeps its value; ``submitted["clear"]`` (keys) removes values.
    Refuses a stale ``version`` (someone saved the card meanwhile). Returns the changed keys.
    """
    fields, cleaned, id_number = _clean_card_edit(dict(submitted), role)
    with models.atomic():
        _check_version(customer, version)
        before = clear_values(customer, list(fields.values()))
        changed = {k: v for k, v in cleaned.items() if v != before.get(k)}
        stored_id = Customer.select(Customer.id_number_enc).where(
            Customer.id == customer.id).scalar()
        before[ID_NUMBER] = crypto.decrypt(stored_id) if stored_id else None
        if id_number is not KEEP and id_number != before[ID_NUMBER]:
            changed[ID_NUMBER] = id_number
        if not changed:
            return []
        save_values(customer, fields, {k: v for k, v in changed.items() if k in fields})
        columns = {"updated_at": models.utcnow(), "version": Customer.version + 1}
        if ID_NUMBER in changed:
            columns.update(id_number_enc=id_number and crypto.encrypt(id_number),
                           id_number_hmac=id_number and crypto.lookup_hash(id_number))
        Customer.update(**columns).where(Customer.id == customer.id).execute()
        fields_of = {**fields, ID_NUMBER: None}
        audit.record(actor, "customer.fields", "customer", customer.public_id,
                     customer_id=customer.id,
                     before={k: for_audit(fields_of[k], before.get(k)) for k in changed},
                     after={k: for_audit(fields_of[k], v) for k, v in changed.items()})
    return sorted(changed)


def _clean_card_edit(submitted, role):
    """({key: CustomField} touched, {key: cleaned value}, ID number or KEEP), or FieldErrors
    naming every wrong field."""
    clear = set(submitted.pop("clear", None) or ())
    fields = {f.key: f for f in card_fields(role) if f.key in submitted or f.key in clear}
    for key in [k for k, f in fields.items() if f.sensitive and k not in clear
                and submitted.get(k) in (None, "", [])]:
        fields.pop(key)  # a blank sensitive input keeps the value (it is never shown)
    errors, cleaned = {}, {}
    try:
        cleaned = clean({k: f for k, f in fields.items() if k not in clear}, submitted)
    except FieldErrors as exc:
        errors.update(exc.errors)
    cleaned.update({k: None for k in clear if k in fields})
    id_number = _clean_id(submitted.get(ID_NUMBER), ID_NUMBER in clear, errors)
    if errors:
        raise FieldErrors(errors)
    return fields, cleaned, id_number


def _clean_id(raw, clear, errors):
    """The new ID number, None to remove it, or KEEP the current one."""
    if clear:
        return None
    if raw in (None, ""):
        return KEEP
    try:
        return crypto.clean_id_number(raw)
    except DomainError as exc:
        errors[ID_NUMBER] = (exc.message, exc.params)
        return KEEP


def _check_version(customer, version):
    if models.is_postgres():
        list(Customer.select(Customer.id).where(Customer.id == customer.id).for_update())
    if version is None:
        return
    current = Customer.select(Customer.version).where(Customer.id == customer.id).scalar()
    if str(current) != str(version):
        raise DomainError(N_("Someone else saved this card while you were editing it. "
                             "Reload the card and make your change again."))


def find_by_id_number(raw):
    """The live card with this ID number (exact match through the lookup hash), or None."""
    number = crypto.clean_id_number(raw)
    return Customer.get_or_none(Customer.id_number_hmac == crypto.lookup_hash(number),
                                Customer.erased_at.is_null())


# --- revealing ------------------------------------------------------------------------------------

def reveal(customer, key, actor, role):
    """The clear value of a sensitive field on the card, for a role that may reveal it; the
    reveal is audited. Raises DomainError if there is nothing to reveal."""
    if not can(role, "sensitive.reveal"):
        raise DomainError(N_("Your role may not reveal sensitive values."))
    if key == ID_NUMBER:
        field, value = None, current_id_number(customer)
    else:
        field = next((f for f in card_fields(role) if f.key == key and f.sensitive), None)
        value = clear_values(customer, [field]).get(key) if field else None
    if value in (None, "", []):
        raise DomainError(N_("There is no value to reveal."))
    audit.record(actor, "sensitive.reveal", "customer", customer.public_id,
                 customer_id=customer.id, after={"field": key})
    return display_value(field, value) if field else value


# --- key rotation ---------------------------------------------------------------------------------

def rotate_keys(actor, batch=ROTATE_BATCH):
    """Re-encrypt every sensitive value (and the staff TOTP secrets) under the newest key, and
    recompute the ID numbers' lookup hashes, in batches of ``batch`` rows (one transaction each; a run stopped half way
    is safe to run again). Returns counts, also written to the audit trail."""
    counts = {"id_numbers": 0, "field_values": 0}
    last = 0
    while True:
        with models.atomic():
            rows = list(Customer.select(Customer.id, Customer.id_number_enc)
                        .where(Customer.id > last, Customer.id_number_enc.is_null(False))
                        .order_by(Customer.id).limit(batch))
            for row in rows:
                number = crypto.decrypt(row.id_number_enc)
                Customer.update(id_number_enc=crypto.rotate(row.id_number_enc),
                                id_number_hmac=crypto.lookup_hash(number)).where(
                    Customer.id == row.id).execute()
        if not rows:
            break
        counts["id_numbers"] += len(rows)
        last = rows[-1].id
    last = 0
    while True:
        with models.atomic():
            rows = list(CustomFieldValue.select(CustomFieldValue.id, CustomFieldValue.value)
                        .join(CustomField, JOIN.INNER)
                        .where(CustomFieldValue.id > last, CustomField.sensitive == True)
                        .order_by(CustomFieldValue.id).limit(batch))
            for row in rows:
                sealed = crypto.seal(crypto.unseal(row.value))
                CustomFieldValue.update(value=sealed).where(
                    CustomFieldValue.id == row.id).execute()
        if not rows:
            break
        counts["field_values"] += len(rows)
        last = rows[-1].id
    counts["totp_secrets"] = totp.rotate_secrets(batch)  # staff 2FA secrets, sealed the same way
    audit.record(actor, "sensitive.rotate_keys", "database", after=counts)
    return counts


def fields_by_key(keys):
    """{key: CustomField} for the given keys (one query)."""
    if not keys:
        return {}
    return {f.key: f for f in CustomField.select().where(CustomField.key.in_(list(keys)))}


# --- filters for card lists and segments ---------------------------------------------------------

def filter_expression(field, value=None, low=None, high=None):
    """A condition on Customer for card lists and segments: cards whose ``field`` equals
    ``value`` (a multi-choice field: holds ``value`` among its choices), or, for number and date
    fields, lies between ``low`` and ``high`` (either may be None). ``value`` is cleaned like a
    form value first, so "４２" finds 42. The ID number matches through its lookup hash; other
    sensitive fields cannot be filtered (they are encrypted). Uses the (field, customer) index.
    Raises DomainError for a value the field could never hold."""
    if field == ID_NUMBER:
        return Customer.id_number_hmac == crypto.lookup_hash(crypto.clean_id_number(value))
    if field.sensitive:
        raise DomainError(N_("Sensitive fields are encrypted and cannot be filtered."))
    rows = CustomFieldValue.select(CustomFieldValue.customer).where(
        CustomFieldValue.field == field)
    if low is not None or high is not None:
        return Customer.id.in_(rows.where(*_range(field, low, high)))
    if field.kind == "multi_choice":
        wanted = clean_value(_optional(field), [value])[0]
        return Customer.id.in_(rows.where(_contains(wanted)))
    return Customer.id.in_(rows.where(CustomFieldValue.value == clean_value(_optional(field),
                                                                            value)))


def _optional(field):
    """The field without its "required" and "pattern" (a filter value need not be complete)."""
    return CustomField(kind=field.kind, choices=field.choices, required=False, pattern=None)


def _scalar(kind):
    """The stored JSON scalar as SQL can compare it: text for dates, a number for numbers."""
    if models.is_postgres():
        return SQL("(value #>> '{}')" if kind == "date" else "(value #>> '{}')::numeric")
    return fn.json_extract(CustomFieldValue.value, "$")


def _range(field, low, high):
    if field.kind not in ("number", "date"):
        raise DomainError(N_("Only number and date fields have ranges."))
    column = _scalar(field.kind)
    bounds = []
    for bound, op in ((low, ">="), (high, "<=")):
        if bound is not None:
            bounds.append(NodeList((column, SQL(op), clean_value(_optional(field), bound))))
    return bounds or [SQL("1 = 1")]


def _contains(choice):
    """The stored list holds ``choice``: jsonb containment on PostgreSQL; on SQLite the
    element as JSON text inside the stored JSON text (a quoted string cannot match inside
    another element, where its quotes would be escaped)."""
    if models.is_postgres():
        return NodeList((CustomFieldValue.value, SQL("@> jsonb_build_array(%s::text)",
                                                     [choice])))
    return fn.instr(CustomFieldValue.value.cast("TEXT"), json.dumps(choice)) > 0
