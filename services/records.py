"""Records on a card: purchases, service records and interactions; add, edit and delete (soft,
with a reason), keeping the card's totals and last contact in step, audited."""
import datetime
from decimal import Decimal, InvalidOperation

from peewee import fn

import models
from models import Customer, Interaction, Purchase, ServiceRecord, StaffUser
from services import N_, DomainError, audit, profile, tasks, tiers

PURCHASE_FIELDS = ("occurred_at", "product", "sku", "quantity", "unit_price", "amount",
                   "currency", "payment_method", "order_status", "channel", "external_ref")
SERVICE_FIELDS = ("occurred_at", "service_type", "staff", "description", "result",
                  "satisfaction")
INTERACTION_FIELDS = ("occurred_at", "channel", "direction", "staff", "subject", "request",
                      "resolution", "outcome", "next_follow_up", "visible_to_customer")
ORDER_STATUSES = ("completed", "pending", "cancelled", "refunded")
NOT_SPENT = ("cancelled", "refunded")  # left out of the card's totals (and of tier rules)
CHANNELS = ("phone", "email", "wechat", "visit", "chat")
DIRECTIONS = ("inbound", "outbound")
# kind (also the audit entity) -> (model, the fields staff and imports may set)
KINDS = {"purchase": (Purchase, PURCHASE_FIELDS), "service": (ServiceRecord, SERVICE_FIELDS),
         "interaction": (Interaction, INTERACTION_FIELDS)}
TEXT_MAX = {"product": 200, "sku": 64, "payment_method": 32, "channel": 32, "external_ref": 64,
            "service_type": 32, "description": 5000, "result": 5000, "subject": 200,
            "request": 5000, "resolution": 5000, "outcome": 32}
REQUIRED = {"product": N_("Enter the product."), "service_type": N_("Enter the type of service."),
            "subject": N_("Enter the subject.")}
REASON_MAX = 500


def _decimal(value, field):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(N_("Enter a number."), field) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise DomainError(N_("Enter a number."), field)
    return number


def _when(raw):
    if raw is None:
        return models.utcnow()
    if not isinstance(raw, datetime.datetime):
        raise DomainError(N_("Enter the date and time."))
    if not datetime.datetime(1900, 1, 1) <= raw <= models.utcnow() + datetime.timedelta(days=1):
        raise DomainError(N_("Enter a date between 1900 and today."))
    return raw


def _staff_id(raw):
    if raw in (None, ""):
        return None
    if isinstance(raw, StaffUser):
        return raw.id
    staff_id = StaffUser.select(StaffUser.id).where(StaffUser.public_id == str(raw)[:16]).scalar()
    if staff_id is None:
        raise DomainError(N_("Choose a member of staff from the list."))
    return staff_id


def _number(raw, default=None):
    return default if raw in (None, "") else _decimal(raw, None)


def _quantity(raw):
    quantity = _number(raw, Decimal(1))
    if quantity <= 0:
        raise DomainError(N_("Enter a quantity above zero."))
    return quantity


def _money(raw):
    amount = _number(raw)
    if amount is not None and amount < 0:
        raise DomainError(N_("Enter an amount of zero or more."))
    return amount


def _currency(raw):
    currency = (profile.clean_text(raw) or "CNY").upper()
    if not (len(currency) == 3 and currency.isascii() and currency.isalpha()):
        raise DomainError(N_("Enter a three-letter currency code (CNY)."))
    return currency


def _satisfaction(raw):
    if raw in ("", None):
        return None
    try:
        value = int(raw)
    except (TypeError, ValueError):
        value = 0
    if not 1 <= value <= 5:
        raise DomainError(N_("Choose 1 to 5."))
    return value


def _date(raw):
    if raw in ("", None):
        return None
    if not isinstance(raw, datetime.date) or isinstance(raw, datetime.datetime):
        raise DomainError(N_("Enter the date as YYYY-MM-DD."))
    return raw


