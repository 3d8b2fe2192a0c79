"""Bulk actions of the card list on the cards a filter finds or the rows ticked: tag, owner,
status, add to a static list. Set-based (one UPDATE or INSERT ... SELECT per chunk, never a
loop over model instances), with one audit event per card changed, in the same transaction."""
from peewee import JOIN, SQL, Value, chunked

import models
from models import (
    CUSTOMER_STATUSES,
    Customer,
    CustomerTag,
    Segment,
    SegmentMember,
    StaffUser,
    Tag,
)
from services import N_, DomainError, audit, card_list

BULK_ACTIONS = ("tag", "owner", "status", "list")  # list: add to a static list (segment)
BULK_CHUNK = 5000


def target_query(filters, ids=None, staff=None, tz="Asia/Shanghai"):
    """Live cards a bulk action applies to: the checked public ids, or all the filter finds."""
    where = card_list.conditions(filters, staff, tz) if ids is None else [
        Customer.erased_at.is_null(), Customer.public_id.in_(list(ids)[:BULK_CHUNK])]
    return Customer.select(Customer.id).where(*where)


def bulk_value(action, value):
    """The action's target value checked: (column value, audit label). Raises DomainError."""
    value = (value or "").strip()
    if action == "status":
        if value not in CUSTOMER_STATUSES:
            raise DomainError(N_("Choose a status."), "value")
        return value, value
    if action == "owner":
        if value == "none":
            return None, None
        staff = StaffUser.get_or_none(StaffUser.public_id == value,
                                      StaffUser.is_active == True)
        if staff is None:
            raise DomainError(N_("Choose a member of staff."), "value")
        return staff.id, staff.email
    if action == "tag":
        if not value or len(value) > 64:
            raise DomainError(N_("Type a tag of at most 64 characters."), "value")
        return value, value
    if action == "list":
        segment = Segment.get_or_none(Segment.public_id == value[:16], Segment.kind == "static")
        if segment is None:
            raise DomainError(N_("Choose a static list."), "value")
        return segment.id, segment.name
    raise DomainError(N_("Choose an action."), "action")


def bulk_apply(action, value, targets, actor):
    """Apply ``action`` (tag / owner / status / list) to the cards of ``targets`` (a query of
    ids) in one transaction; return how many cards changed. Cards already in that state (or
    that list) are left out."""
    column_value, shown = bulk_value(action, value)
    with models.atomic():
        if action == "list":
            events = _add_to_list(column_value, shown, targets)
        elif action == "tag":
            tag, _ = Tag.get_or_create(name=column_value)
            has_tag = CustomerTag.select(CustomerTag.customer).where(CustomerTag.tag == tag)
            changing = targets.where(Customer.id.not_in(has_tag))
            rows = list(changing.select(Customer.id, Customer.public_id).tuples())
            for chunk in chunked([r[0] for r in rows], BULK_CHUNK):
                CustomerTag.insert_from(
                    Customer.select(Customer.id, SQL(str(int(tag.id))))
                    .where(Customer.id.in_(chunk)),
                    [CustomerTag.customer, CustomerTag.tag]).execute()
            events = [(r[0], r[1], None, {"tag": shown}) for r in rows]
        else:
            column = Customer.status if action == "status" else Customer.owner
            changed = column.is_null(False) if column_value is None else (
                (column != column_value) | column.is_null())
            if action == "status":
                query = targets.select(Customer.id, Customer.public_id, Customer.status)
            else:
                query = (targets.select(Customer.id, Customer.public_id, StaffUser.email)
                         .join(StaffUser, JOIN.LEFT_OUTER, on=(Customer.owner == StaffUser.id)))
            query = query.where(changed)
            rows = list(query.tuples())
            now = models.utcnow()
            for chunk in chunked([r[0] for r in rows], BULK_CHUNK):
                (Customer.update({column: column_value, Customer.updated_at: now,
                                  Customer.version: Customer.version + 1})
                 .where(Customer.id.in_(chunk)).execute())
            events = [(r[0], r[1], {action: r[2]}, {action: shown}) for r in rows]
        _audit_many(actor, "customer.bulk_" + action, events)
    return len(events)


def _add_to_list(segment_id, name, targets):
    """Add the cards of ``targets`` not yet in the static list: INSERT ... SELECT per chunk
    (a card added meanwhile by someone else is skipped by the unique index); the audit events
    (customer id, public id, before, after) of the cards added."""
    in_list = SegmentMember.select(SegmentMember.customer).where(
        SegmentMember.segment == segment_id)
    rows = list(targets.where(Customer.id.not_in(in_list))
                .select(Customer.id, Customer.public_id).tuples())
    now = models.utcnow()
    for chunk in chunked([r[0] for r in rows], BULK_CHUNK):
        SegmentMember.insert_from(
            Customer.select(SQL(str(int(segment_id))), Customer.id,
                            Value(now, converter=SegmentMember.added_at.db_value))
            .where(Customer.id.in_(chunk)),
            [SegmentMember.segment, SegmentMember.customer, SegmentMember.added_at],
        ).on_conflict_ignore().execute()
    if rows:
        Segment.update(updated_at=now).where(Segment.id == segment_id).execute()
    return [(r[0], r[1], None, {"list": name}) for r in rows]


def _audit_many(actor, action, events):
    """One hash-chained audit event per (customer id, public id, before, after), inserted in
    batches inside the caller's transaction."""
    if not events:
        return
    audit._lock_chain()
    tail = models.AuditEvent.select(models.AuditEvent.hash).order_by(
        models.AuditEvent.id.desc()).first()
    prev = tail.hash if tail else ""
    when = models.utcnow().replace(microsecond=0)
    rows = []
    for customer_id, public_id, before, after in events:
        event = models.AuditEvent(
            actor_kind=actor.kind, actor_id=actor.id, actor_label=actor.label or "",
            action=action, entity="customer", entity_id=public_id, customer_id=customer_id,
            before=audit.jsonable(before), after=audit.jsonable(after), ip=actor.ip,
            user_agent=actor.user_agent, prev_hash=prev, created_at=when)
        event.hash = prev = audit._digest(event.prev_hash, event)
        rows.append(event.__data__)
    for batch in chunked(rows, 1000):
        models.AuditEvent.insert_many(batch).execute()
