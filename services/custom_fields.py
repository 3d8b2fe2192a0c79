"""Custom fields on the card: the fields a role sees, the card's values as that role sees
them (sensitive ones masked), how a value reads in words, and the filter conditions card lists
and segments build from a field. Validation and storage of values live in
services/field_values.py, the staff edit and revealing in services/card_field_edit.py."""
import json
from dataclasses import dataclass

from peewee import JOIN, SQL, NodeList, fn

import models
from models import Customer, CustomField, CustomFieldValue
from services import N_, DomainError, crypto
from services.access import can
from services.field_values import clean_value
from services.prepared import Prepared

ID_NUMBER = "id_number"  # the built-in sensitive field, kept in Customer.id_number_enc
ID_LABELS = {"zh": "身份证号码", "en": "ID number"}


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
        wanted = filter_value(field, [value])[0]
        return Customer.id.in_(rows.where(_contains(wanted)))
    return Customer.id.in_(rows.where(CustomFieldValue.value == filter_value(field, value)))


def filter_value(field, raw):
    """``raw`` cleaned as ``field``'s value, without its "required" and "pattern" (a filter
    value need not be complete): "2025-1-5" -> "2025-01-05". Raises DomainError."""
    optional = CustomField(kind=field.kind, choices=field.choices, required=False, pattern=None)
    return clean_value(optional, raw)


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
            bounds.append(NodeList((column, SQL(op), filter_value(field, bound))))
    return bounds or [SQL("1 = 1")]


def _contains(choice):
    """The stored list holds ``choice``: jsonb containment on PostgreSQL; on SQLite the
    element as JSON text inside the stored JSON text (a quoted string cannot match inside
    another element, where its quotes would be escaped)."""
    if models.is_postgres():
        return NodeList((CustomFieldValue.value, SQL("@> jsonb_build_array(%s::text)",
                                                     [choice])))
    return fn.instr(CustomFieldValue.value.cast("TEXT"), json.dumps(choice)) > 0
