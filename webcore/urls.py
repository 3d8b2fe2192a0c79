"""Redirect targets (only relative paths inside the app are followed), and building URLs."""
import re
from urllib.parse import urlsplit

from flask import current_app, request, url_for
from flask.globals import _cv_request
from werkzeug.routing.converters import UnicodeConverter


def safe_next(target):
    """``target`` if it is a relative path on this app, else None (no open redirects)."""
    if not target or not isinstance(target, str) or len(target) > 2000:
        return None
    if any(ch in target for ch in "\\\r\n\t\x00") or not target.startswith("/"):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    root = request.script_root
    if root and not (target == root or target.startswith(root + "/")):
        return None
    return target


# --- building URLs fast -----------------------------------------------------------------------

# Values that every converter of a plain <name> rule part leaves as they are (public ids, codes).
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_.~-]+\Z")
_NO_SHAPE = object()


class UrlShapes:
    """``url_for`` for the URLs a page builds most: a link with no values (nav, assets) is
    the same on every request under one mount point, and a link whose values are all plain
    path parts (``/cards/<public_id>/edit``) has a fixed shape with holes. Each is worked out
    once per app, mount point and endpoint by Flask's own ``url_for``, then filled in.
    Anything else (query values, converters other than the default one, values that would
    be quoted, ``_external``...) goes to Flask's ``url_for`` as before."""

    def __init__(self):
        self._fixed = {}  # (mount point, endpoint, static filename) -> URL
        self._shapes = {}  # (mount point, endpoint, value names) -> format string

    def __call__(self, endpoint, **values):
        ctx = _cv_request.get(None)
        if ctx is None or endpoint.startswith("."):
            return url_for(endpoint, **values)
        root = ctx.request.script_root
        if not values or (endpoint == "static" and len(values) == 1 and "filename" in values):
            key = (root, endpoint, values.get("filename"))
            url = self._fixed.get(key)
            if url is None:
                url = self._fixed[key] = url_for(endpoint, **values)
            return url
        names = tuple(values)
        key = (root, endpoint, names)
        shape = self._shapes.get(key)
        if shape is None:
            shape = self._shapes[key] = self._shape(ctx.app, endpoint, names)
        if shape is _NO_SHAPE or not all(type(value) is str and _PLAIN_VALUE.match(value)
                                         for value in values.values()):
            return url_for(endpoint, **values)
        return shape.format(*values.values())

    @staticmethod
    def _shape(app, endpoint, names):
        rules = app.url_map._rules_by_endpoint.get(endpoint, ())
        if (len(rules) != 1 or any(name.startswith("_") for name in names)
                or rules[0].arguments != set(names) or rules[0].defaults
                or any(type(c) is not UnicodeConverter for c in rules[0]._converters.values())):
            return _NO_SHAPE
        marks = [f"CCURLHOLE{i}X" for i in range(len(names))]
        url = url_for(endpoint, **dict(zip(names, marks)))
        if any(url.count(mark) != 1 for mark in marks):
            return _NO_SHAPE
        url = url.replace("{", "{{").replace("}", "}}")
        for i, mark in enumerate(marks):
            url = url.replace(mark, "{%d}" % i)
        return url


def fast_url_for(endpoint, **values):
    """``url_for`` through the app's ``UrlShapes`` (the templates' ``url_for``)."""
    return current_app.extensions["cc_url_for"](endpoint, **values)
