"""Records on a card: purchases (more kinds follow), keeping the card's totals in step."""
from decimal import Decimal, InvalidOperation

from peewee import fn

import models
from models import Customer, Purchase
from services import N_, DomainError, audit

PURCHASE_FIELDS = ("occurred_at", "product", "sku", "quantity", "unit_price", "amount",
                   "currency", "payment_method", "order_status", "channel", "external_ref")


def _decimal(value, field):
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise DomainError(N_("Enter a number."), field) from exc
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        raise DomainError(N_("Enter a number."), field)
    return number


def refresh_totals(customer_id):
    """Recompute a card's total spend, purchase count and last purchase from its purchases."""
    live = Purchase.select().where(Purchase.customer == customer_id,
                                   Purchase.deleted_at.is_null(),
                                   Purchase.order_status != "refunded")
    totals = live.select(fn.COALESCE(fn.SUM(Purchase.amount), 0), fn.COUNT(Purchase.id),
                         fn.MAX(Purchase.occurred_at)).tuples().get()
    Customer.update(total_spend=Decimal(str(totals[0])), purchase_count=totals[1],
                    last_purchase_at=totals[2]).where(Customer.id == customer_id).execute()


def add_purchase(customer, actor, **fields):
    """Record a purchase on a card; the card's totals follow in the same transaction."""
    unknown = set(fields) - set(PURCHASE_FIELDS)
    if unknown:
        raise TypeError(f"not purchase fields: {sorted(unknown)}")
    if not (fields.get("product") or "").strip():
        raise DomainError(N_("Enter the product."), "product")
    quantity = _decimal(fields.pop("quantity", 1), "quantity")
    unit_price = _decimal(fields.pop("unit_price", fields.get("amount", 0)), "unit_price")
    amount = _decimal(fields.pop("amount", quantity * unit_price), "amount")
    with models.atomic():
        purchase = Purchase.create(customer=customer, quantity=quantity, unit_price=unit_price,
                                   amount=amount, created_by=actor.id if actor.kind == "staff"
                                   else None, **fields)
        refresh_totals(customer.id)
        audit.record(actor, "purchase.create", "purchase", purchase.public_id,
                     customer_id=customer.id,
                     after={"product": purchase.product, "amount": amount,
                            "currency": purchase.currency})
    return purchase
