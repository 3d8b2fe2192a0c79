"""Staff TOTP secrets encrypted at rest: the column widens from 64 characters to 255 (a Fernet
token of a 32-character secret is 140) and every secret already stored in clear is encrypted
under the newest key of FIELD_ENCRYPTION_KEYS; stepping back decrypts them again.

The column is swapped (add, copy, drop, rename) rather than retyped: on SQLite a retype copies
the whole table, and dropping staff_user with foreign keys on would cascade to its sessions."""
import re

from peewee import CharField

from services import crypto

BASE32 = re.compile(r"[A-Z2-7]+=*")  # what pyotp.random_base32() gives; tokens are urlsafe b64


def _swap(migrator, db, width, convert):
    migrator.migrate(migrator.add_column('staff_user', 'totp_secret_new',
                                         CharField(max_length=width, null=True)))
    rows = db.execute_sql('SELECT id, totp_secret FROM staff_user '
                          'WHERE totp_secret IS NOT NULL').fetchall()
    for staff_id, stored in rows:
        db.execute_sql('UPDATE staff_user SET totp_secret_new = %s WHERE id = %s'
                       .replace('%s', db.param), (convert(stored), staff_id))
    migrator.migrate(
        migrator.drop_column('staff_user', 'totp_secret'),
        migrator.rename_column('staff_user', 'totp_secret_new', 'totp_secret'),
    )


def _encrypted(stored):
    return crypto.encrypt(stored) if BASE32.fullmatch(stored) else stored


def _clear(stored):
    return stored if BASE32.fullmatch(stored) else crypto.decrypt(stored)


def up(migrator, db):
    _swap(migrator, db, 255, _encrypted)


def down(migrator, db):
    _swap(migrator, db, 64, _clear)
