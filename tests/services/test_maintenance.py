"""Planner statistics: a SQLite database that grew without them (a copy, a bulk load) gets
them when the job worker starts, not only at night; PostgreSQL's autovacuum keeps its own."""
import pytest

import models
from models import Customer
from services import maintenance


def _stat_rows():
    if not models.db.execute_sql(
            "SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
        return 0
    return models.db.execute_sql(
        "SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'customer'").fetchone()[0]


def test_a_database_grown_without_statistics_is_analyzed_when_the_worker_starts(db):
    if models.is_postgres():
        assert maintenance.statistics_missing() is False
        pytest.skip("PostgreSQL's autovacuum analyzes; the rest is SQLite's")
    models.db.execute_sql("DELETE FROM sqlite_stat1") if _stat_rows() else None
    Customer.insert_many([{"name": f"客户{n}", "public_id": f"stat{n:05d}", "city": f"城{n % 40}"}
                          for n in range(maintenance.MANY_CARDS - 1)]).execute()
    assert not maintenance.statistics_missing()  # few cards: no ANALYZE for them
    Customer.create(name="再一位", public_id="stat-last")
    assert maintenance.statistics_missing()
    maintenance.analyze_if_never_analyzed()
    models.db.connect(reuse_if_open=True)
    assert _stat_rows() > 0 and not maintenance.statistics_missing()
    plan = " / ".join(row[3] for row in models.db.execute_sql(
        "EXPLAIN QUERY PLAN SELECT id FROM customer WHERE erased_at IS NULL AND city = ?"
        " ORDER BY updated_at DESC LIMIT 50", ["上海"]))
    assert "customer_city" in plan, plan  # a rare city: its index, not a walk of every card
