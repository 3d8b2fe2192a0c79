"""The audit trail: append-only events, each hash-chained to the one before it."""
import hashlib
import json

import models
from models import AuditEvent


def jsonable(value):
    """Values as JSON stores them: Decimals, dates and times become strings."""
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _digest(prev_hash, event):
    payload = json.dumps({
        "prev": prev_hash, "actor_kind": event.actor_kind, "actor_id": event.actor_id,
        "action": event.action, "entity": event.entity, "entity_id": event.entity_id,
        "customer_id": event.customer_id, "before": event.before, "after": event.after,
        "created_at": event.created_at.isoformat(),
    }, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _lock_chain():
    # Two writers must not both extend the same tail. SQLite's IMMEDIATE transactions
    # already serialise writers; PostgreSQL needs an explicit lock for the transaction.
    if models.is_postgres():
        models.db.execute_sql("SELECT pg_advisory_xact_lock(727001)")


def record(actor, action, entity, entity_id=None, customer_id=None, before=None, after=None):
    """Append one audit event inside the caller's transaction (or its own)."""
    with models.atomic():
        _lock_chain()
        tail = AuditEvent.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).first()
        event = AuditEvent(
            actor_kind=actor.kind, actor_id=actor.id, actor_label=actor.label or "",
            action=action, entity=entity, entity_id=None if entity_id is None else str(entity_id),
            customer_id=customer_id, before=jsonable(before), after=jsonable(after), ip=actor.ip,
            user_agent=actor.user_agent, prev_hash=tail.hash if tail else "")
        event.created_at = models.utcnow().replace(microsecond=0)
        event.hash = _digest(event.prev_hash, event)
        event.save()
        return event


def verify_chain(batch=5000):
    """Walk the whole chain; return (True, None) or (False, id of the first broken event)."""
    prev = ""
    last_id = 0
    while True:
        rows = list(AuditEvent.select().where(AuditEvent.id > last_id)
                    .order_by(AuditEvent.id).limit(batch))
        if not rows:
            return True, None
        for event in rows:
            if event.prev_hash != prev or event.hash != _digest(prev, event):
                return False, event.id
            prev = event.hash
        last_id = rows[-1].id
