"""CSRF tokens (webcore.security.SignedTokens): a session's signed token is reused by its
next pages for a minute, then signed afresh; every one of them is accepted, a token of another
session never is, and a POST without one is refused."""
import time

from itsdangerous import TimestampSigner

from tests import factories
from tests.conftest import csrf_from, login


def _post(client, token):
    """The language switcher: a plain POST behind CSRF."""
    return client.post("/staff/language", data={"csrf_token": token, "lang": "en"})


def test_pages_within_a_minute_share_a_token_then_a_new_one_is_signed(client, db, monkeypatch):
    staff = factories.make_staff()
    login(client, staff.email, factories.PASSWORD, "/staff")
    clock = [time.time()]  # the reuse window and the signing time both follow this clock
    monkeypatch.setattr("webcore.security.time.monotonic", lambda: clock[0])
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(clock[0]))
    first = csrf_from(client, "/staff/")
    clock[0] += 30
    assert csrf_from(client, "/staff/cards/") == first  # reused
    clock[0] += 31
    second = csrf_from(client, "/staff/")
    assert second != first  # signed again after a minute
    assert csrf_from(client, "/staff/tasks/") == second
    assert _post(client, first).status_code == 302  # both stay valid
    assert _post(client, second).status_code == 302


def test_another_sessions_token_or_none_is_refused(app, db):
    from werkzeug.test import Client
    one, other = Client(app), Client(app)
    for client in (one, other):
        staff = factories.make_staff()
        login(client, staff.email, factories.PASSWORD, "/staff")
    token = csrf_from(one, "/staff/")
    assert csrf_from(one, "/staff/") == token
    assert _post(other, token).status_code == 400
    assert _post(other, "").status_code == 400
    assert _post(one, token).status_code == 302
