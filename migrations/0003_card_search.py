"""Card search and saved views: the search index (SQLite FTS5 trigram table; PostgreSQL pg_trgm
and array GIN indexes), the triggers that keep it right whoever writes a card or a contact
point, a backfill of the existing cards, and SavedView (a staff member's named list filters)."""
from peewee import CharField, DateTimeField, ForeignKeyField, JSONField, Model

import models
from services import search


def _saved_view(db):
    """SavedView as this migration creates it (frozen: later model changes need their own)."""
    class StaffUser(Model):
        class Meta:
            database = db
            table_name = "staff_user"

    class SavedView(Model):
        staff = ForeignKeyField(StaffUser, backref="saved_views", on_delete="CASCADE")
        name = CharField(max_length=100)
        query = JSONField()
        created_at = DateTimeField()

        class Meta:
            database = db
            table_name = "saved_view"
            indexes = ((("staff", "name"), True),)
    return SavedView


def up(migrator, db):
    db.create_tables([_saved_view(db)])
    for statement in models.search_ddl(db):
        db.execute_sql(statement)
    search.rebuild()  # backfill the cards already there, in bulk


def down(migrator, db):
    for name, table in models.SEARCH_TRIGGERS["postgres" if models.is_postgres() else "sqlite"]:
        db.execute_sql(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if table else ""))
    db.execute_sql("DROP TABLE IF EXISTS customer_search")
    migrator.migrate(migrator.drop_table('saved_view'))
