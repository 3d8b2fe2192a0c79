"""The database layer: SQLite settings, concurrent writers, after-commit hooks, the audit chain;
and the tests' own per-test reset."""
import datetime
import decimal
import threading
import uuid

import peewee
import pytest

import models
from models import AuditEvent, Tag
from services import audit, schema
from services.actors import Actor
from tests import factories
from tests.conftest import PG_URL, reset_postgres


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


# The per-test reset (tests/conftest.py ``database_url``): a test never sees another test's rows,
# and ids start at 1 in every test on both databases.

def _value(field, n):
    """A value a NOT NULL column without a default accepts."""
    if field.choices:
        return field.choices[0][0]
    if isinstance(field, peewee.BooleanField):
        return False
    if isinstance(field, peewee.IntegerField):
        return n
    if isinstance(field, (peewee.DecimalField, peewee.FloatField)):
        return decimal.Decimal("1.00")
    if isinstance(field, peewee.DateTimeField):
        return models.utcnow()
    if isinstance(field, peewee.DateField):
        return datetime.date.today()
    if isinstance(field, peewee.UUIDField):
        return uuid.uuid4()
    if isinstance(field, peewee.BlobField):
        return b"x"
    if type(field).__name__ in ("JSONField", "BinaryJSONField"):
        return {}
    return "x" if isinstance(field, peewee.CharField) and field.max_length < 8 else f"x{n}"


def _fill_every_table():
    """One row in every table, parents first; rows that can point at themselves do (the
    search index fills itself through its triggers)."""
    rows = {}
    for model in peewee.sort_models(models.ALL_MODELS):
        if model is models.CustomerSearch:
            continue
        data, self_refs = {}, []
        for field in model._meta.sorted_fields:
            if isinstance(field, peewee.ForeignKeyField):
                if field.rel_model is model:
                    self_refs.append(field)
                else:
                    data[field.name] = rows[field.rel_model]
            elif not isinstance(field, peewee.AutoField) and field.default is None \
                    and not field.null:
                data[field.name] = _value(field, len(rows) + 1)
        rows[model] = row = model.create(**data)
        for field in self_refs:
            model.update({field: row.id}).where(model.id == row.id).execute()
    return rows


def _rows_per_table(database):
    tables = [m._meta.table_name for m in models.ALL_MODELS]
    return {table: database.execute_sql(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables}


def test_reset_1_this_test_leaves_rows_in_every_table(db):
    _fill_every_table()
    factories.make_customer(mobile="13800138000")  # a card, its contacts, their search entry
    counts = _rows_per_table(db)
    assert [table for table, count in counts.items() if not count] == []


def test_reset_2_the_next_test_starts_empty_with_ids_from_1(db):
    counts = _rows_per_table(db)
    assert [table for table, count in counts.items() if count] == []
    assert schema.pending() == [], "the migration history is kept"
    rows = {model: row for model, row in _fill_every_table().items()
            if isinstance(model._meta.primary_key, peewee.AutoField)}
    assert {model: row.get_id() for model, row in rows.items()} == dict.fromkeys(rows, 1)


def _files(database, tables):
    """Each table's data file: TRUNCATE gives it a new one, DELETE keeps it."""
    return {t: database.execute_sql("SELECT pg_relation_filenode(%s)", (t,)).fetchone()[0]
            for t in tables}


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL reset; on SQLite each test copies a file")
def test_postgres_reset_empties_every_table_and_restarts_used_sequences(db):
    _fill_every_table()
    factories.make_customer(mobile="13800138000")
    files = _files(db, _rows_per_table(db))
    history = "SELECT pg_sequence_last_value(pg_get_serial_sequence('schema_migration', 'id'))"
    migrations = db.execute_sql(history).fetchone()[0]
    assert migrations >= len(schema.status())
    reset_postgres(db)
    assert [table for table, count in _rows_per_table(db).items() if count] == []
    assert _files(db, files) == files, "emptied with DELETE in foreign-key order, no TRUNCATE"
    used = db.execute_sql("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"
                          " AND last_value IS NOT NULL").fetchall()
    assert [name for name, in used if not name.startswith("schema_migration")] == []
    assert db.execute_sql(history).fetchone()[0] == migrations, "the history's sequence is kept"
    assert schema.pending() == []
    assert factories.make_staff().id == 1


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL reset; on SQLite each test copies a file")
def test_postgres_reset_empties_tables_that_reference_each_other(db):
    db.execute_sql("CREATE TABLE reset_cycle_a (id serial PRIMARY KEY, b_id integer)")
    try:
        db.execute_sql("CREATE TABLE reset_cycle_b (id serial PRIMARY KEY,"
                       " a_id integer REFERENCES reset_cycle_a)")
        db.execute_sql("ALTER TABLE reset_cycle_a ADD FOREIGN KEY (b_id) REFERENCES reset_cycle_b")
        db.execute_sql("INSERT INTO reset_cycle_a (id) VALUES (1)")
        db.execute_sql("INSERT INTO reset_cycle_b (id, a_id) VALUES (1, 1)")
        db.execute_sql("UPDATE reset_cycle_a SET b_id = 1")
        factories.make_staff()
        files = _files(db, ["staff_user", "audit_event"])
        reset_postgres(db)
        for table in ("reset_cycle_a", "reset_cycle_b", "staff_user", "audit_event"):
            assert db.execute_sql(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table
        assert _files(db, files) == files, "only the cycle is truncated"
    finally:
        db.execute_sql("DROP TABLE IF EXISTS reset_cycle_a, reset_cycle_b CASCADE")


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL reset; on SQLite each test copies a file")
def test_postgres_reset_truncates_everything_when_a_table_holds_many_rows(db):
    from tests import conftest
    factories.make_staff()
    Tag.insert_many([{"name": f"t{n}", "colour": "0"}
                     for n in range(conftest._PG_DELETE_AT_MOST + 1)]).execute()
    files = _files(db, ["tag", "staff_user"])
    reset_postgres(db)
    assert [table for table, count in _rows_per_table(db).items() if count] == []
    assert all(_files(db, files)[t] != files[t] for t in files), "one TRUNCATE, not DELETEs"
    assert Tag.create(name="first", colour="0").id == 1
    assert schema.pending() == []
