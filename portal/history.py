"""My history, read-only: purchases, service visits and survey answers. The customer is always
the signed-in one; nothing here takes a customer id from the request."""
from flask import Blueprint, render_template
from flask_login import current_user

from services import history
from webcore.pagination import Page

bp = Blueprint("history", __name__, url_prefix="/history")

PER_PAGE = 20


def _page(listing):
    rows, count = listing(current_user.customer_id)
    return Page(rows, per_page=PER_PAGE, count_query=count)


@bp.route("/purchases")
def purchases():
    return render_template("portal/history/purchases.html", page=_page(history.purchases))


@bp.route("/services")
def services():
    return render_template("portal/history/services.html",
                           page=_page(history.service_records))


@bp.route("/surveys")
def surveys():
    page = _page(history.survey_responses)
    return render_template("portal/history/surveys.html", page=page,
                           responses=history.with_answers(page.items))
