"""webcore.cookies: the signed-cookie session checks each cookie string once, and still
refuses what Flask's own would refuse (forged, re-signed with another key, too old), and never
lets one request's changes reach the next through the cache."""
import datetime

import pytest
from flask import Flask, session
from itsdangerous import TimestampSigner

from webcore.cookies import VerifiedCookieSessions


@pytest.fixture()
def app():
    app = Flask(__name__)
    app.config.update(SECRET_KEY="a-test-secret", TESTING=True,
                      PERMANENT_SESSION_LIFETIME=datetime.timedelta(hours=1))
    app.session_interface = VerifiedCookieSessions()

    @app.route("/put/<name>/<value>")
    def put(name, value):
        session[name] = value
        return "ok"

    @app.route("/put-list/<value>")
    def put_list(value):
        session["items"] = [value]
        return "ok"

    @app.route("/append/<value>")
    def append(value):
        session["items"].append(value)  # changed in place: Flask does not save it
        return ",".join(session["items"])

    @app.route("/get/<name>")
    def get(name):
        return str(session.get(name))

    return app


def test_the_same_cookie_reads_the_same_and_changes_are_saved(app):
    client = app.test_client()
    client.get("/put/lang/zh")
    assert [client.get("/get/lang").text for _ in range(3)] == ["zh", "zh", "zh"]
    client.get("/put/lang/en")
    assert client.get("/get/lang").text == "en"
    assert len(app.session_interface._verified) == 2  # one entry per distinct cookie


def test_a_forged_or_foreign_cookie_is_an_empty_session(app):
    client = app.test_client()
    client.get("/put/role/viewer")
    good = client.get_cookie("session").value
    payload, _, signature = good.rpartition(".")
    client.set_cookie("session", payload + "." + signature[::-1])
    assert client.get("/get/role").text == "None"
    # signed with another key: refused although the data is well formed
    other = Flask(__name__)
    other.config.update(SECRET_KEY="someone-else")
    forged = VerifiedCookieSessions().get_signing_serializer(other).dumps({"role": "admin"})
    client.set_cookie("session", forged)
    assert client.get("/get/role").text == "None"
    client.set_cookie("session", good)
    assert client.get("/get/role").text == "viewer"


def test_a_cookie_past_its_age_is_refused_even_when_seen_before(app, monkeypatch):
    client = app.test_client()
    client.get("/put/lang/zh")
    assert client.get("/get/lang").text == "zh"  # verified and remembered
    later = datetime.datetime.now(datetime.UTC).timestamp() + 2 * 3600
    monkeypatch.setattr("webcore.cookies.time.time", lambda: later)
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(later))
    assert client.get("/get/lang").text == "None"


def test_changes_in_place_do_not_leak_into_the_next_request(app):
    client = app.test_client()
    client.get("/put-list/a")
    assert client.get("/append/b").text == "a,b"
    assert client.get("/append/c").text == "a,c"  # the cached data still holds ["a"]
