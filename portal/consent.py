"""The consent centre: give and withdraw consent per purpose, see the history, confirm the
emailed double opt-in link, and the one-click unsubscribe link of marketing emails.

Emailed links open a page first (GET changes nothing); only the POST acts. The unsubscribe POST
is the one state change without CSRF (RFC 8058: mail providers post it without cookies); the
signed link is its proof.
"""
from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale, gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField

from services import DomainError, consent
from services.actors import Actor
from portal.access import link_error
from services.links import LinkError
from webcore.forms import EmptyForm
from webcore.i18n import lazy_gettext as _l
from webcore.pagination import Page
from webcore.signin import client_ip

bp = Blueprint("consent", __name__)



class ConsentGrantForm(FlaskForm):
    """The grant button; sensitive purposes also need their separate-consent box ticked."""
    separate_consent = BooleanField(_l("I give my separate consent to this purpose."))


@bp.record_once
def _exempt_one_click(state):
    state.app.extensions["csrf"].exempt(one_click)


def _where():
    return {"ip": client_ip(), "user_agent": request.user_agent.string}


def _actor():
    return Actor.for_customer(current_user.user, **_where())


def _purpose_or_404(code):
    return consent.find_purpose(code) or abort(404)


def _lang():
    return str(get_locale() or "zh")[:2]


def _name(purpose):
    return purpose.name_en if _lang() == "en" else purpose.name_zh


def _centre(errors=None):
    return render_template("portal/consent/index.html", errors=errors or {},
                           rows=consent.consent_centre(current_user.customer))


@bp.route("/consent/")
def index():
    return _centre()


@bp.route("/consent/<code>/grant", methods=["POST"])
def grant(code):
    purpose = _purpose_or_404(code)
    form = ConsentGrantForm()
    try:
        result = consent.grant(current_user.customer, code, _actor(), "portal",
                               separate_consent=form.separate_consent.data, **_where())
    except DomainError as exc:
        return _centre({code: _(exc.message, **exc.params)})
    if result == "pending":
        flash(_("Almost done: open the link we have just emailed you to confirm "
                "%(purpose)s.", purpose=_name(purpose)), "info")
    else:
        flash(_("Thank you: you have given your consent to %(purpose)s.",
                purpose=_name(purpose)), "success")
    return redirect(url_for(".index"))


@bp.route("/consent/<code>/withdraw", methods=["POST"])
def withdraw(code):
    purpose = _purpose_or_404(code)
    consent.withdraw(current_user.customer, code, _actor(), "portal", **_where())
    flash(_("You have withdrawn your consent to %(purpose)s. This takes effect at once.",
            purpose=_name(purpose)), "success")
    return redirect(url_for(".index"))


@bp.route("/consent/history")
def history():
    page = Page(consent.history(current_user.customer_id), per_page=50)
    return render_template("portal/consent/history.html", page=page,
                           sources=consent.SOURCE_LABELS)


@bp.route("/consent/history.csv")
def history_csv():
    body = consent.history_csv(current_user.customer_id, _lang())
    return Response(body, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="consent-history.csv"',
        "Cache-Control": "no-store"})


@bp.route("/consent/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    try:
        purpose, email = consent.optin_request(token)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            purpose = consent.confirm_optin(token, **_where())
        except LinkError as exc:
            return link_error(exc)
        return render_template("portal/consent/confirmed.html", purpose=purpose)
    return render_template("portal/consent/confirm.html", form=form, purpose=purpose,
                           email=email)


@bp.route("/unsubscribe/<token>")
def unsubscribe(token):
    try:
        consent.check_unsubscribe(token)
    except LinkError as exc:
        return link_error(exc)
    return render_template("portal/consent/unsubscribe.html")


@bp.route("/unsubscribe/<token>", methods=["POST"])
def one_click(token):
    try:
        consent.unsubscribe(token, **_where())
    except LinkError as exc:
        return link_error(exc)
    return render_template("portal/consent/unsubscribed.html")

