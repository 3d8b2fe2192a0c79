"""Two-factor sign-in for staff over HTTP: two steps, codes that work once, recovery codes,
the rate limit, admins sent to enrolment, enrolment and switching off from My account."""
import re
import time

import pyotp
import pytest

import models
from models import AuditEvent, StaffUser, UserSession
from services import totp
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture(autouse=True)
def _english(settings):
    """Pages in English, so that the tests can read the messages."""
    settings["BABEL_DEFAULT_LOCALE"] = "en"

CODE_PAGE = "/staff/login/code"


def _fresh(staff):
    return StaffUser.get_by_id(staff.id)


def _password_step(client, staff):
    response = login(client, staff.email, factories.PASSWORD, "/staff")
    assert response.headers["Location"] == CODE_PAGE
    return response


def _enrol(staff):
    """2FA on through the service, as if the QR code had been scanned; the recovery codes."""
    staff = _fresh(staff)
    totp.clear(staff)
    totp.begin_enrolment(staff, factories.SYSTEM, password=factories.PASSWORD)
    return totp.confirm_enrolment(staff, factories.totp_code(staff), factories.SYSTEM)


def test_sign_in_takes_two_steps_and_the_session_starts_after_the_second(client, db):
    staff = factories.make_staff(role="agent", two_factor=True)
    _password_step(client, staff)
    # Half signed in is not signed in: no session row, the back office still asks to sign in.
    assert UserSession.select().count() == 0
    assert client.get("/staff/account/password").headers["Location"].startswith("/staff/login")
    page = client.get(CODE_PAGE)
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)

    response = post_form(client, CODE_PAGE, {"code": factories.totp_code(staff)})
    assert response.headers["Location"] == "/staff/"
    assert UserSession.select().where(UserSession.staff == staff).count() == 1
    assert client.get("/staff/account/password").status_code == 200


def test_the_second_step_keeps_the_next_page(client, db):
    staff = factories.make_staff(role="agent", two_factor=True)
    response = post_form(client, "/staff/login", {"email": staff.email,
                                                  "password": factories.PASSWORD,
                                                  "next": "/staff/account/password"})
    assert response.headers["Location"] == CODE_PAGE
    response = post_form(client, CODE_PAGE, {"code": factories.totp_code(staff)})
    assert response.headers["Location"] == "/staff/account/password"


def test_a_wrong_code_is_refused_and_signs_nobody_in(client, db):
    staff = factories.make_staff(role="agent", two_factor=True)
    _password_step(client, staff)
    right = factories.totp_code(staff)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = post_form(client, CODE_PAGE, {"code": wrong})
    assert response.status_code == 200
    assert "This code is not correct" in response.get_data(as_text=True)
    assert UserSession.select().count() == 0
    assert post_form(client, CODE_PAGE, {"code": "<script>x</script>"}).status_code == 200


def test_a_code_cannot_be_replayed(app, db):
    from werkzeug.test import Client
    staff = factories.make_staff(role="agent", two_factor=True)
    code = factories.totp_code(staff)
    first, second = Client(app), Client(app)
    _password_step(first, staff)
    assert post_form(first, CODE_PAGE, {"code": code}).headers["Location"] == "/staff/"
    # Someone who saw the code (and knows the password) cannot use it a second time.
    _password_step(second, staff)
    response = post_form(second, CODE_PAGE, {"code": code})
    assert response.status_code == 200
    assert UserSession.select().count() == 1


