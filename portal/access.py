"""Getting into the portal without a password: invitation claim, sign-in link, reset.

Every emailed link opens a page first (GET changes nothing, so mail scanners that follow links
use nothing up); only the form's POST acts.
"""
from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_babel import get_locale
from flask_babel import gettext as _

from portal.forms import EmailRequestForm, RegisterForm, SetPasswordForm
from services import DomainError, customer_access
from services.links import LinkError
from webcore.errors import render_error
from webcore.forms import EmptyForm, show_error, show_errors
from webcore.signin import client_ip, login_allowed, sign_in

bp = Blueprint("access", __name__)


def link_error(exc):
    return render_template("portal/access/link_error.html", reason=exc.reason,
                           message=_(exc.message)), 400 if exc.reason == "invalid" else 410


def _where():
    return {"ip": client_ip(), "user_agent": request.user_agent.string}


@bp.route("/claim/<token>", methods=["GET", "POST"])
def claim(token):
    return _set_password(token, "invite", customer_access.claim, "portal/access/claim.html",
                         _("Welcome! Your password is set and you are signed in."))


def _set_password(token, purpose, act, template, done_message):
    """A page behind an emailed link where the customer chooses a password (claim, reset)."""
    try:
        account = customer_access.link_account(purpose, token)
    except LinkError as exc:
        return link_error(exc)
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            account = act(token, form.new_password.data, **_where())
        except LinkError as exc:
            return link_error(exc)
        except DomainError as exc:
            show_error(form, exc, "new_password")
        else:
            sign_in(account)
            flash(done_message, "success")
            return redirect(url_for("home.index"))
    return render_template(template, form=form, account=account)


def _request_page(template, send, action):
    """An email form that answers the same whether or not the address is known."""
    form = EmailRequestForm()
    if form.validate_on_submit():
        if not login_allowed(form.email.data, action):
            return render_error(429)
        send(form.email.data)
        return render_template("portal/access/check_email.html", email=form.email.data)
    return render_template(template, form=form)


@bp.route("/login/link", methods=["GET", "POST"])
def request_link():
    return _request_page("portal/access/link_request.html",
                         customer_access.request_login_link, "link")


@bp.route("/login/link/<token>", methods=["GET", "POST"])
def use_link(token):
    try:
        account = customer_access.link_account("login", token)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            account = customer_access.use_login_link(token, **_where())
        except LinkError as exc:
            return link_error(exc)
        sign_in(account)
        return redirect(url_for("home.index"))
    return render_template("portal/access/continue.html", form=form, account=account)


@bp.route("/reset", methods=["GET", "POST"])
def request_reset():
    return _request_page("portal/access/reset_request.html",
                         customer_access.request_password_reset, "reset")


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset(token):
    return _set_password(token, "reset", customer_access.reset_password,
                         "portal/access/reset.html",
                         _("Your new password is set. Every other device has been signed out."))


def _registration_open():
    if not current_app.config["SELF_REGISTRATION"]:
        abort(404)


@bp.route("/register", methods=["GET", "POST"])
def register():
    _registration_open()
    form = RegisterForm()
    if form.validate_on_submit():
        if not login_allowed(form.email.data, "register"):
            return render_error(429)
        try:
            customer_access.register(form.name.data, form.email.data, form.new_password.data,
                                     str(get_locale() or "zh")[:2], **_where())
        except DomainError as exc:
            show_errors(form, exc, "email")
        else:
            return render_template("portal/access/check_email.html", email=form.email.data)
    return render_template("portal/access/register.html", form=form)


@bp.route("/register/confirm/<token>", methods=["GET", "POST"])
def confirm_registration(token):
    _registration_open()
    try:
        account = customer_access.link_account("signup", token)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            account = customer_access.confirm_registration(token, **_where())
        except LinkError as exc:
            return link_error(exc)
        sign_in(account)
        flash(_("Welcome! Your customer card is open."), "success")
        return redirect(url_for("home.index"))
    return render_template("portal/access/continue.html", form=form, account=account)
