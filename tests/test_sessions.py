"""Sign-in and server-side sessions, for staff and customers, through the real forms."""
import datetime

import pytest

import models
from models import UserSession
from services import accounts
from services.actors import Actor
from tests import factories
from tests.conftest import csrf_from, login, post_form


def _cookie(client, name):
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def test_staff_sign_in_and_out(client, db):
    staff = factories.make_staff(role="agent")
    assert client.get("/staff/cards/").headers["Location"].startswith("/staff/login?next=")
    response = login(client, staff.email, factories.PASSWORD, "/staff")
    assert response.headers["Location"] == "/staff/"
    assert client.get("/staff/cards/").status_code == 200
    assert UserSession.select().where(UserSession.staff == staff).count() == 1
    response = post_form(client, "/staff/logout", {}, token_from="/staff/")
    assert response.headers["Location"] == "/staff/login"
    assert UserSession.select().count() == 0
    assert client.get("/staff/cards/").status_code == 302


def test_cookie_copied_before_logout_is_dead_after_it(app, db):
    from werkzeug.test import Client
    staff = factories.make_staff()
    browser, thief = Client(app), Client(app)
    login(browser, staff.email, factories.PASSWORD, "/staff")
    stolen = _cookie(browser, "cc_staff")
    thief.set_cookie("cc_staff", stolen)
    assert thief.get("/staff/cards/").status_code == 200
    post_form(browser, "/staff/logout", {}, token_from="/staff/")
    assert thief.get("/staff/cards/").headers["Location"].startswith("/staff/login")


def test_session_id_changes_at_login(client, db):
    staff = factories.make_staff()
    csrf_from(client, "/staff/login")
    before = _cookie(client, "cc_staff")
    login(client, staff.email, factories.PASSWORD, "/staff")
    first = _cookie(client, "cc_staff")
    assert first and first != before
    login(client, staff.email, factories.PASSWORD, "/staff")
    assert _cookie(client, "cc_staff") != first
    assert UserSession.select().count() == 1  # the earlier session in this browser ended


@pytest.mark.parametrize("prefix", ["", "/staff"])
def test_unknown_email_and_wrong_password_get_the_same_answer(client, db, prefix):
    factories.make_customer(email="known@example.com")
    factories.make_staff(email="known@example.com")
    wrong = login(client, "known@example.com", "not-the-password", prefix)
    unknown = login(client, "nobody@example.com", "not-the-password", prefix)
    assert wrong.status_code == unknown.status_code == 200

    def _without_tokens(response):
        import re
        text = response.get_data(as_text=True)
        text = re.sub(r'(name="csrf-token" content=")[^"]+', r"\1", text)
        text = re.sub(r'(name="csrf_token"[^>]*?value=")[^"]+', r"\1", text)
        return text.replace("known@example.com", "X").replace("nobody@example.com", "X")
    assert _without_tokens(wrong) == _without_tokens(unknown)
    assert "The email or password is not correct." in wrong.get_data(as_text=True) or \
        "邮箱或密码不正确" in wrong.get_data(as_text=True)


def test_idle_and_absolute_timeouts(client, db):
    staff = factories.make_staff()
    login(client, staff.email, factories.PASSWORD, "/staff")
    row = UserSession.get()
    row.last_seen_at = models.utcnow() - datetime.timedelta(minutes=31)
    row.save()
    assert client.get("/staff/cards/").status_code == 302
    assert UserSession.select().count() == 0

    login(client, staff.email, factories.PASSWORD, "/staff")
    row = UserSession.get()
    row.created_at = models.utcnow() - datetime.timedelta(hours=13)
    row.save()
    assert client.get("/staff/cards/").status_code == 302


def test_password_change_ends_other_sessions_but_not_this_one(app, db):
    from werkzeug.test import Client
    staff = factories.make_staff()
    here, elsewhere = Client(app), Client(app)
    login(here, staff.email, factories.PASSWORD, "/staff")
    login(elsewhere, staff.email, factories.PASSWORD, "/staff")
    response = post_form(here, "/staff/account/password", {
        "current_password": factories.PASSWORD, "new_password": "a-new-password-123",
        "confirm": "a-new-password-123"})
    assert response.headers["Location"] == "/staff/"
    assert here.get("/staff/cards/").status_code == 200
    assert elsewhere.get("/staff/cards/").status_code == 302
    assert accounts.authenticate_staff(staff.email, "a-new-password-123") is not None


def test_password_change_errors_stay_at_the_field(client, db):
    staff = factories.make_staff()
    login(client, staff.email, factories.PASSWORD, "/staff")
    page = post_form(client, "/staff/account/password", {
        "current_password": "wrong-password", "new_password": "a-new-password-123",
        "confirm": "a-new-password-123"}).get_data(as_text=True)
    assert 'id="current_password"' in page and "is-invalid" in page


