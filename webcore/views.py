"""Blueprints both apps use with their own templates: sign-in/out and password change."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from services import DomainError, accounts
from webcore.errors import render_error
from webcore.forms import EmptyForm, LoginForm, PasswordChangeForm, show_error
from webcore.signin import client_ip, login_allowed, sign_in, sign_out
from webcore.urls import safe_next


def auth_blueprint(authenticate, template, home_endpoint):
    """/login and /logout for one kind of principal (``authenticate(email, password)``)."""
    bp = Blueprint("auth", __name__)

    @bp.route("/login", methods=["GET", "POST"])
    def login():
        form = LoginForm(next=request.args.get("next", ""))
        if form.validate_on_submit():
            if not login_allowed(form.email.data):
                return render_error(429)
            user = authenticate(form.email.data, form.password.data)
            if user is not None:
                sign_in(user)
                return redirect(safe_next(form.next.data) or url_for(home_endpoint))
            # One answer for an unknown email and a wrong password: no account enumeration.
            form.password.errors.append(_("The email or password is not correct."))
        return render_template(template, form=form)

    @bp.route("/logout", methods=["POST"])
    def logout():
        if not EmptyForm().validate_on_submit():
            abort(400)
        sign_out()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))

    return bp


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
