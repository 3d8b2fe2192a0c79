"""The staff back office: cards, records, follow-ups, campaigns, analytics (desktop, dense)."""

import config
from backoffice import access
from services.access import can
from webcore import build_app
from webcore.i18n import lazy_gettext as _l
from webcore.signin import principal

ROLE_LABELS = {"admin": _l("Admin"), "manager": _l("Manager"), "agent": _l("Agent"),
               "marketer": _l("Marketer"), "viewer": _l("Viewer")}


def create_app(test_config=None):
    settings = config.load(test_config)
    public = {endpoint for endpoint, needed in access.ENDPOINTS.items() if needed is None}
    app = build_app(__name__, settings, cookie_name="cc_staff", kind="staff",
                    layout="backoffice/base.html", login_endpoint="auth.login",
                    public_endpoints=public, guard=access.init_app)
    register_blueprints(app)
    app.jinja_env.globals.update(
        can=_can,
        role_label=lambda role: ROLE_LABELS.get(role, role))
    return app


def _can(permission):
    """``can(permission)`` in templates: may the signed-in staff member do this?"""
    user = principal()
    return user.is_authenticated and can(user.role, permission)


def register_blueprints(app):
    from backoffice import auth, card, cards, dashboard, feedback, outbox, requests, reviews
    from backoffice import surveys
    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.password_bp)
    for module in (dashboard, cards, card, outbox, requests, reviews, feedback):
        app.register_blueprint(module.bp)
    app.register_blueprint(surveys.bp)
    from backoffice import segments
    app.register_blueprint(segments.bp)  # saved filters and static lists of cards
    from backoffice import tasks, tiers
    app.register_blueprint(tasks.bp)  # follow-ups and "My day"
    app.register_blueprint(tiers.bp)  # tiers, their rules, a card's override
    from backoffice import audit, card_fields, dictionary
    for module in (card_fields, dictionary, audit):  # card fields, data dictionary, audit log
        app.register_blueprint(module.bp)
    from backoffice import staff
    app.register_blueprint(staff.bp)  # staff administration and the roles page
    app.register_blueprint(staff.invite_bp)  # the page behind a staff invitation link
    from backoffice import campaigns
    app.register_blueprint(campaigns.bp)  # email campaigns: write, preview, send, results
