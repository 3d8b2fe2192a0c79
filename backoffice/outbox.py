"""The local mail outbox: in the embedded default, mail is kept here instead of being sent."""
from flask import Blueprint, abort, render_template

from services import mail
from webcore.pagination import Page

bp = Blueprint("outbox", __name__, url_prefix="/outbox")


@bp.route("/")
def index():
    return render_template("backoffice/outbox/index.html",
                           page=Page(mail.outbox_query(), per_page=50))


@bp.route("/<public_id>")
def detail(public_id):
    message = mail.get_message(public_id)
    if message is None:
        abort(404)
    return render_template("backoffice/outbox/detail.html", message=message)
