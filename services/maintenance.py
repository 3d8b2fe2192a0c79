"""Database upkeep: fresh planner statistics, so list pages keep their fast plans as data grows."""
import threading

from huey import crontab

import models
from services.jobs import huey

MANY_CARDS = 1000  # from here on, a plan along the wrong index costs more than an ANALYZE
_STARTING = threading.Lock()  # each worker thread starts with the hook below: one ANALYZE


def analyze():
    """Refresh the query planner's statistics (SQLite ANALYZE / PostgreSQL ANALYZE)."""
    models.db.execute_sql("ANALYZE")


@huey.periodic_task(crontab(hour="3", minute="30"))
def nightly_analyze():
    # PostgreSQL's autovacuum analyzes by itself; SQLite never does, and without statistics
    # its planner can pick the erased_at index for the card list and scan every row.
    analyze()


def statistics_missing():
    """SQLite: the card table holds many cards yet the planner has no statistics for it (a
    copied database, a bulk load, the first day after an import). PostgreSQL: never (its
    autovacuum analyzes)."""
    if models.is_postgres():
        return False
    if models.db.execute_sql("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() \
            and models.db.execute_sql("SELECT 1 FROM sqlite_stat1 WHERE tbl = 'customer'"
                                      " LIMIT 1").fetchone():
        return False
    many = models.db.execute_sql(f"SELECT COUNT(*) FROM (SELECT 1 FROM customer"
                                 f" LIMIT {MANY_CARDS})").fetchone()[0]
    return many >= MANY_CARDS


@huey.on_startup()
def analyze_if_never_analyzed():
    """When the job worker starts, statistics for a database that grew without them rather
    than at night: without them SQLite reads a card list filtered on a rare value along the
    wrong index (100k cards, a city nobody lives in: 80 ms instead of under 1)."""
    with _STARTING:
        models.db.connect(reuse_if_open=True)
        try:
            if statistics_missing():
                analyze()
        finally:
            models.db.close()
