"""Segments: saved filters over the cards (dynamic) and hand-picked lists (static).

This module holds the segments themselves (create, update, delete, refresh a dynamic one's
saved members) and who their members are. A dynamic segment keeps its criteria as
query-string pairs (services/segment_criteria.py); a static list's cards are added and removed
in services/static_lists.py. Counting, listing and materialising members are set-based SQL."""
from peewee import SQL, Value, fn

import models
from models import Campaign, Customer, Segment, SegmentMember
from services import N_, DomainError, audit
from services.actors import Actor
from services.profile import FieldErrors
from services.segment_criteria import DEFAULT_TZ, clean_criteria, conditions

KINDS = ("dynamic", "static")
NAME_MAX = 100
DESCRIPTION_MAX = 1000


# --- members ------------------------------------------------------------------------------------

def members_query(segment, tz=DEFAULT_TZ):
    """The segment's members as a Customer query of live cards (``erased_at IS NULL``): for a
    dynamic segment, the cards its criteria find now; for a static one, its SegmentMember
    rows. Campaigns select their recipients from this (add columns, joins or an order as
    needed: ``members_query(s).select(Customer.id)`` is a plain subquery of ids)."""
    if segment.kind == "static":
        return Customer.select().where(Customer.erased_at.is_null(), Customer.id.in_(
            SegmentMember.select(SegmentMember.customer)
            .where(SegmentMember.segment == segment.id)))
    return Customer.select().where(*conditions(criteria_of(segment), tz))


def criteria_of(segment):
    """The saved criteria pairs of a segment ([] for a static one)."""
    return [tuple(pair) for pair in (segment.filters or {}).get("query", [])]


def member_counts(segment_ids):
    """{segment id: saved members that are live cards}, in one grouped query."""
    if not segment_ids:
        return {}
    rows = (SegmentMember.select(SegmentMember.segment, fn.COUNT(SegmentMember.id))
            .join(Customer, on=(SegmentMember.customer == Customer.id))
            .where(SegmentMember.segment.in_(list(segment_ids)), Customer.erased_at.is_null())
            .group_by(SegmentMember.segment).tuples())
    return dict(rows)


def insert_members(segment, customers, now):
    """Save the cards of ``customers`` (a Customer query) as members of ``segment``: one
    INSERT ... SELECT; the segment's updated_at becomes ``now``. Returns how many were added."""
    source = customers.select(SQL(str(int(segment.id))), Customer.id,
                              Value(now, converter=SegmentMember.added_at.db_value))
    added = SegmentMember.insert_from(source, [SegmentMember.segment, SegmentMember.customer,
                                               SegmentMember.added_at]).as_rowcount().execute()
    touch(segment, now)
    return added


def touch(segment, now=None):
    """Mark the segment's members as changed now."""
    Segment.update(updated_at=now or models.utcnow()).where(Segment.id == segment.id).execute()


# --- segments -----------------------------------------------------------------------------------

def _clean_text(name, description):
    # Not services.text's rule: a NUL is dropped rather than refused, spaces inside the name
    # are kept as typed, and both errors are reported together.
    errors = {}
    name = (name or "").replace("\x00", "").strip()
    description = (description or "").replace("\x00", "").replace("\r\n", "\n").strip()
    if not name:
        errors["name"] = (N_("Give the segment a name."), {})
    elif len(name) > NAME_MAX:
        errors["name"] = (N_("Use at most %(num)s characters."), {"num": NAME_MAX})
    if len(description) > DESCRIPTION_MAX:
        errors["description"] = (N_("Use at most %(num)s characters."), {"num": DESCRIPTION_MAX})
    return name, description, errors


def _validated(name, description, kind, pairs):
    name, description, errors = _clean_text(name, description)
    if kind not in KINDS:
        errors["kind"] = (N_("Choose dynamic or static."), {})
    query = []
    if kind == "dynamic":
        try:
            query = clean_criteria(pairs)
        except FieldErrors as exc:
            errors.update(exc.errors)
    if errors:
        raise FieldErrors(errors)
    return name, description, [list(p) for p in query]


def create_segment(actor, staff, name, description, kind, pairs=()):
    """A new segment; a dynamic one's members are saved at once (``refresh_members``)."""
    name, description, query = _validated(name, description, kind, pairs)
    with models.atomic():
        segment = Segment.create(name=name, description=description, kind=kind,
                                 filters={"query": query} if kind == "dynamic" else {},
                                 created_by=staff)
        audit.record(actor, "segment.create", "segment", segment.public_id,
                     after={"name": name, "kind": kind, "query": query})
        if kind == "dynamic":
            refresh_members(segment, actor)
    return segment


def update_segment(segment, actor, name, description, pairs=()):
    """Rename, describe and (dynamic) change the criteria; the kind stays."""
    name, description, query = _validated(name, description, segment.kind, pairs)
    with models.atomic():
        before = {"name": segment.name, "description": segment.description,
                  "query": (segment.filters or {}).get("query", [])}
        segment.name, segment.description = name, description
        if segment.kind == "dynamic":
            segment.filters = {"query": query}
        segment.updated_at = models.utcnow()
        segment.save()
        audit.record(actor, "segment.update", "segment", segment.public_id, before=before,
                     after={"name": name, "description": description, "query": query})
        if segment.kind == "dynamic":
            refresh_members(segment, actor)
    return segment


def delete_segment(segment, actor):
    """Delete a segment and its saved members; refused while a campaign uses it."""
    with models.atomic():
        if Campaign.select().where(Campaign.segment == segment.id).exists():
            raise DomainError(N_("A campaign uses this segment: it cannot be deleted."))
        audit.record(actor, "segment.delete", "segment", segment.public_id,
                     before={"name": segment.name, "kind": segment.kind,
                             "query": (segment.filters or {}).get("query", [])})
        SegmentMember.delete().where(SegmentMember.segment == segment.id).execute()
        segment.delete_instance()


def refresh_members(segment, actor=None, tz=DEFAULT_TZ):
    """Save a dynamic segment's current members as SegmentMember rows (what survey results
    filter on): one DELETE and one INSERT ... SELECT in one transaction, audited with the
    count. Returns the count."""
    if segment.kind != "dynamic":
        raise DomainError(N_("A static list's members are the cards added to it."))
    actor = actor or Actor.system("segments")
    now = models.utcnow()
    with models.atomic():
        SegmentMember.delete().where(SegmentMember.segment == segment.id).execute()
        added = insert_members(segment, members_query(segment, tz), now)
        segment.updated_at = now
        audit.record(actor, "segment.refresh", "segment", segment.public_id,
                     after={"members": added})
    return added
