"""Staff TOTP secrets are encrypted at rest: the column (and on SQLite the database file) never
holds the base32 secret, sign-in with a code still works, `cards rotate-keys` re-encrypts the
secrets under the new key, and migration 0007 encrypts secrets stored in clear before it (and
decrypts them again when stepped back) without locking anyone out."""
from pathlib import Path

import pyotp
import pytest
from click.testing import CliRunner
from playhouse.migrations import Runner

import models
from backoffice.cli import cli
from models import StaffUser
from services import crypto, runtime, schema, totp
from tests import factories
from tests.conftest import PG_URL, login, post_form

MIGRATION = "0007_totp_secret_encrypted"
OLD, NEW = crypto.new_key(), crypto.new_key()


@pytest.fixture
def keys(app, monkeypatch):
    """Set FIELD_ENCRYPTION_KEYS for the app, the services and the CLI."""
    def use(value):
        monkeypatch.setitem(runtime.settings, "FIELD_ENCRYPTION_KEYS", value)
        monkeypatch.setenv("FIELD_ENCRYPTION_KEYS", value)
    return use


def _raw(staff):
    """The column as the database holds it, past the model's decryption."""
    return models.db.execute_sql("SELECT totp_secret FROM staff_user WHERE id = "
                                 + models.db.param, (staff.id,)).fetchone()[0]


def _sign_in(client, staff, code=None):
    """Both sign-in steps through the forms; the Location the second one answers with."""
    response = login(client, staff.email, factories.PASSWORD, "/staff")
    assert response.headers["Location"] == "/staff/login/code"
    response = post_form(client, "/staff/login/code",
                         {"code": code or factories.totp_code(staff)})
    return response.headers.get("Location")


def _file_bytes(database_url):
    path = Path(database_url[len("sqlite:///"):])
    return b"".join(Path(f"{path}{suffix}").read_bytes()
                    for suffix in ("", "-wal") if Path(f"{path}{suffix}").exists())


def test_enrolled_secret_is_stored_only_encrypted_and_codes_still_sign_in(
        client, db, database_url):
    staff = factories.make_staff(role="agent", two_factor=False)
    totp.begin_enrolment(staff, factories.SYSTEM, password=factories.PASSWORD)
    secret = StaffUser.get_by_id(staff.id).totp_secret
    assert len(secret) == 32 and pyotp.TOTP(secret).now()
    totp.confirm_enrolment(staff, factories.totp_code(staff), factories.SYSTEM)

    stored = _raw(staff)
    assert secret not in stored and stored.startswith("gAAAAA")
    assert crypto.decrypt(stored) == secret
    if not PG_URL:
        models.db.close()  # flush nothing pending; the file and its WAL are what a thief gets
        assert secret.encode() not in _file_bytes(database_url)
        models.db.connect(reuse_if_open=True)
    assert _sign_in(client, staff) == "/staff/"


def test_a_wrong_code_is_still_refused(client, db):
    staff = factories.make_staff(role="agent", two_factor=True)
    secret = StaffUser.get_by_id(staff.id).totp_secret
    wrong = next(c for c in ("000000", "111111") if c != pyotp.TOTP(secret).now())
    login(client, staff.email, factories.PASSWORD, "/staff")
    response = post_form(client, "/staff/login/code", {"code": wrong})
    assert response.status_code == 200 and "Location" not in response.headers
    assert models.UserSession.select().count() == 0


def test_rotate_keys_re_encrypts_secrets_and_2fa_keeps_working(keys, client, db,
                                                               database_url):
    keys(OLD)
    admin = factories.make_staff(role="admin")
    agent = factories.make_staff(role="agent", two_factor=False)  # no secret: untouched
    before = _raw(admin)
    secret = StaffUser.get_by_id(admin.id).totp_secret

    keys(f"{NEW},{OLD}")
    result = CliRunner().invoke(cli, ["rotate-keys", "--batch", "1"],
                                env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    assert "1 staff 2FA secrets" in result.output

    keys(NEW)  # the old key is gone: the secret must open under the new one alone
    after = _raw(admin)
    assert after != before and secret not in after
    assert crypto.decrypt(after) == secret
    assert _raw(agent) is None
    assert _sign_in(client, admin) == "/staff/"


def _step_back_over_0007(database):
    runner = Runner(database, str(models.MIGRATIONS_DIR))
    while MIGRATION not in schema.pending():
        runner.down()


def test_migration_encrypts_a_clear_secret_and_that_admin_still_signs_in(app, client, db):
    admin = factories.make_staff(role="admin")
    secret = StaffUser.get_by_id(admin.id).totp_secret
    customer, _ = factories.make_customer(name="张伟")

    _step_back_over_0007(db)
    assert _raw(admin) == secret  # stepped back: the clear secret a 0006 database holds
    assert schema.upgrade()[0] == MIGRATION
    stored = _raw(admin)
    assert secret not in stored and crypto.decrypt(stored) == secret
    assert models.Customer.get_by_id(customer.id).name == "张伟"

    assert _sign_in(client, admin) == "/staff/"


def test_migration_of_a_0006_database_with_a_clear_secret(app, client, db):
    """The real upgrade path: a row written in clear by the old code, then migrated."""
    admin = factories.make_staff(role="admin")
    secret = pyotp.random_base32()
    _step_back_over_0007(db)
    models.db.execute_sql("UPDATE staff_user SET totp_secret = " + models.db.param
                          + " WHERE id = " + models.db.param, (secret, admin.id))
    schema.upgrade()
    assert crypto.decrypt(_raw(admin)) == secret
    code = pyotp.TOTP(secret).now()
    assert _sign_in(client, admin, code=code) == "/staff/"
