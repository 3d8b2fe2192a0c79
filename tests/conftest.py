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

import pytest  # noqa: E402
from werkzeug.test import Client  # noqa: E402

import models  # noqa: E402
from services import schema  # noqa: E402

PG_URL = os.environ.get("TEST_DATABASE_URL")
REQUIRE_ALL = os.environ.get("CC_REQUIRE_ALL") == "1"


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


@pytest.fixture
def database_url(_template_db):
    """A fresh, migrated, empty database for this test; its URL."""
    if PG_URL:
        database = models.bind(PG_URL)
        database.connect(reuse_if_open=True)
        tables = [t for t in database.get_tables() if t != "schema_migration"]
        database.execute_sql("TRUNCATE %s RESTART IDENTITY CASCADE"
                             % ", ".join(f'"{t}"' for t in tables))
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


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on 127.0.0.1; ``.sink.messages`` holds what arrived."""
    from aiosmtpd.controller import Controller
    sink = _Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=_free_port())
    controller.start()
    controller.sink = sink
    controller.url = f"smtp://127.0.0.1:{controller.port}"
    yield controller
    controller.stop()
