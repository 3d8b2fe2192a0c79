"""My details: the customer corrects their own contact details under the field policies."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from models import Customer
from portal.access import link_error
from portal.forms import details_form, field_label
from portal.preferences import build_inputs, flash_outcome, submitted
from services import DomainError, links, preferences, profile
from services.actors import Actor
from services.links import LinkError
from webcore.forms import EmptyForm, show_error
from webcore.signin import client_ip

bp = Blueprint("details", __name__, url_prefix="/details")


def _editable():
    return [f for f, p in profile.policies().items() if p in ("auto", "review")]


@bp.route("/", methods=["GET", "POST"])
def edit():
    customer = current_user.customer
    editable = _editable()
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
    return _render(customer, form, values)  # a failed save changed nothing: values still hold


def _render(customer, form, values, typed=None, errors=None):
    """The page: the details form, the card's own custom fields (section "card": their own
    form, posted to details.more) and what the shop keeps. ``values``: the saved details
    (``profile.current_values``), which the locked fields show."""
    policy = profile.policies()
    locked = [(field_label(f), values[f]) for f, p in policy.items() if p == "locked"]
    fields = preferences.portal_fields("card")
    lang = str(get_locale() or "zh")[:2]
    more, more_locked = build_inputs(customer, fields, preferences.editable(fields),
                                     preferences.values(customer, fields), typed or {},
                                     errors or {}, lang)
    return render_template("portal/details/edit.html", form=form, policy=policy,
                           locked=locked + more_locked, pending=profile.pending_changes(customer),
                           customer=customer, inputs=more, more_form=EmptyForm(),
                           more_errors=bool(errors))


@bp.route("/more", methods=["POST"])
def more():
    """Save the card's own custom fields the customer may change (auto or review)."""
    customer = current_user.customer
    form = EmptyForm()
    if not form.validate_on_submit():
        return redirect(url_for("details.edit"))
    typed = submitted(preferences.editable(preferences.portal_fields("card")))
    actor = Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)
    try:
        applied, queued = preferences.update_preferences(customer, typed, actor, "card")
    except preferences.FieldErrors as exc:
        errors = {key: _(message, **params) for key, (message, params) in exc.errors.items()}
        values = profile.current_values(customer)
        return _render(customer, details_form(_editable(), values), values, typed, errors)
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
        return redirect(url_for("details.edit"))
    flash_outcome(applied, queued, _("Your details are saved."))
    return redirect(url_for("details.edit") + "#more-details")


def _flash_outcome(applied, queued):
    flash_outcome(applied, queued, _("Your details are saved."),
                  _("Thank you. Changes to your name or company are checked by our staff first; "
                    "until then your card keeps the old value."),
                  _("Nothing changed. Your details are confirmed as correct."))


@bp.route("/confirm/<token>", methods=["GET", "POST"])
def confirm(token):
    """From an email: "are these still your details?" without a password. The page shows
    the card's contact details; its button confirms them (a GET changes nothing)."""
    try:
        row = links.peek("confirm_details", token)
    except LinkError as exc:
        return link_error(exc)
    customer = Customer.get_by_id(row.customer_id)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            profile.confirm_details(token, client_ip(), request.user_agent.string)
        except LinkError as exc:
            return link_error(exc)
        return render_template("portal/details/confirmed.html", customer=customer)
    return render_template("portal/details/confirm.html", form=form, customer=customer,
                           values=profile.current_values(customer))
