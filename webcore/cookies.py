"""Flask's signed-cookie session, with each cookie's verification remembered.

A browser sends the same session cookie on every request until the session changes (sign-in,
language switch, the CSRF token's first use). Verifying it (key derivation, HMAC, base64, zlib,
tagged JSON) cost about a tenth of a millisecond on every page, more than some of the page's
queries. A cookie string whose signature verified once verifies again, so what it holds is kept
in a bounded cache, keyed by the keys it was checked with and the exact string; the age limit is
still checked on every request against the signing time, and the session handed out is a fresh
copy, so nothing a request changes reaches the cache. Saving is Flask's own.
"""
import copy
import threading
import time
from collections import OrderedDict

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

_PLAIN = (str, int, float, bool, type(None))


def _keys(app):
    """The keys a cookie of ``app`` may be signed with (old ones first, as Flask orders them)."""
    return (*(app.config.get("SECRET_KEY_FALLBACKS") or ()), app.secret_key)


class VerifiedCookieSessions(SecureCookieSessionInterface):
    """``SecureCookieSessionInterface`` that checks each distinct cookie string once."""

    def __init__(self, size=4096):
        self.size = size
        self._verified = OrderedDict()  # (keys, cookie) -> (signed at, data)
        self._lock = threading.Lock()
        self._serializers = {}  # keys -> Flask's signing serializer for them

    def get_signing_serializer(self, app):
        """Flask builds a new serializer per call; the keys decide it, so keep one per keys."""
        if not app.secret_key:
            return None
        keys = _keys(app)
        serializer = self._serializers.get(keys)
        if serializer is None:
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer

    def open_session(self, app, request):
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        key = (_keys(app), value)
        known = self._verified.get(key)
        if known is None:
            try:
                data, signed_at = serializer.loads(value, max_age=max_age,
                                                   return_timestamp=True)
            except BadSignature:
                return self.session_class()
            known = (signed_at.timestamp(), data)
            with self._lock:
                self._verified[key] = known
                if len(self._verified) > self.size:
                    self._verified.popitem(last=False)
        elif time.time() - known[0] > max_age:
            return self.session_class()  # expired since it was first seen
        data = known[1]
        if all(type(item) in _PLAIN for item in data.values()):
            return self.session_class(data)  # a shallow copy is a full copy
        return self.session_class(copy.deepcopy(data))
