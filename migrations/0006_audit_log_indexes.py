"""Audit log filters: (action, id) and (actor_id, id) let the global log filter by action or
by staff member and read newest first from one index instead of scanning the whole trail."""


def up(migrator, db):
    migrator.migrate(
        migrator.add_index('audit_event', ('action', 'id')),
        migrator.add_index('audit_event', ('actor_id', 'id')),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('audit_event', 'audit_event_actor_id_id'),
        migrator.drop_index('audit_event', 'audit_event_action_id'),
    )
