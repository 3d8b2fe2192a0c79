"""Customers' feedback: the inbox (tabs by status, and mine), one feedback with its customer and
what it is about, and the staff's answers: assign, set the status, reply (emailed, and shown in
the portal)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField, ValidationError
from wtforms.fields.choices import SelectChoice

from models import Feedback, StaffUser
from services import DomainError, feedback
from webcore.forms import show_error
from webcore.i18n import lazy_gettext as _l
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("feedback", __name__, url_prefix="/feedback")

STATUS_LABELS = {"new": _l("New"), "in_progress": _l("In progress"), "replied": _l("Replied"),
                 "resolved": _l("Resolved"), "closed": _l("Closed")}
CATEGORY_LABELS = {"product": _l("Product"), "service": _l("Service"), "delivery": _l("Delivery"),
                   "staff": _l("Staff"), "suggestion": _l("Suggestion"), "other": _l("Other")}
# tab -> the inbox_query filter it shows; "mine" is what is assigned to the signed-in member.
TABS = {"all": _l("All"), "new": _l("New"), "in_progress": _l("In progress"),
        "resolved": _l("Resolved"), "mine": _l("Assigned to me")}
EXCERPT = 120  # characters of the message shown in the inbox

assert set(STATUS_LABELS) == set(feedback.STATUSES)


def _status_choices():
    return [SelectChoice(code, text) for code, text in STATUS_LABELS.items()]


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"))  # choices: "" (nobody) and the active staff


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=_status_choices)


class ReplyForm(FlaskForm):
    reply = TextAreaField(_l("Reply to the customer"),
                          render_kw={"rows": 6, "maxlength": feedback.REPLY_MAX})
    reply_status = SelectField(_l("Status after the reply"), choices=_status_choices,
                               default="resolved")

    def validate_reply(self, field):
        try:
            feedback.clean_message(field.data, "reply", feedback.REPLY_MAX)
        except DomainError as exc:
            raise ValidationError(_(exc.message, **exc.params)) from exc


def _assign_form(formdata=None):
    form = AssignForm(formdata=formdata) if formdata is not None else AssignForm()
    staff = (StaffUser.select(StaffUser.public_id, StaffUser.name)
             .where(StaffUser.is_active == True)
             .order_by(StaffUser.name))
    form.assignee.choices = [SelectChoice("", _("Nobody"))] + [
        SelectChoice(s.public_id, s.name) for s in staff]
    return form


def _get_or_404(public_id):
    # A NUL byte would make PostgreSQL refuse the query itself; such an id cannot exist anyway.
    row = None if "\x00" in public_id else Feedback.get_or_none(Feedback.public_id == public_id)
    if row is None:
        abort(404)
    return row



def _show(row, assign_form=None, status_form=None, reply_form=None):
    """The feedback page, with the form that failed (input kept) and the others fresh."""
    if assign_form is None:
        assign_form = _assign_form()
        assign_form.assignee.data = row.assignee.public_id if row.assignee_id else ""
    if status_form is None:
        status_form = StatusForm()
        status_form.status.data = row.status
    replied_by = StaffUser.get_or_none(StaffUser.id == row.replied_by_id) if row.replied_by_id else None
    return render_template("backoffice/feedback/detail.html", feedback=row,
                           customer=row.customer, purchase=row.purchase,
                           service=row.service_record, replied_by=replied_by,
                           assign_form=assign_form, status_form=status_form,
                           reply_form=reply_form or ReplyForm(),
                           statuses=STATUS_LABELS, categories=CATEGORY_LABELS)


@bp.route("/")
def index():
    tab = request.args.get("tab", "all")
    if tab not in TABS:
        tab = "all"
    if tab == "mine":
        rows, count = feedback.inbox_query(assignee=current_user.user)
    else:
        rows, count = feedback.inbox_query(status=None if tab == "all" else tab)
    page = Page(rows, per_page=50, count_query=count)
    return render_template("backoffice/feedback/index.html", page=page, tab=tab, tabs=TABS,
                           statuses=STATUS_LABELS, categories=CATEGORY_LABELS,
                           excerpt=EXCERPT)


@bp.route("/<public_id>")
def detail(public_id):
    return _show(_get_or_404(public_id))


@bp.route("/<public_id>/assign", methods=["POST"])
def assign(public_id):
    row = _get_or_404(public_id)
    form = _assign_form(request.form)
    if form.validate_on_submit():
        staff = (StaffUser.get_or_none(StaffUser.public_id == form.assignee.data)
                 if form.assignee.data else None)
        try:
            feedback.assign(row, staff, staff_actor())
        except DomainError as exc:
            show_error(form, exc, "assignee")
        else:
            flash(_("Assigned to %(name)s.", name=staff.name) if staff else _("Unassigned."),
                  "success")
            return redirect(url_for("feedback.detail", public_id=public_id))
    return _show(row, assign_form=form)


@bp.route("/<public_id>/status", methods=["POST"])
def status(public_id):
    row = _get_or_404(public_id)
    form = StatusForm()
    if form.validate_on_submit():
        try:
            feedback.set_status(row, form.status.data, staff_actor())
        except DomainError as exc:
            show_error(form, exc, "status")
        else:
            flash(_("Status set to %(status)s.", status=STATUS_LABELS[row.status]), "success")
            return redirect(url_for("feedback.detail", public_id=public_id))
    return _show(row, status_form=form)


@bp.route("/<public_id>/reply", methods=["POST"])
def reply(public_id):
    row = _get_or_404(public_id)
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            feedback.reply_to_feedback(row, staff_actor(), form.reply.data, form.reply_status.data)
        except DomainError as exc:
            if exc.field == "status":
                exc.field = "reply_status"
            show_error(form, exc, "reply")
        else:
            flash(_("Reply sent to the customer."), "success")
            return redirect(url_for("feedback.detail", public_id=public_id))
    return _show(row, reply_form=form)
