"""Campaign sending: open tracking on request, the sending worker's lease (a restarted worker
resumes a campaign another one left), and per recipient the tier it had when queued (results by
tier) and when a delivery that got a 4xx may be tried again."""
from peewee import BooleanField, DateTimeField, ForeignKeyField, Model, TextField

import models


def up(migrator, db):
    class Tier(Model):  # frozen: only what the foreign key needs
        class Meta:
            database = db
            table_name = 'tier'

    migrator.migrate(
        migrator.add_column('campaign', 'track_opens', BooleanField(default=False)),
        migrator.add_column('campaign', 'updated_at', DateTimeField(default=models.utcnow)),
        migrator.add_column('campaign', 'lease_until', DateTimeField(null=True)),
        migrator.add_column('campaign', 'last_error', TextField(null=True)),
        migrator.add_column('campaign_recipient', 'tier_id',
                            ForeignKeyField(Tier, field=Tier.id, null=True,
                                            on_delete='SET NULL')),
        migrator.add_column('campaign_recipient', 'next_attempt_at', DateTimeField(null=True)),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_column('campaign_recipient', 'next_attempt_at'),
        migrator.drop_index('campaign_recipient', 'campaign_recipient_tier_id'),
        migrator.drop_column('campaign_recipient', 'tier_id'),
        migrator.drop_column('campaign', 'last_error'),
        migrator.drop_column('campaign', 'lease_until'),
        migrator.drop_column('campaign', 'updated_at'),
        migrator.drop_column('campaign', 'track_opens'),
    )
