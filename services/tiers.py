"""Customer tiers: the rules (defined by managers), the recalculation that applies them (one
set-based pass over purchases: nightly, after each purchase, on demand), manual overrides with a
reason and an optional expiry, and the history with the reason for every change.

The rules: a tier is earned when every rule it sets holds: completed purchases (not deleted,
not refunded or cancelled) in the last ``window_days`` add up to at least ``min_spend`` and
number at least ``min_orders``, and the card is at least ``min_tenure_days`` old. The highest
rank earned wins. A tier that sets no rule is never earned by rule (only by override), unless it
is the default tier: cards that earn no tier, prospects without purchases among them, get the
default tier (no tier if none is marked default).

A TierChange's ``reason`` is JSON with codes and numbers ({"code": "rule", "window": 365,
"spend": "12300.00", "min_spend": "10000.00", ...}); the back office puts it into words in the
reader's language.
"""

import json
import re
from decimal import Decimal, InvalidOperation

from huey import crontab
from peewee import JOIN, SQL, fn

import models
from models import Customer, StaffUser, Tier, TierChange
from services import N_, DomainError, audit, tier_sql
from services.actors import Actor
from services.jobs import enqueue, huey
from services.text import clean_text

CODE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
NAME_MAX, BENEFITS_MAX, REASON_MAX = 64, 2000, 500
SPEND_MAX = Decimal("1e10")
FILL_IN = N_("Fill in this field.")
TIER_FIELDS = ("code", "name_zh", "name_en", "rank", "colour", "benefits", "min_spend",
               "min_orders", "window_days", "min_tenure_days", "is_default")


# --- the tiers themselves ---------------------------------------------------------------------

def ranked():
    """Every tier, highest rank first."""
    return list(Tier.select().order_by(Tier.rank.desc(), Tier.id))


def _whole(values, field, low, high, required=False):
    value = values.get(field)
    if value is None or value == "":
        if required:
            raise DomainError(FILL_IN, field)
        return None
    try:
        number = int(str(value).strip())
    except ValueError as exc:
        raise DomainError(N_("Enter a whole number."), field) from exc
    if not low <= number <= high:
        raise DomainError(N_("Enter a number from %(low)d to %(high)d."), field,
                          low=low, high=high)
    return number


def _money(values, field):
    value = values.get(field)
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise DomainError(N_("Enter an amount, such as 10000 or 9999.50."), field) from exc
    if not amount.is_finite() or amount < 0 or amount >= SPEND_MAX:
        raise DomainError(N_("Enter an amount, such as 10000 or 9999.50."), field)
    return amount.quantize(Decimal("0.01"))


def clean_tier(values, tier=None):
    """The validated, normalised fields of a tier; DomainError at the first bad field."""
    code = str(values.get("code") or "").strip().lower()
    if not CODE_RE.match(code):
        raise DomainError(N_("Use 1-32 lower-case letters, digits, - or _."), "code")
    clash = Tier.select().where(Tier.code == code)
    if tier is not None:
        clash = clash.where(Tier.id != tier.id)
    if clash.exists():
        raise DomainError(N_("Another tier already uses this code."), "code")
    colour = str(values.get("colour") or "").strip()
    if not COLOUR_RE.match(colour):
        raise DomainError(N_("Use a colour like #c9a227."), "colour")
    clean = {"code": code, "colour": colour.lower(),
             "name_zh": clean_text(values.get("name_zh"), "name_zh", NAME_MAX, required=FILL_IN),
             "name_en": clean_text(values.get("name_en"), "name_en", NAME_MAX, required=FILL_IN),
             "rank": _whole(values, "rank", -1000, 1000, required=True),
             "benefits": clean_text(values.get("benefits"), "benefits", BENEFITS_MAX,
                                    multiline=True),
             "min_spend": _money(values, "min_spend"),
             "min_orders": _whole(values, "min_orders", 1, 100000),
             "window_days": _whole(values, "window_days", 1, 3660, required=True),
             "min_tenure_days": _whole(values, "min_tenure_days", 0, 36600),
             "is_default": bool(values.get("is_default"))}
    same_rank = Tier.select().where(Tier.rank == clean["rank"])
    if tier is not None:
        same_rank = same_rank.where(Tier.id != tier.id)
    if same_rank.exists():
        raise DomainError(N_("Another tier has this rank: give each tier its own."), "rank")
    return clean


def _tier_snapshot(tier):
    return {field: getattr(tier, field) for field in TIER_FIELDS}


def _only_default(tier):
    # One default tier: marking this one makes the others ordinary.
    if tier.is_default:
        Tier.update(is_default=False).where(Tier.id != tier.id,
                                            Tier.is_default == True).execute()


def create_tier(actor, values):
    """Add a tier; audited. Recalculation applies it (nightly or on demand)."""
    clean = clean_tier(values)
    with models.atomic():
        tier = Tier.create(**clean)
        _only_default(tier)
        audit.record(actor, "tier.create", "tier", tier.id, after=_tier_snapshot(tier))
    return tier


