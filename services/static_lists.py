"""Static lists: the cards of a static segment, added by card number, from a card-list search
or from the card itself, and removed (each change one statement, audited)."""
import models
from models import Customer, Segment, SegmentMember
from services import N_, DomainError, audit, card_bulk, card_list
from services.segment_criteria import DEFAULT_TZ
from services.segments import insert_members, touch

MAX_IDS = 5_000  # public ids added or removed in one go


def parse_ids(text):
    """Card public ids from text, one a line (commas and spaces also separate), in order."""
    seen = []
    for word in (text or "").replace(",", " ").replace("\x00", "").split():
        if word not in seen and len(word) <= 16:
            seen.append(word)
    return seen


def _static(segment):
    if segment.kind != "static":
        raise DomainError(N_("Cards are added by hand only to a static list."))


def _insert(segment, targets, actor, how):
    """Add the cards of ``targets`` (a Customer query) not yet in the list: one INSERT ...
    SELECT; audited with the count."""
    with models.atomic():
        added = insert_members(segment, targets.where(Customer.id.not_in(
            SegmentMember.select(SegmentMember.customer)
            .where(SegmentMember.segment == segment.id))), models.utcnow())
        audit.record(actor, "segment.add", "segment", segment.public_id,
                     after={"added": added, "how": how})
    return added


def add_cards(segment, public_ids, actor):
    """Add live cards by public id to a static list; (added, ids not found). Adding a card
    already in the list changes nothing."""
    _static(segment)
    ids = list(public_ids)
    if not ids:
        raise DomainError(N_("Type at least one card number."), "ids")
    if len(ids) > MAX_IDS:
        raise DomainError(N_("Add at most %(num)s cards at a time."), "ids", num=MAX_IDS)
    found = {row[0] for row in Customer.select(Customer.public_id).where(
        Customer.public_id.in_(ids), Customer.erased_at.is_null()).tuples()}
    missing = [i for i in ids if i not in found]
    targets = Customer.select(Customer.id).where(Customer.public_id.in_(list(found)),
                                                 Customer.erased_at.is_null())
    added = _insert(segment, targets, actor, "ids") if found else 0
    return added, missing


def add_found(segment, pairs, actor, staff=None, tz=DEFAULT_TZ):
    """Add every card the card list's search and filters (its query-string pairs) find."""
    _static(segment)
    filters = card_list.parse(pairs)
    if not filters.active:
        raise DomainError(N_("Paste the address of a card list with a search or a filter."),
                          "list_query")
    return _insert(segment, card_bulk.target_query(filters, None, staff, tz), actor, "list")


def remove_cards(segment, public_ids, actor):
    """Remove cards from a static list; returns how many were in it."""
    _static(segment)
    ids = list(public_ids)[:MAX_IDS]
    with models.atomic():
        removed = SegmentMember.delete().where(
            SegmentMember.segment == segment.id, SegmentMember.customer.in_(
                Customer.select(Customer.id).where(Customer.public_id.in_(ids)))).execute()
        if removed:
            touch(segment)
            audit.record(actor, "segment.remove", "segment", segment.public_id,
                         after={"removed": removed, "cards": ids[:50]})
    return removed


# --- static lists from the card -----------------------------------------------------------------

def static_lists(limit=500):
    """The static lists a card can be added to, by name."""
    return list(Segment.select(Segment.id, Segment.public_id, Segment.name)
                .where(Segment.kind == "static").order_by(Segment.name, Segment.id).limit(limit))


def lists_of(customer):
    """The static lists ``customer`` is in, by name (one query)."""
    return list(Segment.select(Segment.id, Segment.public_id, Segment.name)
                .join(SegmentMember, on=(SegmentMember.segment == Segment.id))
                .where(SegmentMember.customer == customer.id, Segment.kind == "static")
                .order_by(Segment.name, Segment.id))


def static_list(public_id):
    """The static list with this public id, or DomainError (a dynamic one is refused too)."""
    segment = Segment.get_or_none(Segment.public_id == (public_id or "")[:16],
                                  Segment.kind == "static")
    if segment is None:
        raise DomainError(N_("Choose a static list."), "segment")
    return segment


def add_card(segment, customer, actor):
    """Add one card to a static list; False (nothing changes) if it is already in it. The
    unique (segment, customer) index makes a double submission add one row."""
    _static(segment)
    now = models.utcnow()
    with models.atomic():
        added = (SegmentMember.insert(segment=segment.id, customer=customer.id, added_at=now)
                 .on_conflict_ignore().as_rowcount().execute())
        if added:
            touch(segment, now)
            audit.record(actor, "segment.add", "segment", segment.public_id,
                         customer_id=customer.id,
                         after={"added": 1, "how": "card", "card": customer.public_id})
    return bool(added)


def remove_card(segment, customer, actor):
    """Take one card out of a static list; False if it was not in it."""
    _static(segment)
    with models.atomic():
        removed = SegmentMember.delete().where(SegmentMember.segment == segment.id,
                                               SegmentMember.customer == customer.id).execute()
        if removed:
            touch(segment)
            audit.record(actor, "segment.remove", "segment", segment.public_id,
                         customer_id=customer.id,
                         after={"removed": 1, "cards": [customer.public_id]})
    return bool(removed)
