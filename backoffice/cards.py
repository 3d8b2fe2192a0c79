"""Customer cards: the list."""
from flask import Blueprint, render_template

from services import cards
from webcore.pagination import Page

bp = Blueprint("cards", __name__, url_prefix="/cards")


@bp.route("/")
def index():
    rows, count = cards.list_query()
    page = Page(rows, per_page=50, count_query=count)
    return render_template("backoffice/cards/index.html", page=page)
