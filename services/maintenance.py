"""Database upkeep: fresh planner statistics, so list pages keep their fast plans as data grows."""
from huey import crontab

import models
from services.jobs import huey


def analyze():
    """Refresh the query planner's statistics (SQLite ANALYZE / PostgreSQL ANALYZE)."""
    models.db.execute_sql("ANALYZE")


@huey.periodic_task(crontab(hour="3", minute="30"))
def nightly_analyze():
    # PostgreSQL's autovacuum analyzes by itself; SQLite never does, and without statistics
    # its planner can pick the erased_at index for the card list and scan every row.
    analyze()
