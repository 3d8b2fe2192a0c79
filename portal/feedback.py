"""My feedback: what I told the business, its replies, and a form to say something new."""
import secrets

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import ValidationError

from services import DomainError, feedback
from services.actors import Actor
from webcore.formatting import date
from webcore.forms import show_error
from webcore.i18n import lazy_gettext as _l
from webcore.labels import label
from webcore.pagination import Page
from webcore.signin import client_ip

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

CATEGORY_LABELS = {"product": _l("Product"), "service": _l("Service"), "delivery": _l("Delivery"),
                   "staff": _l("Staff"), "suggestion": _l("Suggestion"), "other": _l("Other")}
STATUS_LABELS = {"new": _l("Received"), "in_progress": _l("Being looked at"),
                 "replied": _l("Replied"), "resolved": _l("Resolved"), "closed": _l("Closed")}


def _whole_number(value):
    """"" is no rating; anything not a number goes on to the service, which refuses it."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return value


def _check(clean, field):
    """Run one of the service's field rules, so every field shows its error at once."""
    try:
        clean(field.data)
    except DomainError as exc:
        raise ValidationError(_(exc.message, **exc.params)) from exc


class FeedbackSubmitForm(FlaskForm):
    category = SelectField(_l("Topic"), validate_choice=False, choices=[
        SelectChoice("", _l("Choose a topic"))] + [
        SelectChoice(code, text) for code, text in CATEGORY_LABELS.items()])
    rating = RadioField(_l("Your rating"), coerce=_whole_number, validate_choice=False,
                        choices=[SelectChoice("", _l("No rating"))] + [
                            SelectChoice(str(n)) for n in range(1, 6)])
    message = TextAreaField(_l("Your message"), render_kw={"rows": 6})
    about = SelectField(_l("About a purchase or visit (optional)"), validate_choice=False)
    # Made when the form is shown: posting the same form twice gives one feedback.
    idempotency_key = HiddenField(default=lambda: secrets.token_urlsafe(24))

    def validate_category(self, field):
        _check(feedback.clean_category, field)

    def validate_rating(self, field):
        _check(feedback.clean_rating, field)

    def validate_message(self, field):
        _check(feedback.clean_message, field)

    def about_ids(self):
        kind, _sep, public_id = (self.about.data or "").partition(":")
        if kind in ("purchase", "service"):
            return {f"{kind}_public_id": public_id}
        return {"purchase_public_id": kind}  # "" is nothing; anything else is not found


def _about_choices(customer):
    """My recent purchases and visits, grouped, by public id (the service checks they are mine)."""
    purchases, services = feedback.recent_records(customer)
    bought, visited = _("Purchases"), _("Service history")
    return ([SelectChoice("", _("Nothing in particular"))]
            + [SelectChoice(f"purchase:{p.public_id}", f"{p.product} · {date(p.occurred_at)}",
                            optgroup=bought) for p in purchases]
            + [SelectChoice(f"service:{s.public_id}",
                            f"{label('service_type', s.service_type)} · {date(s.occurred_at)}",
                            optgroup=visited) for s in services])


@bp.route("/")
def index():
    page = Page(feedback.customer_feedback(current_user.customer_id), per_page=20)
    return render_template("portal/feedback/index.html", page=page,
                           categories=CATEGORY_LABELS, statuses=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    customer = current_user.customer
    form = FeedbackSubmitForm()
    form.about.choices = _about_choices(customer)
    if form.validate_on_submit():
        actor = Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)
        try:
            feedback.submit_feedback(customer, actor, form.category.data, form.rating.data,
                                     form.message.data, idempotency_key=form.idempotency_key.data,
                                     **form.about_ids())
        except DomainError as exc:
            show_error(form, exc)
        else:
            flash(_("Thank you! We have your feedback; our reply will appear here."), "success")
            return redirect(url_for("feedback.index"))
    return render_template("portal/feedback/new.html", form=form)
