"""Schema migrations: bring a database to the head of ``migrations/`` and report its state."""
from playhouse.migrations import Runner

import models


def runner():
    return Runner(models.db.obj, str(models.MIGRATIONS_DIR))


def upgrade():
    """Apply every pending migration in order; return the names applied."""
    return runner().up()


def status():
    """(name, applied_at or None) for every migration file and history row, in order."""
    return [(m.name, m.applied) for m in runner().status()]


def pending():
    return [name for name, applied in status() if applied is None]
