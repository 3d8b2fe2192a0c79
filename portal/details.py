"""My details: the customer corrects their own contact details under the field policies."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.forms import details_form, field_label
from services import DomainError, profile
from services.actors import Actor
from webcore.forms import show_error
from webcore.signin import client_ip

bp = Blueprint("details", __name__, url_prefix="/details")


@bp.route("/", methods=["GET", "POST"])
def edit():
    customer = current_user.customer
    policy = profile.policies()
    editable = [f for f, p in policy.items() if p in ("auto", "review")]
    values = profile.current_values(customer)
    form = details_form(editable, values)
    if form.validate_on_submit():
        actor = Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)
        try:
            applied, queued = profile.update_own_details(
                customer, {f: form[f].data for f in editable}, actor)
        except profile.FieldErrors as exc:
            for field, (message, params) in exc.errors.items():
                form[field].errors = list(form[field].errors) + [_(message, **params)]
        except DomainError as exc:
            show_error(form, exc)
        else:
            _flash_outcome(applied, queued)
            return redirect(url_for("details.edit"))
    locked = [(field_label(f), values[f]) for f, p in policy.items() if p == "locked"]
    return render_template("portal/details/edit.html", form=form, policy=policy, locked=locked,
                           pending=profile.pending_changes(customer), customer=customer)


def _flash_outcome(applied, queued):
    if applied:
        flash(_("Your details are saved."), "success")
    if queued:
        flash(_("Thank you. Changes to your name or company are checked by our staff first; "
                "until then your card keeps the old value."), "info")
    if not applied and not queued:
        flash(_("Nothing changed. Your details are confirmed as correct."), "info")
