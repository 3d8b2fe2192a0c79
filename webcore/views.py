"""Blueprints both apps use with their own templates: sign-in/out and password change."""
from collections.abc import Callable
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from services import DomainError, accounts
from webcore.errors import render_error
from webcore.forms import EmptyForm, LoginForm, PasswordChangeForm, show_error
from webcore.i18n import lazy_gettext as _l
from webcore.signin import (
    begin_second_step,
    client_ip,
    login_allowed,
    pending_second_step,
    sign_in,
    sign_out,
)
from webcore.urls import safe_next


@dataclass(frozen=True)
class SecondFactor:
    """A second sign-in step after the password, for the principals ``needed(user)`` says.

    ``verify(user, code, actor)`` accepts a code once; ``load(id)`` finds the user again;
    ``make_actor(user, ip, user_agent)`` names who acted for the audit trail."""
    needed: Callable
    verify: Callable
    load: Callable
    make_actor: Callable
    template: str


class SecondStepForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(_l("Enter the code.")),
                                               Length(max=32)])


def auth_blueprint(authenticate, template, home_endpoint, second_factor=None):
    """/login and /logout for one kind of principal (``authenticate(email, password)``), and
    /login/code when a ``second_factor`` is given."""
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        form = LoginForm(next=request.args.get("next", ""))
        if form.validate_on_submit():
            if not login_allowed(form.email.data):
                return render_error(429)
            user = authenticate(form.email.data, form.password.data)
            if user is not None:
                target = safe_next(form.next.data)
                if second_factor is not None and second_factor.needed(user):
                    begin_second_step(user, target)
                    return redirect(url_for("auth.code"))
                sign_in(user)
                return redirect(target or url_for(home_endpoint))
            # One answer for an unknown email and a wrong password: no account enumeration.
            form.password.errors.append(_("The email or password is not correct."))
        return render_template(template, form=form)

    if second_factor is not None:
        bp.add_url_rule("/login/code", "code", _second_step_view(second_factor, home_endpoint),
                        methods=["GET", "POST"])

    @bp.route("/logout", methods=["POST"])
    def logout():
        if not EmptyForm().validate_on_submit():
            abort(400)
        sign_out()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))

    return bp


def _second_step_view(second_factor, home_endpoint):
    def code():
        """The second step: the session starts only once the code is right."""
        user, target = pending_second_step(second_factor.load)
        if user is None:
            flash(_("Please sign in again."), "info")
            return redirect(url_for("auth.login"))
        form = SecondStepForm()
        if form.validate_on_submit():
            if not login_allowed(user.email, "second-step"):
                return render_error(429)
            actor = second_factor.make_actor(user, client_ip(), request.user_agent.string)
            if second_factor.verify(user, form.code.data, actor):
                sign_in(user)
                return redirect(target or url_for(home_endpoint))
            form.code.errors.append(_("This code is not correct, or it has been used already."))
        return render_template(second_factor.template, form=form)
    return code


def password_blueprint(template, home_endpoint, make_actor):
    """/account/password: change the password; every other session of this user ends."""
    bp = Blueprint("account", __name__, url_prefix="/account")

    @bp.route("/password", methods=["GET", "POST"])
    def password():
        form = PasswordChangeForm()
        if form.validate_on_submit():
            actor = make_actor(current_user.user, client_ip(), request.user_agent.string)
            try:
                accounts.change_password(current_user.user, form.current_password.data,
                                         form.new_password.data, actor,
                                         keep_token=current_user.token)
            except DomainError as exc:
                show_error(form, exc, "current_password")
            else:
                flash(_("Your password has been changed. Other devices have been signed out."),
                      "success")
                return redirect(url_for(home_endpoint))
        return render_template(template, form=form)

    return bp
