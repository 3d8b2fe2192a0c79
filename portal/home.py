"""My card: the customer's own card at a glance."""
from flask import Blueprint, render_template
from flask_login import current_user

from services import cards

bp = Blueprint("home", __name__)


@bp.route("/")
def index():
    overview = cards.portal_overview(current_user.customer_id)
    return render_template("portal/home/index.html", **overview)
