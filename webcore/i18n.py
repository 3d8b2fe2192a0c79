"""Language and time zone: switcher, then saved preference, then Accept-Language, then default."""
import weakref

from flask import Blueprint, current_app, redirect, request, session
from flask_babel import Babel, LazyString, get_locale, get_translations
from flask_login import current_user
from jinja2 import pass_eval_context
from markupsafe import Markup

from webcore import requestcache
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
    install_template_gettext(app.jinja_env)


def _state():
    """(locale, "zh"/"en", translations) of this request, looked up once per locale.

    Flask-Babel keeps the request's locale in ``g._flask_babel.babel_locale``; the cache is
    keyed on that object, so ``force_locale`` and ``refresh`` still switch languages."""
    request_g = requestcache.request_g()
    if request_g is None:
        translations = get_translations()
        return None, str(get_locale() or "zh")[:2], translations, {}
    babel = request_g.__dict__.get("_flask_babel")
    locale = getattr(babel, "babel_locale", None)
    state = request_g.__dict__.get("_cc_i18n")
    if state is not None and locale is not None and state[0] is locale:
        return state
    translations = get_translations()  # resolves (and caches) the locale too
    locale = get_locale()
    state = request_g._cc_i18n = (locale, str(locale or "zh")[:2], translations,
                                  _PLAIN.setdefault(translations, {}))
    return state


# Per translations object: msgid -> the template's text for a gettext call without variables.
_PLAIN = weakref.WeakKeyDictionary()


def translations():
    """The request's translations object (Flask-Babel's, looked up once per locale)."""
    return _state()[2]


def gettext(string, **variables):
    """Flask-Babel's ``gettext`` for views, with the request's translations looked up once."""
    text = _state()[2].ugettext(string)
    return text % variables if variables else text


def lazy_gettext(string, **variables):
    """Flask-Babel's ``lazy_gettext`` (form labels, messages declared at import time),
    translated by ``gettext`` above when shown: a form page shows dozens of them, and
    Flask-Babel's own looks the request's translations up again for each."""
    return LazyString(gettext, string, **variables)


def current_lang():
    """The page's language, "zh" or "en"."""
    return _state()[1]


def install_template_gettext(env):
    """``_``, ``gettext`` and ``ngettext`` in templates as Flask-Babel installs them (Jinja's
    "newstyle": autoescaped, %-formatted with the keyword arguments), reading the request's
    translations once instead of through three context lookups per call."""
    env.install_gettext_callables(
        gettext=lambda s: _state()[2].ugettext(s),
        ngettext=lambda s, p, n: _state()[2].ungettext(s, p, n),
        pgettext=lambda c, s: _state()[2].upgettext(c, s),
        npgettext=lambda c, s, p, n: _state()[2].unpgettext(c, s, p, n),
        newstyle=True)
    # The two a page calls most, written out as Jinja's newstyle wrappers are (escape, then
    # %-format), minus a layer of calls; "_" without the alias's lookup of "gettext".
    env.globals.update(_=_template_gettext, gettext=_template_gettext,
                       ngettext=_template_ngettext)


# Only the autoescape setting is needed, so the evaluation context is asked for rather than
# the template context: Jinja hands a function that takes the context, when called inside a
# block or loop that set variables, a copy of the context holding them (a page calls "_"
# fifty times, each copy a dict of every template variable).
@pass_eval_context
def _template_gettext(eval_ctx, string, /, **variables):
    state = _state()
    autoescape = eval_ctx.autoescape
    if autoescape and not variables:  # most calls: the same text every time, so keep it
        rv = state[3].get(string)
        if rv is None:
            rv = state[3][string] = Markup(state[2].ugettext(string)) % variables
        return rv
    rv = state[2].ugettext(string)
    if autoescape:
        rv = Markup(rv)
    return rv % variables


@pass_eval_context
def _template_ngettext(eval_ctx, singular, plural, num, /, **variables):
    variables.setdefault("num", num)
    rv = _state()[2].ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        rv = Markup(rv)
    return rv % variables


@bp.route("/language", methods=["POST"])
def set_language():
    """The language switcher: remember the choice, also on the signed-in user's profile."""
    code = request.form.get("lang")
    if code in LANGUAGES:
        session["lang"] = code
        if _signed_in():
            current_user.save_language(code)
    return redirect(safe_next(request.form.get("next")) or request.script_root + "/")