def _choice(choices, default=None):
    def rule(raw):
        value = raw or default
        if value not in choices:
            raise DomainError(N_("Choose a value from the list."))
        return value
    return rule


def _text(field, blank=None):
    def rule(raw):
        text = profile.clean_text(raw)
        if text and len(text) > TEXT_MAX[field]:
            raise DomainError(N_("This is too long (%(max)d characters at most)."),
                              max=TEXT_MAX[field])
        if not text and field in REQUIRED:
            raise DomainError(REQUIRED[field])
        return text or blank
    return rule


# kind -> field -> rule (raw value -> cleaned value, or DomainError)
RULES = {
    "purchase": {"occurred_at": _when, "product": _text("product"), "sku": _text("sku"),
                 "quantity": _quantity, "unit_price": _money, "amount": _money,
                 "currency": _currency, "payment_method": _text("payment_method"),
                 "order_status": _choice(ORDER_STATUSES, "completed"),
                 "channel": _text("channel"), "external_ref": _text("external_ref")},
    "service": {"occurred_at": _when, "service_type": _text("service_type"),
                "staff": _staff_id, "description": _text("description", ""),
                "result": _text("result", ""), "satisfaction": _satisfaction},
    "interaction": {"occurred_at": _when, "channel": _choice(CHANNELS),
                    "direction": _choice(DIRECTIONS, "inbound"), "staff": _staff_id,
                    "subject": _text("subject"), "request": _text("request", ""),
                    "resolution": _text("resolution", ""), "outcome": _text("outcome"),
                    "next_follow_up": _date, "visible_to_customer": bool},
}


def clean(kind, values):
    """The cleaned column values of a ``kind`` record from ``values`` (missing fields take
    their defaults); FieldErrors lists every wrong field."""
    _, fields = KINDS[kind]
    unknown = set(values) - set(fields)
    if unknown:
        raise TypeError(f"not {kind} fields: {sorted(unknown)}")
    cleaned, errors = {}, {}
    for field, rule in RULES[kind].items():
        try:
            cleaned[field] = rule(values.get(field))
        except DomainError as exc:
            errors[field] = (exc.message, exc.params)
    if errors:
        raise profile.FieldErrors(errors)
    if kind == "purchase":
        quantity, unit_price, amount = (cleaned[f] for f in ("quantity", "unit_price", "amount"))
        if unit_price is None:
            unit_price = (amount / quantity).quantize(Decimal("0.01")) if amount else Decimal(0)
        cleaned["unit_price"] = unit_price
        cleaned["amount"] = (quantity * unit_price).quantize(Decimal("0.01")) \
            if amount is None else amount
    return cleaned


def refresh_totals(customer_id):
    """Recompute a card's total spend, purchase count and last purchase from its purchases."""
    live = Purchase.select().where(Purchase.customer == customer_id,
                                   Purchase.deleted_at.is_null(),
                                   Purchase.order_status.not_in(NOT_SPENT))
    totals = live.select(fn.COALESCE(fn.SUM(Purchase.amount), 0), fn.COUNT(Purchase.id),
                         fn.MAX(Purchase.occurred_at)).tuples().get()
    Customer.update(total_spend=Decimal(str(totals[0])), purchase_count=totals[1],
                    last_purchase_at=totals[2]).where(Customer.id == customer_id).execute()


def refresh_last_contact(customer_id):
    """The card's last contact: its latest live interaction."""
    latest = (Interaction.select(fn.MAX(Interaction.occurred_at))
              .where(Interaction.customer == customer_id, Interaction.deleted_at.is_null())
              .scalar())
    Customer.update(last_contact_at=latest).where(Customer.id == customer_id).execute()


def _after_change(kind, customer_id):
    if kind == "purchase":
        refresh_totals(customer_id)
        tiers.purchases_changed(customer_id)
    elif kind == "interaction":
        refresh_last_contact(customer_id)


def _snapshot(kind, record):
    _, fields = KINDS[kind]
    return {f: getattr(record, f + "_id" if f == "staff" else f) for f in fields
            if f != "external_ref"}


