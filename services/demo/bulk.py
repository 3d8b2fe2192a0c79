"""Bulk-insert helpers shared by the demo and the scale data."""

from peewee import chunked

import models
from models import Customer

# --- shared bulk helpers ------------------------------------------------------------------------

MAX_PARAMS = 30000  # below SQLite's 32766 bound variables per statement


def _batch_size(model, cap=2000):
    return max(1, min(cap, MAX_PARAMS // len(model._meta.fields)))


def bulk_insert(model, rows, returning=False):
    """Insert dict rows (the same keys in each) in batches; with ``returning``, {public_id: id}."""
    ids = {}
    for batch in chunked(rows, _batch_size(model)):
        query = model.insert_many(batch)
        if returning:
            for row_id, public_id in (query.returning(model.id, model.public_id)
                                      .tuples().execute()):
                ids[public_id] = row_id
        else:
            query.as_rowcount().execute()
    return ids


def _sql(text):
    return text.replace("?", models.db.param)


def refresh_totals(after_id=0):
    """Recompute the denormalised purchase totals and last contact of cards with id > after_id:
    one set-based UPDATE per column group, the same on SQLite and PostgreSQL."""
    live = "p.customer_id = customer.id AND p.deleted_at IS NULL"
    models.db.execute_sql(_sql(
        "UPDATE customer SET "
        "total_spend = ROUND(COALESCE("
        f"(SELECT SUM(p.amount) FROM purchase p WHERE {live}), 0), 2), "
        f"purchase_count = (SELECT COUNT(*) FROM purchase p WHERE {live}), "
        f"last_purchase_at = (SELECT MAX(p.occurred_at) FROM purchase p WHERE {live}) "
        "WHERE customer.id > ?"), (after_id,))
    # only cards with interactions: a new card's last_contact_at is already NULL, and every row
    # rewritten costs (on PostgreSQL, a new version in each of the card's indexes)
    models.db.execute_sql(_sql(
        "UPDATE customer SET last_contact_at = (SELECT MAX(i.occurred_at) FROM interaction i "
        "WHERE i.customer_id = customer.id AND i.deleted_at IS NULL) WHERE customer.id > ? "
        "AND EXISTS (SELECT 1 FROM interaction i WHERE i.customer_id = customer.id)"),
        (after_id,))


def set_tiers(tier_by_customer):
    """One UPDATE per tier (and chunk of ids) instead of one per card."""
    groups = {}
    for customer_id, tier in tier_by_customer.items():
        groups.setdefault(tier.id if tier else None, []).append(customer_id)
    for tier_id, ids in groups.items():
        for chunk in chunked(sorted(ids), 5000):
            Customer.update(tier=tier_id).where(Customer.id.in_(chunk)).execute()
