"""Changing the sign-in email: ask (signed in), then confirm from the link sent to the new
address (the link page changes nothing; its button does)."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import link_error
from portal.forms import EmailChangeForm
from services import DomainError, email_change
from services.actors import Actor
from services.links import LinkError
from webcore.forms import EmptyForm, show_error
from webcore.signin import client_ip

bp = Blueprint("email", __name__, url_prefix="/email")


@bp.route("/change", methods=["GET", "POST"])
def change():
    form = EmailChangeForm()
    if form.validate_on_submit():
        actor = Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)
        try:
            email = email_change.request_change(current_user.user, form.email.data,
                                                form.password.data, actor)
        except DomainError as exc:
            show_error(form, exc, "email")
        else:
            return render_template("portal/email/sent.html", email=email)
    return render_template("portal/email/change.html", form=form)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    try:
        email = email_change.pending_address(token)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            email = email_change.confirm(token, client_ip(), request.user_agent.string)
        except LinkError as exc:
            return link_error(exc)
        except DomainError as exc:
            flash(_(exc.message), "danger")
            return redirect(url_for("auth.login"))
        flash(_("Your sign-in email is now %(email)s.", email=email), "success")
        return redirect(url_for("home.index" if current_user.is_authenticated else "auth.login"))
    return render_template("portal/email/confirm.html", form=form, email=email)
