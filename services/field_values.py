"""Custom field values: the one set of validation rules every form shares (portal and staff),
and reading and writing a card's stored values (sensitive ones sealed)."""
import datetime
import re
import unicodedata

import models
from models import CustomFieldValue
from services import N_, DomainError, crypto
from services.profile import FieldErrors

KINDS = models.FIELD_KINDS
MAX_TEXT = 500
MAX_NUMBER = 10**12
NUMBER_RE = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)")
DATE_RE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
EARLIEST, LATEST = datetime.date(1900, 1, 1), datetime.date(2100, 12, 31)


# --- validation: the one set of rules for a custom field value -----------------------------------

def _text(raw):
    """Trimmed, NFC text with control characters refused; '' becomes None. Not
    services.profile's rule: a form may send a list (the last value counts), 0 stays "0", and
    a lone CR is kept (only CR LF becomes one newline)."""
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


# --- reading and writing values ------------------------------------------------------------------

def stored_values(customer, fields):
    """{key: stored value (sealed for sensitive fields)} for ``fields``, in one query."""
    if not fields:
        return {}
    by_id = {f.id: f.key for f in fields}
    rows = (CustomFieldValue.select(CustomFieldValue.field, CustomFieldValue.value)
            .where(CustomFieldValue.customer == customer,
                   CustomFieldValue.field.in_(list(by_id))).namedtuples())
    return {by_id[row.field]: row.value for row in rows}


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
