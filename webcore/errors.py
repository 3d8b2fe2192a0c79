"""Friendly error pages in both languages; never a traceback, SQL or path."""
import logging

from flask import render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from peewee import InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


def _messages():
    return {
        400: (_("Bad request"), _("The request could not be understood. Please go back and try again.")),
        403: (_("Not allowed"), _("You do not have permission to open this page.")),
        404: (_("Page not found"), _("This page does not exist, or you cannot see it.")),
        405: (_("Not allowed"), _("This action is not available here.")),
        413: (_("Too large"), _("The upload is too large.")),
        429: (_("Too many attempts"), _("Too many attempts. Please wait a minute and try again.")),
        500: (_("Something went wrong"), _("An error occurred on our side. It has been logged; please try again.")),
        503: (_("Temporarily unavailable"), _("The service is temporarily unavailable. Please try again in a moment.")),
    }


def render_error(code):
    title, message = _messages().get(code, _messages()[500])
    if request.accept_mimetypes.best == "application/json":
        return {"error": title}, code
    return render_template("errors/error.html", code=code, title=title, message=message), code


def init_app(app):
    @app.errorhandler(HTTPException)
    def _http(exc):
        return render_error(exc.code if exc.code in _messages() else 500)

    @app.errorhandler(CSRFError)
    def _csrf(exc):
        title = _("Form expired")
        message = _("This form has expired or was sent from elsewhere. Please reload the page and try again.")
        return render_template("errors/error.html", code=400, title=title, message=message), 400

    @app.errorhandler(OperationalError)
    @app.errorhandler(InterfaceError)
    def _database_down(exc):
        log.error("database unavailable: %s", exc)
        return render_error(503)

    @app.errorhandler(Exception)
    def _unexpected(exc):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return render_error(500)
