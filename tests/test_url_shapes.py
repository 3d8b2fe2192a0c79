"""webcore.urls.UrlShapes (the templates' url_for) builds exactly what Flask's url_for
builds, for every endpoint of both apps, with plain values, values that need quoting, extra
query values and values of other types."""
import pytest
from flask import url_for
from werkzeug.routing.converters import UnicodeConverter

VALUES = ("Ab_9-x.y~z", "a b", "张伟", "a/b", "50%", "{0}", "?x=1&y")


def _endpoints(flask_app):
    for rule in flask_app.url_map.iter_rules():
        if rule.endpoint != "static" and "GET" in rule.methods:
            yield rule


@pytest.mark.parametrize("side", ["portal", "backoffice"])
def test_the_same_urls_as_flask(app, side):
    flask_app = getattr(app, side)
    shapes = flask_app.extensions["cc_url_for"]
    checked = 0
    with flask_app.test_request_context("/", base_url="http://localhost/"
                                        + ("staff" if side == "backoffice" else "")):
        for rule in _endpoints(flask_app):
            names = sorted(rule.arguments)
            if not all(type(rule._converters[n]) is UnicodeConverter for n in names):
                continue
            for value in VALUES:
                for extra in ({}, {"next": value}):
                    values = {**{n: value for n in names}, **extra}
                    expected = url_for(rule.endpoint, **values)
                    assert shapes(rule.endpoint, **values) == expected, (rule.endpoint, values)
                    assert shapes(rule.endpoint, **values) == expected  # from the cache too
                    checked += 1
        assert shapes("static", filename="css/app.css") == url_for("static",
                                                                    filename="css/app.css")
        card = "backoffice" if side == "backoffice" else None
        if card:
            assert shapes("card.detail", public_id=123) == url_for("card.detail", public_id=123)
            assert shapes("card.detail", public_id="x", _anchor="a") == \
                url_for("card.detail", public_id="x", _anchor="a")
            assert shapes("card.detail", public_id="x").startswith("/staff/")
    assert checked > 50
