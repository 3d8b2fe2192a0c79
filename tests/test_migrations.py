"""Migrations: an empty database migrated to head has exactly the schema the models declare,
and upgrading a database with data keeps the data (SQLite and PostgreSQL)."""
from click.testing import CliRunner
from playhouse.migrations import Runner
from playhouse.schema_diff import diff_models

import models
from services import schema
from tests import factories
from tests.conftest import PG_URL


def _snapshot(database):
    """Columns, indexes and foreign keys of every table, as comparable plain data."""
    shape = {}
    tables = [t for t in database.get_tables()
              if t != "schema_migration" and not t.startswith("sqlite_")  # ANALYZE's stats
              and not t.startswith("customer_search_")]  # the search index's FTS5 shadow tables
    for table in sorted(tables):
        shape[table] = {
            "columns": sorted((c.name, c.data_type.lower(), c.null, c.primary_key)
                              for c in database.get_columns(table)),
            "indexes": sorted((tuple(i.columns), i.unique) for i in database.get_indexes(table)),
            "foreign_keys": sorted((f.column, f.dest_table, f.dest_column)
                                   for f in database.get_foreign_keys(table)),
        }
    return shape


def _declared_schema(tmp_path):
    """The schema create_tables() makes straight from the models."""
    if PG_URL:
        database = models.db.obj
        database.execute_sql("DROP SCHEMA public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
        database.create_tables(models.ALL_MODELS)
        shape = _snapshot(database)
        database.execute_sql("DROP SCHEMA public CASCADE")  # leave the migrated schema behind
        database.execute_sql("CREATE SCHEMA public")
        schema.upgrade()
        return shape
    declared = models.make_database(f"sqlite:///{tmp_path / 'declared.db'}")
    with declared.bind_ctx(models.ALL_MODELS):
        declared.create_tables(models.ALL_MODELS)
        shape = _snapshot(declared)
    declared.close()
    return shape


def test_migrated_schema_is_exactly_the_declared_one(db, tmp_path):
    assert not diff_models(db, models.ALL_MODELS), "models and migrations disagree"
    migrated = _snapshot(db)
    assert set(migrated) == {m._meta.table_name for m in models.ALL_MODELS}
    assert migrated == _declared_schema(tmp_path)


def test_status_lists_every_migration_as_applied(db):
    rows = schema.status()
    assert [name for name, _ in rows] == [m.name for m in schema.runner().migrations()]
    assert all(applied is not None for _, applied in rows)
    assert schema.pending() == []


def test_upgrade_keeps_existing_data(db):
    runner = Runner(db, str(models.MIGRATIONS_DIR))
    names = [m.name for m in runner.migrations()]
    customer, _ = factories.make_customer(name="张伟", mobile="13800138000")
    factories.make_purchase(customer, amount="128.50")
    if len(names) > 1:
        # Step back over the newest migration and forward again, data in place.
        runner.down()
        assert schema.pending() == names[-1:]
    assert schema.upgrade() == names[-1:] if len(names) > 1 else schema.upgrade() == []
    kept = models.Customer.get(models.Customer.public_id == customer.public_id)
    assert kept.name == "张伟" and kept.primary_mobile == "+8613800138000"
    assert str(kept.purchases.get().amount) == "128.50"


def test_cli_db_status_and_upgrade(database_url, monkeypatch):
    from backoffice.cli import cli
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    result = runner.invoke(cli, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert "[x] 0001_initial" in result.output
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 0 and "up to date" in result.output
