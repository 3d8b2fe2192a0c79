"""A customer's own preferences (the CustomFields of section "preference") as the portal edits
them, under each field's portal policy: auto (saved at once), review (a change request waits for
staff), locked (shown, never editable), hidden (not shown). Sensitive fields never reach the
portal. Validation is per field and reports every wrong field at once."""
import datetime
import re
import unicodedata

import models
from models import ChangeRequest, Customer, CustomField, CustomFieldValue
from services import N_, DomainError, audit
from services.profile import FieldErrors

SECTION = "preference"
EDITABLE = ("auto", "review")
SHOWN = ("auto", "review", "locked")
KINDS = ("text", "number", "date", "choice", "multi_choice", "bool")
MAX_TEXT = 500
MAX_NUMBER = 10**12
PENDING_PREFIX = "pref:"
NUMBER_RE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)


def portal_fields():
    """The preference fields the portal shows (auto, review and locked; never hidden or
    sensitive ones), active, in form order."""
    return list(CustomField.select().where(
        CustomField.section == SECTION, CustomField.active == True,
        CustomField.sensitive == False,
        CustomField.portal_policy.in_(SHOWN)).order_by(CustomField.position, CustomField.id))


def editable(fields):
    """The fields of ``fields`` a customer may change: {key: CustomField}."""
    return {f.key: f for f in fields if f.portal_policy in EDITABLE and not f.sensitive}


def values(customer, fields=None):
    """{key: stored value} of the customer's preferences, in one query. With ``fields`` only
    those fields' values; without, every non-sensitive preference field's."""
    query = (CustomFieldValue.select(CustomFieldValue.value, CustomField.key)
             .join(CustomField)
             .where(CustomFieldValue.customer == customer, CustomField.section == SECTION,
                    CustomField.sensitive == False))
    if fields is not None:
        query = query.where(CustomField.id.in_([f.id for f in fields] or [0]))
    return {row.key: row.value for row in query.namedtuples()}


def pending(customer):
    """{key: new value} of the preferences waiting for staff review."""
    request = ChangeRequest.get_or_none(ChangeRequest.customer == customer,
                                        ChangeRequest.status == "pending")
    return {name[len(PENDING_PREFIX):]: change.get("new")
            for name, change in (request.changes if request else {}).items()
            if name.startswith(PENDING_PREFIX)}


def display(field, value, lang="zh"):
    """A stored value as a person reads it: choice labels in ``lang``, lists joined."""
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


# --- validation ---------------------------------------------------------------------------------

def _text(raw):
    """Trimmed, NFC text with control characters refused; '' becomes None."""
    if isinstance(raw, (list, tuple)):
        raw = raw[-1] if raw else None
    text = unicodedata.normalize("NFC", "" if raw is None else str(raw)).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text):
        raise DomainError(N_("This text contains characters that cannot be saved."))
    return text.replace("\r\n", "\n") or None


def _choice_values(field):
    return [str(c.get("value")) for c in (field.choices or [])]


def clean_value(field, raw):
    """The value to store for ``field`` from what was submitted, or raise DomainError.
    None means "no value" (the row is deleted)."""
    kind = field.kind if field.kind in KINDS else "text"
    if kind == "bool":
        value = raw not in (None, "", False, "0", "false", "off", [])
        value = True if value else None
    elif kind == "multi_choice":
        items = raw if isinstance(raw, (list, tuple)) else ([] if raw in (None, "") else [raw])
        chosen = {_text(item) for item in items} - {None}
        allowed = _choice_values(field)
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
    if field.pattern and kind in ("text", "number", "date"):
        try:
            matched = re.fullmatch(field.pattern, str(value))
        except re.error:
            matched = True  # a broken pattern from the admin must not lock customers out
        if not matched:
            raise DomainError(N_("This is not in the expected format."))
    return value


def _clean_scalar(field, kind, text):
    if kind == "number":
        typed = unicodedata.normalize("NFKC", text).replace(",", "").replace(" ", "")
        if not NUMBER_RE.fullmatch(typed):
            raise DomainError(N_("Enter a number."))
        number = float(typed)
        if abs(number) >= MAX_NUMBER:
            raise DomainError(N_("Enter a number."))
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
    if kind == "choice":
        if text not in _choice_values(field):
            raise DomainError(N_("Choose from the options shown."))
        return text
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


