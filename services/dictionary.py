"""The data dictionary: admins define custom fields without code (kind, choices, required,
pattern, help, sensitive, which roles see it, portal policy, section, position) and retire them.
A field is never deleted: deactivating hides it and keeps every value."""
import re
import unicodedata

import models
from models import (
    FIELD_KINDS,
    PORTAL_POLICIES,
    STAFF_ROLES,
    CustomField,
    CustomFieldValue,
)
from services import N_, DomainError, audit, crypto
from services.profile import FieldErrors

SECTIONS = ("card", "preference")
KEY_RE = re.compile(r"[a-z][a-z0-9_]{1,63}")
RESERVED_KEYS = frozenset({
    "id", "public_id", "name", "alt_name", "mobile", "phone", "email", "wechat", "birthday",
    "birthday_lunar", "company", "job_title", "industry", "country", "province", "city",
    "district", "address", "postal_code", "status", "tier", "owner", "source", "id_number",
    "preferred_language", "notes", "tags", "clear", "version", "csrf_token"})
MAX_LABEL, MAX_HELP, MAX_PATTERN, MAX_CHOICES = 100, 500, 255, 100
PATTERN_KINDS = ("text", "number", "date")
CHOICE_KINDS = ("choice", "multi_choice")
RESEAL_BATCH = 500
AUDITED = ("section", "label_zh", "label_en", "kind", "choices", "required", "pattern",
           "help_zh", "help_en", "sensitive", "visible_roles", "portal_policy", "position",
           "active")


def all_fields():
    """Every custom field, active first, by section and position (the dictionary lists them)."""
    return list(CustomField.select().order_by(CustomField.active.desc(), CustomField.section,
                                              CustomField.position, CustomField.id))


def _text(raw, limit, required=False):
    text = unicodedata.normalize("NFC", str(raw or "")).strip()
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t\r" for ch in text):
        raise DomainError(N_("This text contains characters that cannot be saved."))
    if required and not text:
        raise DomainError(N_("This field is required."))
    if len(text) > limit:
        raise DomainError(N_("This is too long (%(max)d characters at most)."), max=limit)
    return text.replace("\r\n", "\n")


def parse_choices(raw):
    """Choices from one line each, "value | 中文 | English" (labels optional)."""
    choices, seen = [], set()
    for line in str(raw or "").splitlines():
        parts = [_text(part, MAX_LABEL) for part in line.split("|")]
        if not any(parts):
            continue
        if len(parts) > 3 or not parts[0]:
            raise DomainError(N_("Write one choice per line: value | 中文 | English."))
        value = parts[0]
        if value in seen:
            raise DomainError(N_("The choice %(value)s is listed twice."), value=value)
        seen.add(value)
        zh = parts[1] if len(parts) > 1 and parts[1] else value
        en = parts[2] if len(parts) > 2 and parts[2] else zh
        choices.append({"value": value, "zh": zh, "en": en})
    if len(choices) > MAX_CHOICES:
        raise DomainError(N_("At most %(max)d choices."), max=MAX_CHOICES)
    return choices


def choices_text(choices):
    """The choices as the form's text area shows them."""
    return "\n".join(f"{c['value']} | {c.get('zh', '')} | {c.get('en', '')}"
                     for c in (choices or []))


def check_pattern(raw):
    """The pattern as saved, or DomainError if Python's re cannot compile it."""
    pattern = _text(raw, MAX_PATTERN)
    if not pattern:
        return None
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise DomainError(N_("This is not a valid regular expression: %(error)s"),
                          error=str(exc)) from exc
    return pattern


def _clean_one(name, data, field):
    value = data.get(name)
    if name == "key":
        return _clean_key(value, field)
    if name in ("label_zh", "label_en"):
        return _text(value, MAX_LABEL, required=True)
    if name in ("help_zh", "help_en"):
        return _text(value, MAX_HELP)
    if name == "section":
        return _one_of(value, SECTIONS)
    if name == "kind":
        return _clean_kind(value, field)
    if name == "portal_policy":
        return _one_of(value, PORTAL_POLICIES)
    if name == "pattern":
        return check_pattern(value)
    if name == "choices":
        return parse_choices(value) if data.get("kind") in CHOICE_KINDS else None
    if name == "visible_roles":
        roles = [r for r in STAFF_ROLES if r in set(value or ())]
        if set(value or ()) - set(STAFF_ROLES):
            raise DomainError(N_("Choose roles from the list."))
        return None if not value or len(roles) == len(STAFF_ROLES) else roles
    if name == "position":
        try:
            number = int(str(value if value not in (None, "") else 0).strip())
        except ValueError as exc:
            raise DomainError(N_("Enter a whole number.")) from exc
        if not 0 <= number <= 100000:
            raise DomainError(N_("Enter a number from 0 to 100000."))
        return number
    return bool(value)  # required, sensitive


