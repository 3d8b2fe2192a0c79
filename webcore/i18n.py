"""Language and time zone: switcher, then saved preference, then Accept-Language, then default."""
from flask import Blueprint, current_app, redirect, request, session
from flask_babel import Babel
from flask_login import current_user

from webcore.urls import safe_next

LANGUAGES = ("zh", "en")
bp = Blueprint("i18n", __name__)


def select_locale():
    chosen = session.get("lang")
    if chosen in LANGUAGES:
        return chosen
    saved = current_user.language if _signed_in() else None
    if saved in LANGUAGES:
        return saved
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    return request.accept_languages.best_match(LANGUAGES) or default


def _signed_in():
    return getattr(current_user, "is_authenticated", False)


def init_app(app):
    Babel(app, locale_selector=select_locale)


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switcher: remember the choice, also on the signed-in user's profile."""
    code = request.form.get("lang")
    if code in LANGUAGES:
        session["lang"] = code
        if _signed_in():
            current_user.save_language(code)
    return redirect(safe_next(request.form.get("next")) or request.script_root + "/")
