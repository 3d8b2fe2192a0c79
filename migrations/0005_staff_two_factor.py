"""Staff two-factor sign-in and invitations: when 2FA was switched on, the last accepted TOTP
time step (a code works once), and a staff member as the subject of an emailed link."""
from peewee import DateTimeField, ForeignKeyField, IntegerField, Model


def up(migrator, db):
    class StaffUser(Model):  # frozen: only what the foreign key needs
        class Meta:
            database = db
            table_name = 'staff_user'

    migrator.migrate(
        migrator.add_column('staff_user', 'totp_enabled_at', DateTimeField(null=True)),
        migrator.add_column('staff_user', 'totp_last_step', IntegerField(null=True)),
        migrator.add_column('link_token', 'staff_id',
                            ForeignKeyField(StaffUser, field=StaffUser.id, null=True,
                                            on_delete='CASCADE')),
    )


def down(migrator, db):
    migrator.migrate(
        migrator.drop_index('link_token', 'link_token_staff_id'),
        migrator.drop_column('link_token', 'staff_id'),
        migrator.drop_column('staff_user', 'totp_last_step'),
        migrator.drop_column('staff_user', 'totp_enabled_at'),
    )