def update_tier(tier, actor, values):
    """Change a tier's names, rank, colour, benefits or rules; audited."""
    clean = clean_tier(values, tier)
    with models.atomic():
        before = _tier_snapshot(tier)
        for field, value in clean.items():
            setattr(tier, field, value)
        tier.save()
        _only_default(tier)
        audit.record(actor, "tier.update", "tier", tier.id, before=before,
                     after=_tier_snapshot(tier))
    return tier


def card_counts():
    """{tier id: live cards in it}: every card per tier, read from the tier index alone, less
    the erased ones, read through the erased_at index (they are few). At 100k cards on SQLite
    5 ms, where counting the live cards per tier read every row (200 ms without statistics)."""
    every = (Customer.select(Customer.tier, fn.COUNT(SQL("*")))
             .where(Customer.tier.is_null(False)).group_by(Customer.tier))
    # the erased cards by id from the erased_at index: grouping by tier, SQLite (statistics
    # or not) would rather walk the (tier, status) index through every card (150-240 ms)
    gone_ids = Customer.select(Customer.id).where(Customer.erased_at.is_null(False))
    erased = (Customer.select(Customer.tier, fn.COUNT(SQL("*")))
              .where(Customer.id.in_(gone_ids), Customer.tier.is_null(False))
              .group_by(Customer.tier))
    counts = dict(every.tuples())
    for tier_id, gone in erased.tuples():
        counts[tier_id] -= gone
    return counts


def usage(tier):
    """(cards in the tier, history rows naming it)."""
    cards = Customer.select().where(Customer.tier == tier).count()
    history = TierChange.select().where((TierChange.from_tier == tier)
                                        | (TierChange.to_tier == tier)).count()
    return cards, history


def delete_tier(tier, actor):
    """Delete a tier nobody has and no history names; else refuse (history must stay true)."""
    with models.atomic():
        cards, history = usage(tier)
        if cards or history:
            raise DomainError(N_("This tier is in use (%(cards)d cards, %(history)d history "
                                 "entries), so it cannot be deleted. Change its rules instead."),
                              cards=cards, history=history)
        before = _tier_snapshot(tier)
        tier.delete_instance()
        audit.record(actor, "tier.delete", "tier", before["code"], before=before)


# --- recalculation: one set-based pass ----------------------------------------------------------

def recalculate(actor, customer_id=None, ended_source="expiry", now=None):
    """Apply the tier rules to every live card (or one): cards under a live override keep
    their tier; an ended override is cleared. Set-based: one aggregate pass into a temporary
    table, one INSERT ... SELECT of the history, one UPDATE. Returns {"changed", "ended"}."""
    now = now or models.utcnow()
    database = models.db
    with models.atomic():
        if models.is_postgres():  # two passes at once would write the history twice
            database.execute_sql("SELECT pg_advisory_xact_lock(727005)")
        tiers = ranked()
        sql, params, windows, whens, default = tier_sql.build_target_sql(tiers, now,
                                                                        customer_id)
        database.execute_sql(f"DROP TABLE IF EXISTS {tier_sql.TARGET}")
        database.execute_sql(sql.replace("?", "%s") if models.is_postgres() else sql, params)
        changed, ended = database.execute_sql(
            f"SELECT COALESCE(SUM(CASE WHEN COALESCE(new_tier, 0) <> COALESCE(old_tier, 0) "
            f"THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN expired = "
            f"{tier_sql.sql_bool(True)} THEN 1 ELSE 0 END), 0) FROM {tier_sql.TARGET}").fetchone()
        if changed or ended:
            tier_sql.write_history(database, windows, whens, default, now, ended_source)
            tier_sql.apply(database)
        database.execute_sql(f"DROP TABLE {tier_sql.TARGET}")
        summary = {"changed": int(changed), "ended": int(ended),
                   "scope": "card" if customer_id else "all"}
        if customer_id is None:  # one event per pass, found again by (entity, entity_id)
            audit.record(actor, "tier.recalculate", "tier", None, after=summary)
        elif changed or ended:
            public_id = Customer.select(Customer.public_id).where(
                Customer.id == customer_id).scalar()
            audit.record(actor, "tier.recalculate", "customer", public_id,
                         customer_id=customer_id, after=summary)
    return summary


@huey.task()
def recalculate_all_job(actor=None):
    """The background job behind the button and the nightly run."""
    return recalculate(actor or Actor.system("tiers"))


@huey.task()
def recalculate_card_job(customer_id):
    return recalculate(Actor.system("tiers"), customer_id=customer_id)


@huey.periodic_task(crontab(hour="3", minute="10"))
def nightly_recalculate():
    # Windows roll forward every day: purchases fall out of "the last 365 days" without any
    # write, so every card is re-judged each night.
    return recalculate(Actor.system("tiers"))


def purchases_changed(customer_id):
    """A card's purchases changed: re-judge its tier once the transaction commits."""
    enqueue(recalculate_card_job, customer_id)


def card_created(customer_id):
    """A new card: give it the tier the rules give (usually the default) once it commits."""
    enqueue(recalculate_card_job, customer_id)


