"""The review queue: customers' changes that wait for staff, shown field by field."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from services import DomainError, reviews
from webcore.forms import EmptyForm
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("reviews", __name__, url_prefix="/reviews")
EDITABLE = ("name", "alt_name", "company", "job_title", "mobile", "phone", "wechat", "province",
            "city", "district", "address", "postal_code")



def _request_or_404(public_id):
    change = reviews.get(public_id)
    return change if change is not None else abort(404)


@bp.route("/")
def index():
    page = Page(reviews.pending_query(), per_page=50)
    return render_template("backoffice/reviews/index.html", page=page,
                           pref_fields=reviews.preference_fields(page.items))


@bp.route("/<public_id>")
def detail(public_id):
    return _render(_request_or_404(public_id), EmptyForm(), {})


@bp.route("/<public_id>/decide", methods=["POST"])
def decide(public_id):
    change, form = _request_or_404(public_id), EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        if request.form.get("decision") == "reject":
            reviews.reject(change, staff_actor(), request.form.get("reason"))
            flash(_("Rejected; the customer has been told why."), "info")
        else:
            edits = {f: request.form[f"new-{f}"] for f in EDITABLE if f"new-{f}" in request.form}
            reviews.accept(change, staff_actor(), edits)
            flash(_("Accepted; the card is updated and the customer has been told."),
                  "success")
    except DomainError as exc:
        errors = getattr(exc, "errors", None) or {exc.field or "form": (exc.message, exc.params)}
        return _render(change, form, errors), 400
    return redirect(url_for("reviews.index"))


def _render(change, form, errors):
    return render_template("backoffice/reviews/detail.html", change=change, form=form,
                           errors=errors, editable=EDITABLE, submitted=request.form,
                           pref_fields=reviews.preference_fields([change]))
