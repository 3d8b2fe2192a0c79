"""A customer's own preferences (the CustomFields of section "preference") as the portal edits
them, under each field's portal policy: auto (saved at once), review (a change request waits for
staff), locked (shown, never editable), hidden (not shown). Sensitive fields never reach the
portal. Validation is per field and reports every wrong field at once."""
import models
from models import ChangeRequest, Customer, CustomField, CustomFieldValue
from services import N_, DomainError, audit, custom_fields, field_values
from services.profile import FieldErrors  # noqa: F401 (the portal catches preferences.FieldErrors)

SECTION = "preference"
EDITABLE = ("auto", "review")
SHOWN = ("auto", "review", "locked")
KINDS = field_values.KINDS
MAX_TEXT = field_values.MAX_TEXT
PENDING_PREFIX = "pref:"


def portal_fields(section=SECTION):
    """The fields of ``section`` the portal shows (auto, review and locked; never hidden or
    sensitive ones), active, in form order: "preference" in My preferences, "card" in My
    details."""
    return list(CustomField.select().where(
        CustomField.section == section, CustomField.active == True,
        CustomField.sensitive == False,
        CustomField.portal_policy.in_(SHOWN)).order_by(CustomField.position, CustomField.id))


def editable(fields):
    """The fields of ``fields`` a customer may change: {key: CustomField}."""
    return {f.key: f for f in fields if f.portal_policy in EDITABLE and not f.sensitive}


def values(customer, fields=None):
    """{key: stored value} of the customer's preferences, in one query. With ``fields`` only
    those fields' values (of any section); without, every non-sensitive preference field's."""
    query = (CustomFieldValue.select(CustomFieldValue.value, CustomField.key)
             .join(CustomField)
             .where(CustomFieldValue.customer == customer, CustomField.sensitive == False))
    if fields is None:
        query = query.where(CustomField.section == SECTION)
    else:
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
    return custom_fields.display_value(field, value, lang)


# --- validation: the one set of rules in services.field_values ----------------------------------

clean_value = field_values.clean_value
clean = field_values.clean


# --- saving -------------------------------------------------------------------------------------

def update_preferences(customer, submitted, actor, section=SECTION):
    """Apply a customer's edit of their own preferences (or, with ``section="card"``, of the
    card's custom fields My details shows).

    ``submitted`` maps field key -> raw value (a list for multi-choice). Keys outside the
    editable set (locked, hidden, sensitive, inactive, unknown) are refused. Every editable field
    submitted is validated (the form sends them all; an unticked box comes as [] or None).
    Unchanged fields are ignored; auto fields are
    saved at once, review fields wait in the customer's one pending change request.
    Returns (applied, queued) key lists.
    """
    fields = editable(portal_fields(section))
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
            action = "customer.preferences" if section == SECTION else "customer.fields"
            audit.record(actor, action, "customer", customer.public_id,
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
    field_values.save_values(customer, fields, changes)


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
