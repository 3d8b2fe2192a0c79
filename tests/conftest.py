"""Test fixtures: a fresh database per test (SQLite file, or PostgreSQL from TEST_DATABASE_URL),
the combined app with a cookie-keeping client, and sign-in helpers per role.

CC_REQUIRE_ALL=1 (set by .ci/run) turns "skipped: PostgreSQL/Chromium not available" into a
failure, so CI cannot pass by skipping.
"""
import os
import re
import shutil
import tempfile
from pathlib import Path

_TMP = Path(tempfile.mkdtemp(prefix="cards-tests-"))
os.environ["CC_INSTANCE_DIR"] = str(_TMP / "instance")
os.environ["HUEY_IMMEDIATE"] = "1"
os.environ.setdefault("SECRET_KEY", "test-secret-key")
os.environ.pop("DATABASE_URL", None)
os.environ.pop("MAIL_URL", None)

import peewee  # noqa: E402
import pytest  # noqa: E402
from werkzeug import security  # noqa: E402
from werkzeug.test import Client  # noqa: E402

import models  # noqa: E402
from services import schema  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_ALL = os.environ.get("CC_REQUIRE_ALL") == "1"

# Password hashing. The app hashes with werkzeug's default, scrypt at n=2**15: 0.1-0.2 s per
# hash and per check here, paid by every user a test makes and every sign-in. The tests run the
# same code with the same algorithm at a tiny work factor (set here, before any app module
# computes a hash at import). tests/test_password_hashing.py checks that with werkzeug's own
# default the app stores production-strength hashes, and that no app code names a method of its
# own.
PRODUCTION_HASH_DEFAULTS = security.generate_password_hash.__defaults__
TEST_HASH_METHOD = "scrypt:256:8:1"  # the smallest n with margin in the memory check
assert PRODUCTION_HASH_DEFAULTS[0] == "scrypt", (
    f"werkzeug's default password hash is now {PRODUCTION_HASH_DEFAULTS[0]!r}: update "
    "TEST_HASH_METHOD and the production-parameter test")
security.generate_password_hash.__defaults__ = (TEST_HASH_METHOD, *PRODUCTION_HASH_DEFAULTS[1:])


