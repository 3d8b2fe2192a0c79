"""Security headers on every response, and CSRF on every state-changing request."""
import threading
import time
from collections import OrderedDict

from flask import current_app, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf

from webcore import requestcache

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
       "form-action 'self'; frame-ancestors 'none'")


# Headers every response carries unless the view set its own.
HEADERS = (("Content-Security-Policy", CSP), ("X-Frame-Options", "DENY"),
           ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"),
           ("Cross-Origin-Opener-Policy", "same-origin"),
           ("Permissions-Policy", "camera=(), microphone=(), geolocation=()"))
HSTS = ("Strict-Transport-Security", "max-age=31536000")

# A page's signed CSRF token is reused by the same session's next pages for this long.
SIGNED_TOKEN_REUSE_SECONDS = 60


class SignedTokens:
    """Flask-WTF signs the session's CSRF token afresh (with the time) on every page; signing
    is a tenth of the cost of a small page. A token signed less than a minute ago is as good
    (it is checked against the same session token, and stays valid for the time limit less
    that minute), so each session's latest signed token is kept and put in ``g`` where
    Flask-WTF looks first, before the page asks for one; a page that signs a new one (the
    first of a session, or after a minute) leaves it here for the next pages."""

    def __init__(self, field_name, size=4096):
        self.field_name = field_name
        self.size = size
        self._tokens = OrderedDict()  # (secret, session's raw token) -> (signed, when)
        self._lock = threading.Lock()

    def _key(self):
        raw = session.get(self.field_name)
        if raw is None:
            return None
        return current_app.config.get("WTF_CSRF_SECRET_KEY") or current_app.secret_key, raw

    def prime(self):
        """Before a page: this session's recent signed token, if there is one, in ``g``."""
        key = self._key()
        known = None if key is None else self._tokens.get(key)
        if known is not None and time.monotonic() - known[1] < SIGNED_TOKEN_REUSE_SECONDS:
            setattr(requestcache.request_g(), self.field_name, known[0])

    def remember(self):
        """After a page: keep the token it was given if it was signed for it."""
        token = requestcache.cached(self.field_name)
        key = None if token is None else self._key()
        if key is None:
            return
        known = self._tokens.get(key)
        if known is None or known[0] != token:
            with self._lock:
                self._tokens[key] = (token, time.monotonic())
                self._tokens.move_to_end(key)
                if len(self._tokens) > self.size:
                    self._tokens.popitem(last=False)

    def __call__(self):
        """``csrf_token()`` in templates: Flask-WTF's ``generate_csrf`` (which makes the
        request's token once and keeps it in ``g``), read straight from ``g``."""
        return requestcache.cached(self.field_name) or generate_csrf()


def init_app(app):
    # Flask-WTF's own check runs on every request and looks up the view's exemption before
    # it looks at the method; ours checks only the methods CSRF protects (GETs are most
    # requests), with the same exemptions.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf = CSRFProtect(app)
    csrf_token = SignedTokens(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"))

    @app.before_request
    def _check_csrf():
        if (request.method in app.config["WTF_CSRF_METHODS"]
                and app.config.get("WTF_CSRF_ENABLED", True)):
            csrf.protect(apply_exemptions=True)

    @app.before_request
    def _reuse_signed_token():
        if request.method in ("GET", "HEAD") and request.endpoint != "static":
            csrf_token.prime()

    app.jinja_env.globals["csrf_token"] = csrf_token
    # Flask-WTF also hands templates its own generate_csrf through a context processor, which
    # would shadow the global above (context beats globals): hand them this one instead.
    app.context_processor(lambda: {"csrf_token": csrf_token})

    fixed = HEADERS + ((HSTS,) if app.config.get("SESSION_COOKIE_SECURE") else ())

    @app.after_request
    def _headers(response):
        headers = response.headers
        # What Headers.setdefault does per header (a lookup that raises KeyError inside when
        # absent), for all of them at once: the names the view set, once.
        present = {name.lower() for name, _ in headers.items()}
        headers.extend([(name, value) for name, value in fixed
                        if name.lower() not in present])
        if request.endpoint != "static":
            # Pages carry personal data: never keep them in a shared or browser cache.
            headers["Cache-Control"] = "no-store"
            csrf_token.remember()
        return response

