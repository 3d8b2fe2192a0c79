"""Schema migrations: bring a database to the head of ``migrations/`` and report its state."""
from playhouse.migrations import Runner

import models
from services import maintenance


def runner():
    return Runner(models.db.obj, str(models.MIGRATIONS_DIR))


def upgrade():
    """Apply every pending migration in order, then refresh planner statistics; return the
    names applied."""
    applied = runner().up()
    if applied:
        maintenance.analyze()
    return applied


def status():
    """(name, applied_at or None) for every migration file and history row, in order."""
    return [(m.name, m.applied) for m in runner().status()]


def pending():
    return [name for name, applied in status() if applied is None]
