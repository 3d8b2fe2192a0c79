"""Customer cards: the list and a card."""
from flask import Blueprint, abort, render_template

from services import cards
from webcore.pagination import Page

bp = Blueprint("cards", __name__, url_prefix="/cards")


@bp.route("/")
def index():
    rows, count = cards.list_query()
    page = Page(rows, per_page=50, count_query=count)
    return render_template("backoffice/cards/index.html", page=page)


@bp.route("/<public_id>")
def detail(public_id):
    customer = cards.get_card(public_id)
    if customer is None:
        abort(404)
    return render_template("backoffice/cards/detail.html", **cards.card_detail(customer))
