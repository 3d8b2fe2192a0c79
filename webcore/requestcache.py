"""The request's ``g`` without the context-local proxy, for values a page asks for many times.

A back-office page calls ``_()``, ``csrf_token()``, ``can()`` and ``current_lang()`` a hundred
times; through Flask's proxies (``g``, ``current_user``) each call cost several context-variable
lookups, a visible share of every page. These helpers read the same per-request values from the
application context's ``g`` directly: the values are those Flask-Babel, Flask-Login and
Flask-WTF cache there, so the answers are the same.
"""
from flask.globals import _cv_app


def request_g():
    """The current application context's ``g`` object, or None outside a context."""
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g


def cached(name):
    """What ``g.<name>`` holds in this context, or None (also outside a context)."""
    ctx = _cv_app.get(None)
    return None if ctx is None else ctx.g.__dict__.get(name)
