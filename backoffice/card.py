"""One customer card: the page, its edits and its records."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from services import DomainError, cards, customer_access
from services.actors import Actor
from webcore.forms import EmptyForm
from webcore.signin import client_ip

bp = Blueprint("card", __name__, url_prefix="/cards")


@bp.route("/<public_id>")
def detail(public_id):
    customer = cards.get_card(public_id)
    if customer is None:
        abort(404)
    return render_template("backoffice/card/detail.html", form=EmptyForm(),
                           **cards.card_detail(customer))


@bp.route("/<public_id>/invite", methods=["POST"])
def invite(public_id):
    """Email the customer an invitation to the portal (or send it again)."""
    customer = cards.get_card(public_id)
    if customer is None or not EmptyForm().validate_on_submit():
        abort(404 if customer is None else 400)
    actor = Actor.for_staff(current_user.user, client_ip(), request.user_agent.string)
    try:
        account = customer_access.invite(customer, actor)
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "warning")
    else:
        flash(_("Invitation sent to %(email)s.", email=account.email), "success")
    return redirect(url_for("card.detail", public_id=public_id))
