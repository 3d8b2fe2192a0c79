"""For tests that look at the SQL a piece of code sends: each statement with its parameters
(peewee logs them on its logger at DEBUG) and SQLite's plan of one."""
import logging
from contextlib import contextmanager

import models


@contextmanager
def statements():
    """Inside the block, the list of (sql, params) of each statement peewee sends, in order."""
    seen = []

    class Catch(logging.Handler):
        def emit(self, record):
            if isinstance(record.msg, tuple):
                seen.append(record.msg)

    logger = logging.getLogger("peewee")
    handler, level = Catch(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def sqlite_plan(sql, params=()):
    """SQLite's EXPLAIN QUERY PLAN of a statement, its steps joined by " / "."""
    return " / ".join(row[3] for row in models.db.execute_sql("EXPLAIN QUERY PLAN " + sql,
                                                              params))
