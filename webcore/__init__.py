"""Flask plumbing both apps share: database per request, i18n, security headers, error pages,
server-side sign-in sessions, rate limits, template helpers. Knows Flask; knows no domain rules.

Layers: models <- services <- webcore <- portal / backoffice.
"""
from flask import Flask, request

import config
import models
from services import runtime
from webcore import cookies, errors, fastforms, i18n, security, signin, templating
from webcore.health import bp as health_bp

BASE_DIR = config.BASE_DIR


def build_app(import_name, settings, *, cookie_name, kind, login_endpoint, public_endpoints,
              layout, guard):
    """The common skeleton of a Customer Cards app; the caller adds its blueprints.

    ``kind`` is "customer" or "staff": whose sessions this app accepts. ``guard(app)`` installs
    the app-wide access check; it runs before CSRF, so a forbidden POST is a 403 either way.
    """
    app = Flask(import_name, template_folder=str(BASE_DIR / "templates"),
                static_folder=str(BASE_DIR / "static"), instance_path=str(config.INSTANCE_DIR))
    app.config.update(settings)
    app.config["SESSION_COOKIE_NAME"] = cookie_name
    app.config["CC_KIND"] = kind
    app.config["CC_LAYOUT"] = layout
    app.config["CC_PUBLIC_ENDPOINTS"] = frozenset(public_endpoints) | {"static", "health.healthz",
                                                                      "i18n.set_language"}
    app.session_interface = cookies.VerifiedCookieSessions()
    runtime.configure(settings)
    models.bind(settings["DATABASE_URL"])
    register_database_hooks(app)
    guard(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    signin.init_app(app, kind=kind, login_endpoint=login_endpoint)
    templating.init_app(app)
    fastforms.install()
    app.register_blueprint(health_bp)
    app.register_blueprint(i18n.bp)
    return app


def register_database_hooks(app):
    @app.before_request
    def _connect():
        # The health check opens its own connection so that it can answer 503 in JSON.
        if request.endpoint not in ("static", "health.healthz"):
            models.db.connect(reuse_if_open=True)

    @app.teardown_request
    def _close(exc):
        if not models.db.is_closed():
            if models.db.in_transaction():
                models.db.rollback()
            models.db.close()
