"""The customer portal: each customer keeps their own card correct (mobile first)."""
from flask import redirect, request, url_for
from flask_login import current_user

import config
from webcore import build_app
from webcore.i18n import lazy_gettext as _l

# The portal's tabs: (endpoint, label), shown to a signed-in customer.
NAV = [("home.index", _l("My card")), ("details.edit", _l("My details")),
       ("preferences.edit", _l("My preferences")),
       ("history.purchases", _l("My history")), ("feedback.index", _l("My feedback")),
       ("consent.index", _l("My consent")), ("mydata.index", _l("My data"))]

# Pages anyone may open without signing in.
PUBLIC_ENDPOINTS = {"auth.login", "access.claim", "access.request_link", "access.use_link",
                    "access.request_reset", "access.reset", "email.confirm",
                    "consent.confirm", "consent.unsubscribe", "consent.one_click",
                    "access.register", "access.confirm_registration", "details.confirm",
                    "surveys.answer", "surveys.answer_public", "campaigns.open_pixel"}


def create_app(test_config=None):
    settings = config.load(test_config)
    app = build_app(__name__, settings, cookie_name="cc_portal", kind="customer",
                    layout="portal/base.html", login_endpoint="auth.login",
                    public_endpoints=PUBLIC_ENDPOINTS, guard=register_guard)
    register_blueprints(app)
    app.jinja_env.globals["portal_nav"] = lambda: NAV
    return app


def register_blueprints(app):
    from portal import (access, auth, campaigns, consent, details, email, feedback, history,
                        home, mydata, preferences)
    app.register_blueprint(access.bp)
    app.register_blueprint(campaigns.bp)
    app.register_blueprint(mydata.bp)
    app.register_blueprint(preferences.bp)
    app.register_blueprint(consent.bp)
    app.register_blueprint(feedback.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(details.bp)
    app.register_blueprint(email.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(auth.password_bp)
    app.register_blueprint(home.bp)
    from portal import surveys
    app.register_blueprint(surveys.bp)


def register_guard(app):
    """One guard for the whole app: every page but the public ones needs a signed-in customer."""
    public = app.config["CC_PUBLIC_ENDPOINTS"]

    @app.before_request
    def _require_customer():
        if request.endpoint in public or request.endpoint is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.script_root + request.full_path.rstrip("?")))
        return None
