"""The staff home page: today's work and the size of the book at a glance."""
from flask import Blueprint, render_template
from flask_login import current_user

from services import dashboard

bp = Blueprint("dashboard", __name__)


@bp.route("/")
def index():
    return render_template("backoffice/dashboard/index.html",
                           **dashboard.summary(current_user.user))
