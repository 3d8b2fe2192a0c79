"""Customers' data requests (downloads and erasures): the queue, open first, by deadline."""
from flask import Blueprint, render_template

import models
from services import data_requests
from webcore.pagination import Page

bp = Blueprint("requests", __name__, url_prefix="/requests")


@bp.route("/")
def index():
    rows, count = data_requests.queue()
    page = Page(rows, per_page=50, count_query=count)
    return render_template("backoffice/requests/index.html", page=page, now=models.utcnow(),
                           is_overdue=data_requests.is_overdue,
                           statuses=data_requests.STATUS_LABELS,
                           kinds=data_requests.KIND_LABELS)
