"""Drop campaign_recipient.clicked_at, responded_at and converted_at: nothing reads them
(campaign results are computed by query in services/campaign_results.py: survey answers from
the invitations, conversions from purchases). On SQLite >= 3.35 (and PostgreSQL) a column
drop is one ALTER TABLE, the table is not copied; stepping back adds them again, empty."""
from peewee import DateTimeField

COLUMNS = ('clicked_at', 'responded_at', 'converted_at')


def up(migrator, db):
    migrator.migrate(*(migrator.drop_column('campaign_recipient', name) for name in COLUMNS))


def down(migrator, db):
    migrator.migrate(*(migrator.add_column('campaign_recipient', name,
                                           DateTimeField(null=True)) for name in COLUMNS))
