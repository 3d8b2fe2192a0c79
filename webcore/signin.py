"""Sign-in with server-side session rows (Flask-Login "alternative tokens").

The cookie carries only a random token; the row behind it is the session. Logout deletes the
row, so a copied cookie stops working; login clears the old session and starts a new token.
"""
import time

from flask import current_app, request, session
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from limits import parse, storage, strategies

from services import accounts, sessions
from services.actors import Actor
from webcore import requestcache


class SignedIn(UserMixin):
    """The signed-in principal (a StaffUser or PortalAccount) and its session token."""

    def __init__(self, user, token):
        self.user = user
        self.token = token

    def get_id(self):
        return self.token

    def save_language(self, code):
        accounts.set_preferred_language(self.user, code)

    @property
    def language(self):
        """The saved interface language: the staff member's, or the customer card's."""
        return accounts.preferred_language(self.user)

    def __getattr__(self, name):
        return getattr(self.user, name)


def init_app(app, kind, login_endpoint):
    manager = LoginManager(app)
    manager.login_view = login_endpoint
    manager.session_protection = None  # the server-side row is the protection
    # Flask-Login hashes the client's address and browser into an identifier on every
    # request, for session protection, before it looks whether that is on; it is off.
    manager._session_identifier_generator = lambda: None
    manager.login_message = None

    @manager.user_loader
    def _load(token):
        user = sessions.resolve(token, kind, app.config["SESSION_IDLE_MINUTES"],
                                app.config["SESSION_ABSOLUTE_HOURS"])
        return SignedIn(user, token) if user is not None else None

    limiter = AttemptLimiter(app.config["RATELIMIT_STORAGE_URI"], app.config["LOGIN_RATE_LIMIT"])
    app.extensions["cc_login_limiter"] = limiter


def principal():
    """``current_user`` of this request (a SignedIn or the anonymous user), read from where
    Flask-Login keeps it (``g._login_user``) once loaded, without the proxy's lookups."""
    user = requestcache.cached("_login_user")
    return user if user is not None else current_user._get_current_object()


def client_ip():
    return request.remote_addr


def sign_in(user):
    """Start a fresh session for ``user``: any previous session in this browser ends."""
    if current_user.is_authenticated:
        sessions.end(current_user.token)
    keep_lang = session.get("lang")
    session.clear()
    if keep_lang:
        session["lang"] = keep_lang
    token = sessions.start(user, client_ip(), request.user_agent.string)
    login_user(SignedIn(user, token))


# The half-signed-in state between the password and the second step: who passed the password
# step, when, and against which password. It lives a few minutes in the signed session cookie
# and is not a session: nothing but the code page accepts it.
PENDING_KEY = "cc_second_step"
PENDING_SECONDS = 300


def begin_second_step(user, next_url=None):
    """The password was right and a second step is needed: nobody is signed in yet."""
    if current_user.is_authenticated:
        sessions.end(current_user.token)
        logout_user()
    keep_lang = session.get("lang")
    session.clear()
    if keep_lang:
        session["lang"] = keep_lang
    session[PENDING_KEY] = {"id": user.id, "at": int(time.time()), "next": next_url,
                            "pw": user.password_changed_at.isoformat()}


def pending_second_step(load):
    """(user, next URL) of a recent password step in this browser, or (None, None).

    ``load(id)`` returns the user or None; a deactivated user or a password changed since
    the first step voids the state."""
    data = session.get(PENDING_KEY)
    if not isinstance(data, dict) or time.time() - data.get("at", 0) > PENDING_SECONDS:
        session.pop(PENDING_KEY, None)
        return None, None
    user = load(data.get("id"))
    if (user is None or not user.is_active
            or user.password_changed_at.isoformat() != data.get("pw")):
        session.pop(PENDING_KEY, None)
        return None, None
    return user, data.get("next")


def sign_out():
    if current_user.is_authenticated:
        sessions.end(current_user.token)
    logout_user()
    session.clear()


class AttemptLimiter:
    """Counts sign-in attempts per IP and per account in a shared store (Redis in production),
    so the limit holds across workers and hosts."""

    def __init__(self, uri, rate):
        self.strategy = strategies.FixedWindowRateLimiter(storage.storage_from_string(uri))
        self.item = parse(rate)

    def allow(self, scope, *keys):
        """Count one attempt against each key; False if any key is over its limit."""
        results = [self.strategy.hit(self.item, scope, key) for key in keys if key]
        return all(results)


def login_allowed(email, action="login"):
    """Count one attempt at ``action`` (sign-in, link request) for this IP and this email."""
    limiter = current_app.extensions["cc_login_limiter"]
    scope = f"{current_app.config['CC_KIND']}-{action}"
    return limiter.allow(scope, f"ip:{client_ip()}", "email:" + (email or "").strip().lower())


def staff_actor():
    """The signed-in staff member as the actor of a service call (with IP and browser)."""
    return Actor.for_staff(current_user.user, client_ip(), request.user_agent.string)