def _one_of(value, allowed):
    if value not in allowed:
        raise DomainError(N_("Choose from the options shown."))
    return value


def _clean_key(value, field):
    if field is not None:
        return field.key  # the key is fixed once values may refer to it
    key = _text(value, 64)
    if not KEY_RE.fullmatch(key):
        raise DomainError(N_("Use 2 to 64 lower-case letters, digits or _, starting with a "
                             "letter."))
    if key in RESERVED_KEYS:
        raise DomainError(N_("This key belongs to a built-in field."))
    if CustomField.select().where(CustomField.key == key).exists():
        raise DomainError(N_("Another field already has this key."))
    return key


def _clean_kind(value, field):
    kind = _one_of(value, FIELD_KINDS)
    if field is not None and kind != field.kind and \
            CustomFieldValue.select().where(CustomFieldValue.field == field).exists():
        raise DomainError(N_("Cards already hold values of this field: its kind cannot "
                             "change. Add a new field instead."))
    return kind


def clean_definition(data, field=None):
    """The definition to save from what the form sent, or FieldErrors with every problem."""
    names = ("key", "section", "label_zh", "label_en", "kind", "choices", "required",
             "pattern", "help_zh", "help_en", "sensitive", "visible_roles", "portal_policy",
             "position")
    cleaned, errors = {}, {}
    for name in names:
        try:
            cleaned[name] = _clean_one(name, data, field)
        except DomainError as exc:
            errors[name] = (exc.message, exc.params)
    _cross_checks(cleaned, errors)
    if errors:
        raise FieldErrors(errors)
    return cleaned


def _cross_checks(cleaned, errors):
    kind = cleaned.get("kind")
    if kind in CHOICE_KINDS and cleaned.get("choices") == [] and "choices" not in errors:
        errors["choices"] = (N_("A choice field needs at least one choice."), {})
    if cleaned.get("pattern") and kind not in PATTERN_KINDS and "pattern" not in errors:
        errors["pattern"] = (N_("A pattern applies to text, number and date fields only."), {})
    if cleaned.get("sensitive") and cleaned.get("portal_policy") not in (None, "hidden"):
        errors["portal_policy"] = (N_("Sensitive fields never reach the portal: choose "
                                      "Hidden."), {})


def _snapshot(field):
    return {name: getattr(field, name) for name in AUDITED}


def create_field(data, actor):
    """Add a custom field from the form's data; returns it."""
    cleaned = clean_definition(data)
    with models.atomic():
        field = CustomField.create(**cleaned)
        audit.record(actor, "dictionary.create", "custom_field", field.key,
                     after=_snapshot(field))
    return field


def update_field(field, data, actor):
    """Change a field's definition. Turning "sensitive" on encrypts the values cards already
    hold (off decrypts them), in the same transaction. Returns the changed names."""
    cleaned = clean_definition(data, field)
    cleaned.pop("key")
    with models.atomic():
        before = _snapshot(field)
        changed = [name for name, value in cleaned.items() if before.get(name) != value]
        if not changed:
            return []
        CustomField.update(**cleaned).where(CustomField.id == field.id).execute()
        if cleaned["sensitive"] != field.sensitive:
            _reseal(field, cleaned["sensitive"])
        field = CustomField.get_by_id(field.id)
        audit.record(actor, "dictionary.update", "custom_field", field.key,
                     before={n: before[n] for n in changed},
                     after={n: getattr(field, n) for n in changed})
    return changed


def _reseal(field, sensitive):
    last = 0
    while True:
        rows = list(CustomFieldValue.select(CustomFieldValue.id, CustomFieldValue.value)
                    .where(CustomFieldValue.field == field, CustomFieldValue.id > last)
                    .order_by(CustomFieldValue.id).limit(RESEAL_BATCH))
        if not rows:
            return
        for row in rows:
            clear = crypto.unseal(row.value)
            CustomFieldValue.update(value=crypto.seal(clear) if sensitive else clear).where(
                CustomFieldValue.id == row.id).execute()
        last = rows[-1].id


def set_active(field, active, actor):
    """Deactivate (hide everywhere, keep the values) or reactivate a field."""
    if field.active == active:
        return False
    with models.atomic():
        CustomField.update(active=active).where(CustomField.id == field.id).execute()
        audit.record(actor, "dictionary.activate" if active else "dictionary.deactivate",
                     "custom_field", field.key, before={"active": field.active},
                     after={"active": active})
    return True


def value_counts():
    """{field id: number of cards holding a value} (one grouped query)."""
    from peewee import fn
    rows = (CustomFieldValue.select(CustomFieldValue.field, fn.COUNT(CustomFieldValue.id)
                                    .alias("n")).group_by(CustomFieldValue.field).namedtuples())
    return {row.field: row.n for row in rows}