def _follow_up(customer, actor, interaction):
    """The task an interaction's next follow-up date asks for, for the staff member on it."""
    assignee = (StaffUser.get_by_id(interaction.staff_id) if interaction.staff_id
                else StaffUser.get_or_none(StaffUser.id == actor.id) if actor.kind == "staff"
                else None)
    try:
        tasks.create_follow_up(customer, actor, title=interaction.subject[:150],
                               due_date=interaction.next_follow_up, assignee=assignee,
                               interaction=interaction)
    except DomainError as exc:  # the task's rules (a date in the past...) speak for the field
        raise DomainError(exc.message, "next_follow_up", **exc.params) from exc


def add_record(kind, customer, actor, values):
    """Record a purchase, service record or interaction on a card; returns it."""
    model, _ = KINDS[kind]
    cleaned = clean(kind, values)
    created_by = {"created_by": actor.id if actor.kind == "staff" else None} \
        if kind == "purchase" else {}
    with models.atomic():
        record = model.create(customer=customer.id, **cleaned, **created_by)
        _after_change(kind, customer.id)
        if kind == "interaction" and record.next_follow_up:
            _follow_up(customer, actor, record)
        audit.record(actor, f"{kind}.create", kind, record.public_id, customer_id=customer.id,
                     after=_snapshot(kind, record))
    return record


def edit_record(kind, record, actor, values):
    """Change a record's fields; the card's totals follow. A new next follow-up date on an
    interaction creates its task."""
    model, _ = KINDS[kind]
    if record.deleted_at is not None:
        raise DomainError(N_("This record has been deleted."))
    cleaned = {f: v for f, v in clean(kind, values).items() if f in values}
    before = _snapshot(kind, record)
    stamp = {} if kind == "interaction" else {"updated_at": models.utcnow()}
    with models.atomic():
        model.update(**cleaned, **stamp).where(model.id == record.id).execute()
        record = model.get_by_id(record.id)
        _after_change(kind, record.customer_id)
        after = _snapshot(kind, record)
        if kind == "interaction" and record.next_follow_up and \
                record.next_follow_up != before["next_follow_up"]:
            _follow_up(Customer.get_by_id(record.customer_id), actor, record)
        changed = [f for f in after if after[f] != before[f]]
        audit.record(actor, f"{kind}.update", kind, record.public_id,
                     customer_id=record.customer_id, before={f: before[f] for f in changed},
                     after={f: after[f] for f in changed})
    return record


def delete_record(kind, record, actor, reason):
    """Soft-delete a record with a reason: hidden from the card and the portal, kept (and
    audited) for the record."""
    model, _ = KINDS[kind]
    try:
        reason = profile.clean_text(reason)
    except DomainError as exc:
        raise DomainError(exc.message, "reason") from exc
    if not reason:
        raise DomainError(N_("Say why the record is deleted."), "reason")
    if len(reason) > REASON_MAX:
        raise DomainError(N_("This is too long (%(max)d characters at most)."), "reason",
                          max=REASON_MAX)
    with models.atomic():
        done = (model.update(deleted_at=models.utcnow(), delete_reason=reason)
                .where(model.id == record.id, model.deleted_at.is_null()).execute())
        if not done:
            raise DomainError(N_("This record has been deleted."))
        _after_change(kind, record.customer_id)
        audit.record(actor, f"{kind}.delete", kind, record.public_id,
                     customer_id=record.customer_id, before=_snapshot(kind, record),
                     after={"deleted": True, "reason": reason})


def get_live(kind, customer, public_id):
    """A live record of ``kind`` on ``customer`` by its public id, or None."""
    model, _ = KINDS[kind]
    return model.get_or_none(model.public_id == public_id, model.customer == customer.id,
                             model.deleted_at.is_null())


def add_purchase(customer, actor, **fields):
    """Record a purchase on a card (the import's and the demo's entry point)."""
    return add_record("purchase", customer, actor, fields)