def request_recalculation(actor):
    """Queue a recalculation of every card (the button); the result lands in the audit log."""
    enqueue(recalculate_all_job, actor)


def last_recalculation():
    """The latest full pass: (time, summary) or None."""
    event = (models.AuditEvent.select(models.AuditEvent.created_at, models.AuditEvent.after)
             .where(models.AuditEvent.entity == "tier", models.AuditEvent.entity_id.is_null(),
                    models.AuditEvent.action == "tier.recalculate")
             .order_by(models.AuditEvent.id.desc()).first())
    return (event.created_at, event.after) if event else None


# --- overrides and history ----------------------------------------------------------------------

def set_override(customer, actor, tier, reason, until=None, now=None):
    """Put the card in ``tier`` by hand, with a reason and an optional end; recalculation
    leaves it there until ``until`` (UTC) passes."""
    now = now or models.utcnow()
    text = clean_text(reason, "reason", REASON_MAX, required=FILL_IN)
    if tier is None:
        raise DomainError(N_("Choose a tier."), "tier")
    if until is not None and until <= now:
        raise DomainError(N_("Choose an end date in the future, or none."), "until")
    with models.atomic():
        before = _override_snapshot(customer)
        old_tier = Customer.select(Customer.tier).where(Customer.id == customer.id).scalar()
        Customer.update(tier=tier, tier_overridden=True, tier_override_reason=text,
                        tier_override_until=until).where(Customer.id == customer.id).execute()
        TierChange.create(customer=customer, from_tier=old_tier, to_tier=tier,
                          source="override", changed_by=actor.id if actor.kind == "staff"
                          else None, created_at=now,
                          reason=json.dumps({"code": "override", "note": text,
                                             "until": until.isoformat() if until else None},
                                            ensure_ascii=False))
        customer.tier, customer.tier_overridden = tier, True
        customer.tier_override_reason, customer.tier_override_until = text, until
        audit.record(actor, "tier.override", "customer", customer.public_id,
                     customer_id=customer.id, before=before, after=_override_snapshot(customer))
    return customer


def remove_override(customer, actor):
    """End the card's override now: the rules decide its tier again (history says so)."""
    if not customer.tier_overridden:
        raise DomainError(N_("This card's tier is not set by hand."))
    now = models.utcnow()
    with models.atomic():
        before = _override_snapshot(customer)
        Customer.update(tier_override_until=now).where(Customer.id == customer.id).execute()
        recalculate(actor, customer_id=customer.id, ended_source="removed", now=now)
        fresh = Customer.get_by_id(customer.id)
        audit.record(actor, "tier.override_remove", "customer", customer.public_id,
                     customer_id=customer.id, before=before, after=_override_snapshot(fresh))
    return fresh


def _override_snapshot(customer):
    tier = Tier.get_or_none(Tier.id == customer.tier_id) if customer.tier_id else None
    return {"tier": tier.code if tier else None, "overridden": customer.tier_overridden,
            "reason": customer.tier_override_reason, "until": customer.tier_override_until}


def card_history(customer, limit=10):
    """The card's tier changes, newest first, with both tiers and who changed it (joined)."""
    from_tier, to_tier, staff = Tier.alias("from_tier"), Tier.alias("to_tier"), StaffUser
    return list(TierChange.select(TierChange, from_tier, to_tier, staff)
                .join_from(TierChange, from_tier, JOIN.LEFT_OUTER,
                           on=(TierChange.from_tier == from_tier.id), attr="from_tier")
                .join_from(TierChange, to_tier, JOIN.LEFT_OUTER,
                           on=(TierChange.to_tier == to_tier.id), attr="to_tier")
                .join_from(TierChange, staff, JOIN.LEFT_OUTER,
                           on=(TierChange.changed_by == staff.id), attr="changed_by")
                .where(TierChange.customer == customer)
                .order_by(TierChange.created_at.desc(), TierChange.id.desc()).limit(limit))


def rule_reason(tier, spend, orders):
    """The reason (JSON) a pass writes when ``tier``'s rules hold: for seeders writing history
    in bulk the way the recalculation does."""
    reason = {"code": "rule", "window": tier.window_days, "spend": str(spend),
              "orders": orders}
    if tier.min_spend is not None:
        reason["min_spend"] = str(tier.min_spend)
    if tier.min_orders is not None:
        reason["min_orders"] = tier.min_orders
    if tier.min_tenure_days is not None:
        reason["min_tenure"] = tier.min_tenure_days
    return json.dumps(reason, sort_keys=True)


def fallback_reason(default, window_days, spend, orders):
    """The reason (JSON) when no rule holds: the default tier, or no tier."""
    return json.dumps({"code": "default" if default else "none", "window": window_days,
                       "spend": str(spend), "orders": orders}, sort_keys=True)


def parse_reason(reason):
    """A TierChange reason as a dict: JSON from this module, or older free text as a note."""
    try:
        value = json.loads(reason or "")
    except ValueError:
        return {"code": "text", "note": reason or ""}
    return value if isinstance(value, dict) else {"code": "text", "note": str(reason)}
