"""For tests that look at the SQL a piece of code sends: each statement with its parameters
(peewee logs them on its logger at DEBUG), every line peewee logs, and SQLite's plan of one."""
import logging
from contextlib import contextmanager

import models


@contextmanager
def _peewee_log(read):
    """Inside the block, the list of ``read(record)`` of each record peewee logs (None: left
    out)."""
    seen = []

    class Catch(logging.Handler):
        def emit(self, record):
            item = read(record)
            if item is not None:
                seen.append(item)

    logger = logging.getLogger("peewee")
    handler, level = Catch(logging.DEBUG), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield seen
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def statements():
    """Inside the block, the list of (sql, params) of each statement peewee sends, in order."""
    return _peewee_log(lambda record: record.msg if isinstance(record.msg, tuple) else None)


def messages():
    """Inside the block, every line peewee logs as text: its statements, and the pool's
    "returning the connection" line too."""
    return _peewee_log(lambda record: record.getMessage())


def sqlite_plan(sql, params=()):
    """SQLite's EXPLAIN QUERY PLAN of a statement, its steps joined by " / "."""
    return " / ".join(row[3] for row in models.db.execute_sql("EXPLAIN QUERY PLAN " + sql,
                                                              params))
