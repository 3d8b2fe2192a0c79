"""The back office's one guard: every endpoint is in this map, or nobody may open it."""
from flask import abort, redirect, request, url_for
from flask_login import current_user

from services.access import can

SIGNED_IN = "signed-in"  # any active staff member, whatever the role

# endpoint -> permission (services.access.PERMISSIONS), SIGNED_IN, or None for public pages.
ENDPOINTS = {
    "static": None,
    "health.healthz": None,
    "i18n.set_language": None,
    "auth.login": None,
    "auth.logout": SIGNED_IN,
    "account.password": SIGNED_IN,
    "dashboard.index": "dashboard.view",
    "cards.index": "cards.view",
    "card.detail": "cards.view",
    "card.invite": "cards.edit",
    "reviews.index": "cards.view",
    "reviews.detail": "cards.view",
    "reviews.decide": "cards.edit",
    "feedback.index": "cards.view",
    "feedback.detail": "cards.view",
    "feedback.assign": "cards.edit",
    "feedback.status": "cards.edit",
    "feedback.reply": "cards.edit",
    "outbox.index": "outbox.view",
    "outbox.detail": "outbox.view",
    "requests.index": "requests.manage",
}


def permission_for(endpoint):
    """The permission an endpoint needs; KeyError if the endpoint is not in the map."""
    return ENDPOINTS[endpoint]


def init_app(app):
    @app.before_request
    def _guard():
        if request.endpoint is None:  # 404 / 405: let Flask answer
            return None
        needed = ENDPOINTS.get(request.endpoint, KeyError)
        if needed is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.script_root + request.full_path.rstrip("?")))
        if needed is KeyError or (needed != SIGNED_IN and not can(current_user.role, needed)):
            abort(403)  # fail closed: an endpoint missing from the map is nobody's
        return None
