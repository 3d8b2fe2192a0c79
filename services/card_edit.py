"""Staff edits of a card: the portal's rules (services.profile) plus the staff-only fields
(status, owner, tags...), saved under optimistic locking on ``Customer.version``."""
import re

import models
from models import AuditEvent, Customer, CustomerTag, StaffUser, Tag
from services import N_, DomainError, audit, profile

TAG_MAX, TAGS_MAX = 64, 30
TAG_SPLIT = re.compile(r"[,，、;；\n]+")
# Audit actions that move a card's version on: the latest one says who changed it last.
VERSION_ACTIONS = ("customer.update", "change_request.accept", "customer.create")
EDIT_FIELDS = profile.STAFF_FIELDS + ("owner", "tags")


class EditConflict(DomainError):
    """The card changed since the form was loaded. ``fields`` maps each field where the two
    differ to (yours, theirs); ``by`` (actor kind, label) and ``at`` name the latest change."""

    def __init__(self, fields, by, at, version):
        super().__init__(N_("This card was changed by someone else while you were editing it."))
        self.fields, self.by, self.at, self.version = fields, by, at, version


def edit_values(customer):
    """The edit form's starting values: every staff-editable field, owner by public id and
    tags as a sorted list of names."""
    values = profile.staff_values(customer)
    owner = (StaffUser.select(StaffUser.public_id).where(StaffUser.id == customer.owner_id)
             .scalar() if customer.owner_id else None)
    values["owner"] = owner
    values["tags"] = _tag_names(customer.id)
    return values


def _tag_names(customer_id):
    return [name for (name,) in Tag.select(Tag.name).join(CustomerTag)
            .where(CustomerTag.customer == customer_id).order_by(Tag.name).tuples()]


def _clean_tags(raw):
    if isinstance(raw, (list, tuple)):
        raw = ",".join(raw)
    names = []
    for part in TAG_SPLIT.split(raw or ""):
        try:
            name = profile.clean_text(part)
        except DomainError as exc:
            raise DomainError(exc.message, "tags") from exc
        if name and len(name) > TAG_MAX:
            raise DomainError(N_("A tag has %(max)d characters at most."), "tags", max=TAG_MAX)
        if name and name not in names:
            names.append(name)
    if len(names) > TAGS_MAX:
        raise DomainError(N_("A card has %(max)d tags at most."), "tags", max=TAGS_MAX)
    return sorted(names)


def _clean_owner(public_id, current=None):
    """An active member of staff, or the card's current owner even if since deactivated."""
    if not public_id or public_id == current:
        return public_id or None
    public_id = str(public_id)
    exists = "\x00" not in public_id and StaffUser.select().where(
        StaffUser.public_id == public_id[:16], StaffUser.is_active == True).exists()
    if not exists:
        raise DomainError(N_("Choose a member of staff from the list."), "owner")
    return public_id


def clean_edit(values, fields, current_owner=None):
    """The cleaned values of ``fields`` (portal rules, then owner and tags); FieldErrors lists
    every wrong field at once."""
    errors = {}
    try:
        cleaned = profile.clean(values, [f for f in fields if f in profile.STAFF_FIELDS])
    except profile.FieldErrors as exc:
        cleaned, errors = {}, dict(exc.errors)
    for field, cleaner in (("owner", lambda v: _clean_owner(v, current_owner)),
                           ("tags", _clean_tags)):
        if field in fields:
            try:
                cleaned[field] = cleaner(values.get(field))
            except DomainError as exc:
                errors[field] = (exc.message, exc.params)
    if errors:
        raise profile.FieldErrors(errors)
    return cleaned


def update_card(customer, submitted, loaded_version, actor):
    """Save a staff member's edit of ``submitted`` fields if the card still has
    ``loaded_version``; returns the changed fields. A newer version raises EditConflict and
    changes nothing (never a silent overwrite)."""
    unknown = set(submitted) - set(EDIT_FIELDS)
    if unknown:
        raise DomainError(N_("These details cannot be changed here."), min(unknown))
    fresh = Customer.get_by_id(customer.id)
    before = edit_values(fresh)
    cleaned = clean_edit({**before, **submitted}, list(submitted), before["owner"])
    stored = {**before, "birthday": fresh.birthday}  # compare solar with solar
    changed = {f: v for f, v in cleaned.items() if v != stored.get(f)}
    if fresh.version != loaded_version and changed:
        raise _conflict(fresh, changed, cleaned, before)
    if not changed:
        return []
    columns = dict(changed)  # tags are not a column: apply_changes skips them
    if "owner" in columns:
        columns["owner"] = (StaffUser.select(StaffUser.id)
                            .where(StaffUser.public_id == columns["owner"]).scalar()
                            if columns["owner"] else None)
    try:
        with models.atomic():
            if not profile.apply_changes(fresh, columns, loaded_version):
                raise _Stale
            if "tags" in changed:
                _set_tags(fresh, changed["tags"])
            audit.record(actor, "customer.update", "customer", fresh.public_id,
                         customer_id=fresh.id, before={f: before.get(f) for f in changed},
                         after=changed)
    except _Stale:
        latest = Customer.get_by_id(customer.id)
        raise _conflict(latest, changed, cleaned, edit_values(latest)) from None
    return sorted(changed)


class _Stale(Exception):
    """The conditional UPDATE found a newer version (another save got in first)."""


def _conflict(current, changed, cleaned, theirs):
    """EditConflict for ``current``: each field the editor submitted whose value differs from
    the card's, with who made the latest change and when."""
    theirs = {**theirs, "birthday": profile.birthday_as_typed(current)}
    yours = dict(cleaned)
    if "birthday" in yours and yours["birthday"] is not None:
        yours["birthday"] = _as_typed(yours["birthday"], yours.get("birthday_lunar",
                                                                   current.birthday_lunar))
    fields = {f: (yours[f], theirs.get(f)) for f in yours if yours[f] != theirs.get(f)}
    event = (AuditEvent.select(AuditEvent.actor_kind, AuditEvent.actor_id,
                               AuditEvent.actor_label, AuditEvent.created_at)
             .where(AuditEvent.customer_id == current.id,
                    AuditEvent.action.in_(VERSION_ACTIONS))
             .order_by(AuditEvent.id.desc()).first())
    by, at = ("system", ""), None
    if event is not None:
        label = event.actor_label
        if event.actor_kind == "staff":
            label = (StaffUser.select(StaffUser.name).where(StaffUser.id == event.actor_id)
                     .scalar() or label)
        by, at = (event.actor_kind, label), event.created_at
    return EditConflict(fields, by, at, current.version)


def _as_typed(solar, lunar):
    """A solar birthday as the form shows it (the lunar date when it is kept lunar)."""
    probe = Customer(birthday=solar, birthday_lunar=bool(lunar))
    return profile.birthday_as_typed(probe)


def _set_tags(customer, names):
    """Make the card's tags exactly ``names``, creating tags that do not exist yet."""
    existing = {t.name: t.id for t in Tag.select(Tag.id, Tag.name).where(Tag.name.in_(names))}
    for name in names:
        if name not in existing:
            existing[name] = Tag.create(name=name).id
    wanted = {existing[n] for n in names}
    stale = CustomerTag.delete().where(CustomerTag.customer == customer.id)
    (stale.where(CustomerTag.tag.not_in(wanted)) if wanted else stale).execute()
    have = {tag_id for (tag_id,) in CustomerTag.select(CustomerTag.tag)
            .where(CustomerTag.customer == customer.id).tuples()}
    for tag_id in wanted - have:
        CustomerTag.create(customer=customer.id, tag=tag_id)