# --- saving -------------------------------------------------------------------------------------

def update_preferences(customer, submitted, actor):
    """Apply a customer's edit of their own preferences.

    ``submitted`` maps field key -> raw value (a list for multi-choice). Keys outside the
    editable set (locked, hidden, sensitive, inactive, unknown) are refused. Every editable field
    submitted is validated (the form sends them all; an unticked box comes as [] or None).
    Unchanged fields are ignored; auto fields are
    saved at once, review fields wait in the customer's one pending change request.
    Returns (applied, queued) key lists.
    """
    fields = editable(portal_fields())
    refused = sorted(set(submitted) - set(fields))
    if refused:
        raise DomainError(N_("These details cannot be changed here."), refused[0])
    cleaned = clean({k: f for k, f in fields.items() if k in submitted}, submitted)
    with models.atomic():
        _lock_customer(customer)
        before = values(customer, list(fields.values()))
        changed = {k: v for k, v in cleaned.items() if v != before.get(k)}
        auto = {k: v for k, v in changed.items() if fields[k].portal_policy == "auto"}
        waiting = pending(customer)
        review = {k: v for k, v in changed.items() if fields[k].portal_policy == "review"
                  and (k not in waiting or waiting[k] != v)}
        if auto:
            _save(customer, fields, auto)
            Customer.update(updated_at=models.utcnow(), version=Customer.version + 1).where(
                Customer.id == customer.id).execute()
            audit.record(actor, "customer.preferences", "customer", customer.public_id,
                         customer_id=customer.id, before={k: before.get(k) for k in auto},
                         after=auto)
        if review:
            _queue_for_review(customer, review, before, actor)
    return sorted(auto), sorted(review)


def _lock_customer(customer):
    """Serialise two saves of the same card (PostgreSQL; SQLite writers are serialised)."""
    if models.is_postgres():
        list(Customer.select(Customer.id).where(Customer.id == customer.id).for_update())


def save_values(customer, changes):
    """Write preference values by field key (None deletes); for accepted change requests."""
    fields = fields_by_key(changes)
    _save(customer, fields, {k: v for k, v in changes.items() if k in fields})


def _save(customer, fields, changes):
    now = models.utcnow()
    gone = [fields[k].id for k, v in changes.items() if v is None]
    if gone:
        CustomFieldValue.delete().where(CustomFieldValue.customer == customer,
                                        CustomFieldValue.field.in_(gone)).execute()
    for key, value in changes.items():
        if value is None:
            continue
        (CustomFieldValue.insert(customer=customer, field=fields[key], value=value,
                                 updated_at=now)
         .on_conflict(conflict_target=[CustomFieldValue.customer, CustomFieldValue.field],
                      update={CustomFieldValue.value: value,
                              CustomFieldValue.updated_at: now})
         .execute())


def _queue_for_review(customer, review, before, actor):
    request = ChangeRequest.get_or_none(ChangeRequest.customer == customer,
                                        ChangeRequest.status == "pending")
    changes = dict(request.changes) if request else {}
    for key, value in review.items():
        changes[PENDING_PREFIX + key] = {"old": audit.jsonable(before.get(key)),
                                         "new": audit.jsonable(value)}
    if request is None:
        request = ChangeRequest.create(customer=customer, changes=changes)
    else:
        ChangeRequest.update(changes=changes).where(ChangeRequest.id == request.id).execute()
    audit.record(actor, "change_request.submit", "change_request", request.public_id,
                 customer_id=customer.id,
                 before={PENDING_PREFIX + k: before.get(k) for k in review},
                 after={PENDING_PREFIX + k: v for k, v in review.items()})


def fields_by_key(keys):
    """{key: CustomField} for the given keys (one query)."""
    if not keys:
        return {}
    return {f.key: f for f in CustomField.select().where(CustomField.key.in_(list(keys)))}