def require(condition, reason):
    """Skip when a service this test needs is missing, or fail under CC_REQUIRE_ALL."""
    if condition:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required but unavailable (CC_REQUIRE_ALL=1): {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def _template_db():
    """Migrate once per session: a SQLite template file to copy, or the PostgreSQL schema."""
    if PG_URL:
        database = models.bind(PG_URL)
        database.connect(reuse_if_open=True)
        database.execute_sql("DROP SCHEMA public CASCADE")
        database.execute_sql("CREATE SCHEMA public")
        schema.upgrade()
        database.close()
        return PG_URL
    path = _TMP / "template.db"
    models.bind(f"sqlite:///{path}")
    schema.upgrade()
    models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    models.db.close()
    return path


_counter = iter(range(10**9))

# The PostgreSQL reset before each test. TRUNCATE ... RESTART IDENTITY of all ~40 tables gave
# every table and index new files each time: ~50 ms per test on a quiet machine, ~600 ms on a
# busy one, even with nothing to remove. Instead:
# * find the tables that have rows: one query, an EXISTS probe per table;
# * DELETE from those only, tables that reference others first (a cycle of foreign keys between
#   them falls back to TRUNCATE ... CASCADE; a table with many rows, to the TRUNCATE of all);
# * probe again until none has rows (triggers write too: deleting a contact re-indexes its
#   card), failing loudly if a table will not empty;
# * restart the tables' sequences that were used (``pg_sequence_last_value`` is NULL for unused
#   ones), so ids start at 1 in every test on PostgreSQL as on SQLite, which copies the template
#   per test. The migration history keeps its rows and its sequence.
# The table list is read each time (cheap), so tests that drop and re-migrate the schema stay
# covered. Every statement's text repeats from test to test, so psycopg prepares it once per
# pooled connection: an empty database costs ~2 ms, a typical test's rows 10-15 ms.
_PG_TABLES = ("SELECT oid::regclass::text FROM pg_class WHERE relnamespace = 'public'::regnamespace"
              " AND relkind IN ('r', 'p') AND relname <> 'schema_migration' ORDER BY 1")
_PG_FOREIGN_KEYS = ("SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint"
                    " WHERE contype = 'f' AND connamespace = 'public'::regnamespace"
                    " AND conrelid <> confrelid")
# The sequences owned by the reset tables' columns (what RESTART IDENTITY restarts; never the
# migration history's), where used since their last restart.
_PG_RESTART_SEQUENCES = (
    "SELECT setval(s.seqrelid, s.seqstart, false) FROM pg_sequence s"
    " JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid"
    " AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')"
    " JOIN pg_class t ON t.oid = d.refobjid"
    " WHERE t.relnamespace = 'public'::regnamespace AND t.relname <> 'schema_migration'"
    " AND pg_sequence_last_value(s.seqrelid) IS NOT NULL")


# Above this many rows in a table, deleting them (and running their triggers) costs more than the
# TRUNCATE of everything: 0.3-3 s after the tests that seed the demo business.
_PG_DELETE_AT_MOST = 1000


def reset_postgres(database):
    """Empty every table but the migration history and restart the sequences that were used."""
    tables = [name for name, in database.execute_sql(_PG_TABLES)]
    if not tables:
        return
    try:
        emptied = _delete_rows(database, tables)
    except peewee.DatabaseError:  # say, a trigger that refuses deletes
        emptied = False
    if not emptied:  # the slow, sure way
        database.execute_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def _delete_rows(database, tables):
    """DELETE what the tables hold; False (and nothing done) when one holds too much for it."""
    probe = " UNION ALL ".join(
        f"SELECT {n}, (SELECT count(*) FROM (SELECT FROM {table} LIMIT {_PG_DELETE_AT_MOST + 1})"
        f" AS r) > {_PG_DELETE_AT_MOST} WHERE EXISTS (SELECT FROM {table})"
        for n, table in enumerate(tables))
    with database.atomic():
        for _ in range(5):
            found = database.execute_sql(probe).fetchall()
            if any(big for _, big in found):
                return False
            dirty = {tables[n] for n, _ in found}
            if not dirty:
                break
            referenced_by = {}
            for child, parent in database.execute_sql(_PG_FOREIGN_KEYS):
                referenced_by.setdefault(parent, set()).add(child)
            while dirty:
                ready = {t for t in dirty if not referenced_by.get(t, set()) & dirty}
                if not ready:
                    database.execute_sql(f"TRUNCATE {', '.join(sorted(dirty))} CASCADE")
                    break
                for table in sorted(ready):
                    database.execute_sql(f"DELETE FROM {table}")
                dirty -= ready
        else:
            raise AssertionError(f"the test database reset left rows in {sorted(dirty)}")
        database.execute_sql(_PG_RESTART_SEQUENCES)
    return True


@pytest.fixture
def database_url(_template_db):
    """A fresh, migrated, empty database for this test; its URL."""
    if PG_URL:
        database = models.bind(PG_URL)
        database.connect(reuse_if_open=True)
        reset_postgres(database)
        database.close()
        yield PG_URL
        return
    path = _TMP / f"test-{next(_counter)}.db"
    shutil.copyfile(_template_db, path)
    url = f"sqlite:///{path}"
    yield url
    if not models.db.is_closed():
        models.db.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@pytest.fixture
def db(database_url):
    """The bound database, connected for direct use in the test body."""
    database = models.bind(database_url)
    database.connect(reuse_if_open=True)
    yield database
    if not database.is_closed():
        database.close()


@pytest.fixture
def settings(database_url):
    """Overrides for the app settings; a test may change them before using ``app``."""
    return {"DATABASE_URL": database_url, "TESTING": True, "SECRET_KEY": "test-secret-key",
            "RATELIMIT_STORAGE_URI": "memory://", "MAIL_URL": "outbox"}


@pytest.fixture
def app(settings, db):
    import wsgi
    return wsgi.create_app(settings)


@pytest.fixture
def client(app):
    return Client(app)


CSRF_RE = re.compile(r'name="csrf-token" content="([^"]+)"')


def csrf_from(client, path, **kwargs):
    """GET ``path`` and return the CSRF token its page carries."""
    response = client.get(path, **kwargs)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token on {path} ({response.status_code})"
    return match.group(1)


def post_form(client, path, data, token_from=None, **kwargs):
    """POST a form as a browser would: with the CSRF token of the page it is on. Extra
    arguments (``headers=``) go to both requests."""
    token = csrf_from(client, token_from or path, **kwargs)
    return client.post(path, data={"csrf_token": token, **data}, **kwargs)


def login(client, email, password, prefix=""):
    """Sign in through the real form; ``prefix`` is "/staff" for the back office."""
    return post_form(client, f"{prefix}/login", {"email": email, "password": password})


@pytest.fixture
def staff_login(client, db):
    """Sign in as a new staff member of ``role``; returns the StaffUser."""
    from tests import factories

    def _login(role="agent", **kwargs):
        staff = factories.make_staff(role=role, **kwargs)
        response = login(client, staff.email, factories.PASSWORD, "/staff")
        if response.headers.get("Location") == "/staff/login/code":  # 2FA on: the second step
            response = post_form(client, "/staff/login/code",
                                 {"code": factories.totp_code(staff)})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return staff
    return _login


@pytest.fixture
def customer_login(client, db):
    """Sign in to the portal as a new customer; returns (customer, account)."""
    from tests import factories

    def _login(**kwargs):
        customer, account = factories.make_customer(**kwargs)
        response = login(client, account.email, factories.PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return customer, account
    return _login


class _Sink:
    """Collects every message the SMTP server accepts; can answer 4xx/5xx on demand."""

    def __init__(self):
        self.messages = []
        self.reply = None  # e.g. "451 4.3.0 try again later" for the next DATA

    async def handle_DATA(self, server, session, envelope):
        if self.reply:
            reply, self.reply = self.reply, None
            return reply
        import email
        from email import policy
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def _free_port():
    import socket
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_smtp(sink):
    """Start a real SMTP server (aiosmtpd) on 127.0.0.1 handing mail to ``sink``; the started
    controller, with ``.sink`` and ``.url`` (stop it with ``.stop()``)."""
    from aiosmtpd.controller import Controller
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    controller.sink = sink
    controller.url = f"smtp://127.0.0.1:{controller.port}"
    return controller


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; ``.sink.messages`` holds what arrived."""
    controller = serve_smtp(_Sink())
    yield controller
    controller.stop()