def test_deactivation_ends_sessions_at_once(client, db):
    admin = factories.make_staff(role="admin")
    staff = factories.make_staff()
    login(client, staff.email, factories.PASSWORD, "/staff")
    accounts.deactivate_staff(staff, Actor.for_staff(admin))
    assert client.get("/staff/cards/").status_code == 302
    assert UserSession.select().count() == 0
    assert login(client, staff.email, factories.PASSWORD, "/staff").status_code == 200


def test_last_admin_cannot_be_deactivated(db):
    from services import DomainError
    admin = factories.make_staff(role="admin")
    with pytest.raises(DomainError):
        accounts.deactivate_staff(admin, Actor.for_staff(admin))


@pytest.mark.parametrize("target,expected", [
    ("/staff/cards/", "/staff/cards/"),
    ("https://evil.example.com/", "/staff/"),
    ("//evil.example.com/", "/staff/"),
    ("/\\evil.example.com", "/staff/"),
    ("javascript:alert(1)", "/staff/"),
    ("/elsewhere", "/staff/"),  # outside the back office
])
def test_next_only_goes_to_relative_paths_inside_the_app(client, db, target, expected):
    staff = factories.make_staff()
    token = csrf_from(client, "/staff/login")
    response = client.post("/staff/login", data={
        "csrf_token": token, "email": staff.email, "password": factories.PASSWORD,
        "next": target})
    assert response.headers["Location"] == expected


def test_customer_session_does_not_open_the_back_office(client, db):
    customer, account = factories.make_customer()
    login(client, account.email, factories.PASSWORD)
    assert client.get("/").status_code == 200
    token = _cookie(client, "cc_portal")
    client.set_cookie("cc_staff", token)
    assert client.get("/staff/cards/").status_code == 302


def test_customer_sign_in_and_out(client, db):
    customer, account = factories.make_customer(name="王芳", mobile="+86 138 0013 8000")
    assert client.get("/").headers["Location"] == "/login?next=/"
    assert login(client, "  " + account.email.upper(), factories.PASSWORD).headers[
        "Location"] == "/"
    page = client.get("/").get_data(as_text=True)
    assert "王芳" in page and "+86 138 0013 8000" in page
    post_form(client, "/logout", {}, token_from="/")
    assert client.get("/").status_code == 302


def test_login_is_rate_limited(client, db):
    factories.make_staff(email="target@example.com")
    codes = [login(client, "target@example.com", f"guess-{i}", "/staff").status_code
             for i in range(12)]
    assert codes[:10] == [200] * 10
    assert codes[10:] == [429, 429]
    # even the right password is refused while the limit holds
    assert login(client, "target@example.com", factories.PASSWORD, "/staff").status_code == 429


def test_login_form_requires_csrf(client, db):
    staff = factories.make_staff()
    response = client.post("/staff/login", data={"email": staff.email,
                                                 "password": factories.PASSWORD})
    assert response.status_code == 400
    assert UserSession.select().count() == 0


def test_login_limit_holds_across_workers_with_a_shared_store(settings, db):
    """Two app instances (two workers) count attempts in one Redis."""
    import os
    import secrets

    from werkzeug.test import Client

    import wsgi
    from tests.conftest import CSRF_RE, require
    redis_url = os.environ.get("REDIS_URL")
    require(redis_url, "REDIS_URL not set: the shared rate-limit store is Redis")
    settings.update(RATELIMIT_STORAGE_URI=redis_url, LOGIN_RATE_LIMIT="3 per minute")
    workers = [Client(wsgi.create_app(settings)) for _ in range(2)]
    ip = f"198.51.100.{secrets.randbelow(250) + 1}"
    email = f"{secrets.token_hex(6)}@example.com"

    def attempt(client):
        environ = {"REMOTE_ADDR": ip}
        token = CSRF_RE.search(client.get("/staff/login", environ_base=environ)
                               .get_data(as_text=True)).group(1)
        return client.post("/staff/login", environ_base=environ, data={
            "csrf_token": token, "email": email, "password": "wrong"}).status_code

    codes = [attempt(workers[n % 2]) for n in range(4)]
    assert codes == [200, 200, 200, 429]


def test_a_customer_session_brings_the_card_in_the_same_query(db, caplog):
    """Every portal request resolves its session; the card (the interface language, most
    pages) comes with it, not as a second query per request."""
    import logging

    from services import sessions
    customer, account = factories.make_customer(name="李娜")
    accounts.set_preferred_language(account, "zh")
    token = sessions.start(account)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        principal = sessions.resolve(token, "customer", 30, 24)
        language = accounts.preferred_language(principal)
        name = principal.customer.name
    queries = [r for r in caplog.records if r.name == "peewee"]
    assert (language, name) == ("zh", "李娜")
    assert len(queries) == 1, [r.getMessage() for r in queries]
