"""Background jobs (huey): campaign sending, mail delivery, recalculations.

The queue is chosen by ``HUEY_URL``: a SQLite file (embedded default, consumed inside
``cards serve``), Redis, or PostgreSQL (huey's SqlHuey). ``HUEY_IMMEDIATE=1`` runs jobs inline
(tests). Jobs are enqueued only after the transaction that asked for them commits, and each job
is idempotent.
"""
import os
from urllib.parse import urlparse

from huey import MemoryHuey, RedisHuey, SqliteHuey

import config
import models


def make_huey(url, immediate=False):
    scheme = urlparse(url).scheme
    if immediate:
        return MemoryHuey("cards", immediate=True)
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        return SqliteHuey("cards", filename=path)
    if scheme in ("redis", "rediss"):
        return RedisHuey("cards", url=url)
    if scheme in ("postgres", "postgresql"):
        from huey.contrib.sql_huey import SqlHuey
        return SqlHuey("cards", database=url)
    raise ValueError(f"HUEY_URL must be sqlite:///, redis:// or postgres://, not {scheme!r}")


_settings = config.load()
huey = make_huey(_settings["HUEY_URL"], _settings["HUEY_IMMEDIATE"])


def enqueue(task, *args, **kwargs):
    """Queue ``task(*args)`` once the current transaction commits (at once outside one)."""
    models.on_commit(lambda: task(*args, **kwargs))


@huey.on_startup()
def _bind_database():
    # A separate consumer process (production) binds the database itself.
    if models.db.obj is None:
        models.bind(config.load()["DATABASE_URL"])


@huey.pre_execute()
def _open_connection(task):
    models.db.connect(reuse_if_open=True)


@huey.post_execute()
def _close_connection(task, task_value, exc):
    if not models.db.is_closed() and not models.db.in_transaction():
        models.db.close()