def test_codes_of_the_previous_and_next_step_are_accepted_older_ones_not(db):
    staff = factories.make_staff(role="agent", two_factor=True)
    secret = pyotp.TOTP(staff.totp_secret)
    now = time.time()
    step = int(now // 30)
    assert not totp._accept_code(staff, secret.generate_otp(step - 2), now)
    assert totp._accept_code(staff, secret.generate_otp(step - 1), now)
    assert totp._accept_code(staff, secret.generate_otp(step + 1), now)
    # Step +1 spent: the current (older) step no longer works either.
    assert not totp._accept_code(staff, secret.generate_otp(step), now)


def test_a_recovery_code_works_once(app, db):
    from werkzeug.test import Client
    staff = factories.make_staff(role="agent")
    codes = _enrol(staff)
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = _fresh(staff).recovery_codes
    assert codes[0] not in str(stored) and codes[0].replace("-", "") not in str(stored)

    first = Client(app)
    _password_step(first, staff)
    assert post_form(first, CODE_PAGE, {"code": codes[0].upper()}).headers["Location"] == "/staff/"
    assert totp.recovery_codes_left(_fresh(staff)) == 9
    assert AuditEvent.select().where(AuditEvent.action == "staff.2fa_recovery_code_used").count() == 1

    second = Client(app)
    _password_step(second, staff)
    assert post_form(second, CODE_PAGE, {"code": codes[0]}).status_code == 200
    assert post_form(second, CODE_PAGE, {"code": codes[1]}).headers["Location"] == "/staff/"


def test_code_attempts_are_rate_limited(client, db):
    staff = factories.make_staff(role="agent", two_factor=True)
    _password_step(client, staff)
    statuses = [post_form(client, CODE_PAGE, {"code": "000000"}).status_code for _ in range(10)]
    assert statuses == [200] * 10
    # Even the right code is refused now: guessing a million codes is not an option.
    assert post_form(client, CODE_PAGE, {"code": factories.totp_code(staff)}).status_code == 429
    assert UserSession.select().count() == 0


def test_the_code_page_without_a_password_step_sends_back_to_sign_in(client, db):
    assert client.get(CODE_PAGE).headers["Location"] == "/staff/login"


def test_the_half_signed_in_state_expires(client, db, monkeypatch):
    staff = factories.make_staff(role="agent", two_factor=True)
    _password_step(client, staff)
    later = time.time() + 301
    monkeypatch.setattr("webcore.signin.time.time", lambda: later)
    response = post_form(client, CODE_PAGE, {"code": factories.totp_code(staff)},
                         token_from="/staff/login")
    assert response.headers["Location"] == "/staff/login"
    assert UserSession.select().count() == 0


def test_an_admin_without_2fa_is_sent_to_enrolment_and_can_do_nothing_else(client, db):
    admin = factories.make_staff(role="admin", two_factor=False)
    response = login(client, admin.email, factories.PASSWORD, "/staff")
    assert response.headers["Location"] == "/staff/"
    for path in ("/staff/", "/staff/outbox/", "/staff/team/", "/staff/account/password"):
        assert client.get(path).headers["Location"] == "/staff/account/two-factor", path
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert "Admins must use two-factor sign-in" in page

    # No password needed here (it was just typed); then scan, confirm, and the way is open.
    response = post_form(client, "/staff/account/two-factor/start", {},
                         token_from="/staff/account/two-factor")
    assert response.headers["Location"] == "/staff/account/two-factor"
    page = client.get("/staff/account/two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml;base64,' in page
    secret = _fresh(admin).totp_secret
    assert " ".join(re.findall(".{1,4}", secret)) in page
    response = post_form(client, "/staff/account/two-factor/confirm",
                         {"code": pyotp.TOTP(secret).now()},
                         token_from="/staff/account/two-factor")
    assert response.status_code == 200
    codes = re.findall(r"<li>([a-z0-9]{5}-[a-z0-9]{5})</li>", response.get_data(as_text=True))
    assert len(codes) == 10
    assert totp.is_enabled(_fresh(admin))
    assert client.get("/staff/account/password").status_code == 200


def test_admin_2fa_can_be_made_optional_by_the_setting(settings, db):
    from werkzeug.test import Client

    import wsgi
    client = Client(wsgi.create_app({**settings, "REQUIRE_ADMIN_2FA": False}))
    factories.make_staff(role="admin", two_factor=False, email="boss@example.com")
    login(client, "boss@example.com", factories.PASSWORD, "/staff")
    assert client.get("/staff/account/password").status_code == 200


def test_enrolment_from_my_account_needs_the_password_and_a_right_code(client, staff_login):
    staff = staff_login(role="agent")
    response = post_form(client, "/staff/account/two-factor/start", {"password": "wrong"},
                         token_from="/staff/account/two-factor")
    assert "The password is not correct." in response.get_data(as_text=True)
    assert _fresh(staff).totp_secret is None
    post_form(client, "/staff/account/two-factor/start", {"password": factories.PASSWORD},
              token_from="/staff/account/two-factor")
    response = post_form(client, "/staff/account/two-factor/confirm", {"code": "123"},
                         token_from="/staff/account/two-factor")
    assert "This code is not correct" in response.get_data(as_text=True)
    assert not totp.is_enabled(_fresh(staff))
    response = post_form(client, "/staff/account/two-factor/confirm",
                         {"code": factories.totp_code(staff)},
                         token_from="/staff/account/two-factor")
    assert "Recovery codes" in response.get_data(as_text=True)
    assert totp.is_enabled(_fresh(staff))
    assert AuditEvent.select().where(AuditEvent.action == "staff.2fa_enable",
                                     AuditEvent.entity == "staff").count() == 1

    # Next sign-in asks for the code.
    post_form(client, "/staff/logout", {}, token_from="/staff/")
    _password_step(client, staff)


def test_switching_off_needs_the_password_and_is_refused_to_admins(client, staff_login):
    staff = staff_login(role="agent", two_factor=True)
    response = post_form(client, "/staff/account/two-factor/disable",
                         {"disable-password": "wrong"}, token_from="/staff/account/two-factor")
    assert "The password is not correct." in response.get_data(as_text=True)
    assert totp.is_enabled(_fresh(staff))
    response = post_form(client, "/staff/account/two-factor/disable",
                         {"disable-password": factories.PASSWORD},
                         token_from="/staff/account/two-factor")
    assert response.headers["Location"] == "/staff/account/two-factor"
    assert not totp.is_enabled(_fresh(staff)) and _fresh(staff).totp_secret is None

    admin = factories.make_staff(role="admin")
    try:
        totp.disable(admin, factories.PASSWORD, factories.SYSTEM)
    except totp.DomainError as exc:
        assert "Admins must keep" in exc.message
    else:
        raise AssertionError("an admin switched 2FA off")


def test_new_recovery_codes_replace_the_old_ones(client, db):
    staff = factories.make_staff(role="agent")
    old = _enrol(staff)
    new = totp.regenerate_recovery_codes(_fresh(staff), factories.PASSWORD, factories.SYSTEM)
    assert set(old).isdisjoint(new)
    _password_step(client, staff)
    assert post_form(client, CODE_PAGE, {"code": old[0]}).status_code == 200
    assert post_form(client, CODE_PAGE, {"code": new[0]}).headers["Location"] == "/staff/"


def test_customers_never_get_a_second_step(client, db):
    _customer, account = factories.make_customer()
    response = login(client, account.email, factories.PASSWORD)
    assert response.headers["Location"] == "/"
    assert client.get("/login/code").status_code == 404
    assert models.UserSession.select().where(UserSession.account == account).count() == 1
