"""The database layer: SQLite settings, concurrent writers, after-commit hooks, the audit chain."""
import threading

import pytest

import models
from models import AuditEvent, Tag
from services import audit
from services.actors import Actor
from tests.conftest import PG_URL


@pytest.mark.skipif(bool(PG_URL), reason="SQLite pragmas; this run is on PostgreSQL")
def test_sqlite_runs_with_wal_foreign_keys_busy_timeout_and_immediate(db):
    pragma = lambda name: db.execute_sql(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1
    assert pragma("busy_timeout") == 10000
    assert db._lock_type == "IMMEDIATE"


def test_concurrent_read_then_write_transactions_do_not_fail(db):
    Tag.create(name="counter", colour="0")
    errors = []

    def bump():
        try:
            for _ in range(25):
                with models.atomic():
                    tag = Tag.get(Tag.name == "counter")
                    if models.is_postgres():
                        tag = Tag.select().where(Tag.id == tag.id).for_update().get()
                    Tag.update(colour=str(int(tag.colour) + 1)).where(Tag.id == tag.id).execute()
        except Exception as exc:  # the assertion below reports it
            errors.append(repr(exc))
        finally:
            models.db.close()

    threads = [threading.Thread(target=bump) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Tag.get(Tag.name == "counter").colour == "100"


def test_on_commit_runs_after_the_outermost_commit_only(db):
    ran = []
    with models.atomic():
        with models.atomic():
            models.on_commit(lambda: ran.append("inner"))
        assert ran == []
    assert ran == ["inner"]
    with pytest.raises(ValueError):
        with models.atomic():
            models.on_commit(lambda: ran.append("rolled back"))
            raise ValueError
    assert ran == ["inner"]
    models.on_commit(lambda: ran.append("no transaction"))
    assert ran == ["inner", "no transaction"]


def test_audit_chain_verifies_and_shows_tampering(db):
    actor = Actor("staff", 1, "a@example.com", "127.0.0.1")
    for n in range(5):
        audit.record(actor, "customer.update", "customer", f"c{n}", before={"name": "旧"},
                     after={"name": "新", "amount": "12.50"})
    assert audit.verify_chain() == (True, None)
    third = AuditEvent.select().order_by(AuditEvent.id).offset(2).get()
    AuditEvent.update(after={"name": "tampered"}).where(AuditEvent.id == third.id).execute()
    assert audit.verify_chain() == (False, third.id)


def test_foreign_keys_are_enforced(db):
    from peewee import IntegrityError
    with pytest.raises(IntegrityError):
        with models.atomic():
            models.ContactPoint.create(customer=999999, kind="email", value="x@example.com",
                                       normalized="x@example.com")
