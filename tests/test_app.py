"""The combined app: health check, security headers, error pages, language selection."""
import json

import pytest
from werkzeug.test import Client

import wsgi
from tests import factories
from tests.conftest import PG_URL, login


def test_healthz_says_the_database_is_reachable(client):
    for path in ("/healthz", "/staff/healthz"):
        response = client.get(path)
        assert response.status_code == 200
        body = json.loads(response.get_data())
        assert body["status"] == "ok" and body["database"] == "ok"


def test_healthz_answers_503_when_the_database_is_down(settings, db):
    settings["DATABASE_URL"] = "postgres://nobody:wrong@127.0.0.1:1/none"
    client = Client(wsgi.create_app(settings))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert json.loads(response.get_data())["database"] == "unreachable"
    page = client.get("/login")
    assert page.status_code == 503
    assert "Traceback" not in page.get_data(as_text=True)


def test_security_headers_on_every_response(client, db):
    for path in ("/login", "/staff/login", "/healthz", "/nope"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"
    static.close()


def test_session_cookies_are_httponly_and_lax(client, db):
    staff = factories.make_staff()
    response = login(client, staff.email, factories.PASSWORD, "/staff")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("cc_staff=") and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_no_inline_script_in_pages(client, db):
    for path in ("/login", "/staff/login"):
        page = client.get(path).get_data(as_text=True)
        assert "<script>" not in page and "onclick=" not in page and "style=" not in page


@pytest.mark.parametrize("accept,expected", [
    ("zh-CN,zh;q=0.9", "页面不存在"), ("en-US,en;q=0.9", "Page not found")])
def test_404_page_in_both_languages(client, db, accept, expected):
    for path in ("/no-such-page", "/staff/no-such-page"):
        response = client.get(path, headers={"Accept-Language": accept})
        assert response.status_code == 404
        assert expected in response.get_data(as_text=True)


def test_500_page_hides_the_error(settings, db):
    app = wsgi.create_app(settings)
    app.portal.add_url_rule("/boom", "boom", lambda: 1 / 0)
    client = Client(app)
    customer, account = factories.make_customer()
    login(client, account.email, factories.PASSWORD)
    response = client.get("/boom", headers={"Accept-Language": "en"})
    text = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in text
    assert "ZeroDivisionError" not in text and "Traceback" not in text and ".py" not in text


def test_403_for_a_role_without_the_permission(client, staff_login):
    staff_login(role="viewer")
    response = client.get("/staff/outbox/", headers={"Accept-Language": "en"})
    assert response.status_code == 403
    assert "You do not have permission" in response.get_data(as_text=True)


def test_default_language_is_chinese(client, db):
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page


def test_language_switcher_then_saved_preference(client, db):
    from tests.conftest import post_form
    staff = factories.make_staff()
    page = client.get("/staff/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in page.get_data(as_text=True)
    post_form(client, "/staff/language", {"lang": "en", "next": "/staff/login"},
              token_from="/staff/login")
    page = client.get("/staff/login", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="en">' in page.get_data(as_text=True)
    login(client, staff.email, factories.PASSWORD, "/staff")
    post_form(client, "/staff/language", {"lang": "en", "next": "/staff/"},
              token_from="/staff/")
    staff = type(staff).get_by_id(staff.id)
    assert staff.preferred_language == "en"


def test_saved_preference_beats_accept_language(app, db):
    staff = factories.make_staff()
    from services import accounts
    accounts.set_preferred_language(staff, "en")
    client = Client(app)
    login(client, staff.email, factories.PASSWORD, "/staff")
    page = client.get("/staff/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_money_and_dates_are_formatted_per_locale(client, customer_login):
    customer, _ = customer_login(name="Emma Wilson")
    factories.make_purchase(customer, amount="12300.50")
    zh = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get("/", headers={"Accept-Language": "en-US"}).get_data(as_text=True)
    assert "¥12,300.50" in zh
    assert "CN¥12,300.50" in en


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL connection loss; this run is on SQLite")
def test_pages_recover_by_themselves_after_postgresql_drops_connections(client, db):
    """What a PostgreSQL restart does to the pool: every pooled connection dies at once."""
    import psycopg
    staff = factories.make_staff()
    login(client, staff.email, factories.PASSWORD, "/staff")
    assert client.get("/staff/cards/").status_code == 200
    with psycopg.connect(PG_URL.replace("postgres://", "postgresql://", 1)) as admin:
        killed = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert killed >= 1
    codes = [client.get("/staff/cards/").status_code for _ in range(3)]
    assert set(codes) <= {200, 503} and codes[-1] == 200, codes
    assert client.get("/healthz").status_code == 200


def test_a_customer_language_choice_is_kept_on_the_card(client, customer_login):
    from models import Customer
    from tests.conftest import post_form
    customer, _ = customer_login()
    post_form(client, "/language", {"lang": "en", "next": "/"}, token_from="/")
    assert Customer.get_by_id(customer.id).preferred_language == "en"
    client.delete_cookie("cc_portal")  # a new browser: the saved choice still wins
    from tests import factories
    login(client, customer.primary_email, factories.PASSWORD)
    page = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en">' in page
