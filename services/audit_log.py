"""Reading the audit trail: a card's own history and the global log with its filters. Read
only: nothing here (nor any route) edits or deletes an event."""
import datetime
import operator
from dataclasses import dataclass
from functools import reduce

from peewee import JOIN

from models import AuditEvent, Customer, CustomField, StaffUser
from services import audit

ACTOR_KINDS = ("staff", "customer", "system", "link")
# entity -> the change key whose values name a member of staff, as the events stored them
# (never rewritten: the chain is hashed): a record's staff id, a card's owner by public id
# (edits) or email (bulk changes), a follow-up's or feedback's assignee by public id.
STAFF_KEYS = {"service": "staff", "interaction": "staff", "customer": "owner",
              "task": "assignee", "feedback": "assignee"}


@dataclass
class Filters:
    """The global log's filters, already parsed (None: not filtered)."""
    actor_kind: str | None = None
    staff_id: int | None = None
    action: str | None = None
    entity: str | None = None
    customer_id: int | None = None
    date_from: datetime.datetime | None = None  # inclusive, UTC
    date_to: datetime.datetime | None = None  # exclusive, UTC


def _with_names(query):
    """Events with the acting staff member's name and the card's name and public id joined
    (one query for the page, whatever the actors)."""
    staff = StaffUser.alias("actor_staff")
    card = Customer.alias("card")
    return (query.select(AuditEvent, staff.name.alias("staff_name"),
                         card.name.alias("card_name"), card.public_id.alias("card_public_id"),
                         card.erased_at.alias("card_erased_at"))
            .join_from(AuditEvent, staff, JOIN.LEFT_OUTER,
                       on=(AuditEvent.actor_kind == "staff") & (AuditEvent.actor_id == staff.id))
            .join_from(AuditEvent, card, JOIN.LEFT_OUTER,
                       on=(AuditEvent.customer_id == card.id)))


def card_history(customer):
    """(rows, count query) of a card's events, newest first (index customer_id, created_at)."""
    mine = AuditEvent.customer_id == customer.id
    rows = (_with_names(AuditEvent.select()).where(mine)
            .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc()).objects())
    return rows, AuditEvent.select(AuditEvent.id).where(mine)


def log(filters):
    """(rows, count query) of the global log under ``filters``, newest first. Each filter
    maps to an index: (action, id), (actor_id, id), (customer_id, created_at), (entity,
    entity_id), created_at; the order is the primary key's."""
    conditions = []
    if filters.actor_kind:
        conditions.append(AuditEvent.actor_kind == filters.actor_kind)
    if filters.staff_id:
        conditions += [AuditEvent.actor_kind == "staff", AuditEvent.actor_id == filters.staff_id]
    if filters.action:
        conditions.append(AuditEvent.action == filters.action)
    if filters.entity:
        conditions.append(AuditEvent.entity == filters.entity)
    if filters.customer_id:
        conditions.append(AuditEvent.customer_id == filters.customer_id)
    if filters.date_from:
        conditions.append(AuditEvent.created_at >= filters.date_from)
    if filters.date_to:
        conditions.append(AuditEvent.created_at < filters.date_to)
    rows = _with_names(AuditEvent.select())
    count = AuditEvent.select(AuditEvent.id)
    if conditions:
        rows, count = rows.where(*conditions), count.where(*conditions)
    return rows.order_by(AuditEvent.id.desc()).objects(), count


def changes(event):
    """[(field, before, after)] of an event, in a stable order; a value the event did not
    record is None."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    keys = list(before) + [k for k in after if k not in before]
    return [(key, before.get(key), after.get(key)) for key in keys]


def _staff_ref(value):
    """The staff reference a change value can be (an id, a public id or an email), or None
    for anything no staff row could match (kept out of the query)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 < value < 2 ** 31 else None
    if isinstance(value, str) and 0 < len(value) <= 254 and "\x00" not in value:
        return value
    return None


def staff_names(events):
    """{stored reference: name} of the staff the events' changes name (STAFF_KEYS), by id,
    public id and email: one query for the page, whatever the events. A reference that finds
    nobody (a deleted staff member) is left out."""
    refs = {_staff_ref(value) for event in events for key, before, after in changes(event)
            if key == STAFF_KEYS.get(event.entity) for value in (before, after)} - {None}
    if not refs:
        return {}
    by_column = ((StaffUser.id, [ref for ref in refs if isinstance(ref, int)]),
                 (StaffUser.email, [ref for ref in refs if isinstance(ref, str) and "@" in ref]),
                 (StaffUser.public_id, [ref for ref in refs
                                        if isinstance(ref, str) and "@" not in ref]))
    wanted = [column.in_(values) for column, values in by_column if values]
    names = {}
    for staff in StaffUser.select(StaffUser.id, StaffUser.public_id, StaffUser.email,
                                  StaffUser.name).where(reduce(operator.or_, wanted)):
        for ref in (staff.id, staff.public_id, staff.email):
            if ref in refs:
                names[ref] = staff.name
    return names


def field_labels(events):
    """{key: CustomField} for the custom-field keys the events mention ("pref:x" or "x")."""
    keys = set()
    for event in events:
        for key, _before, _after in changes(event):
            keys.add(key.removeprefix("pref:"))
    if not keys:
        return {}
    return {f.key: f for f in CustomField.select().where(CustomField.key.in_(list(keys)))}


def verify():
    """(ok, first broken event id, events checked) for the whole chain."""
    ok, broken = audit.verify_chain()
    return ok, broken, AuditEvent.select().count()
