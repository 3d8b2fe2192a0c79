"""Follow-ups: "My day" (overdue, today, the next 7 days; everybody's for managers), a new
follow-up (posted from the card), done in one click (htmx swaps the row; a plain POST redirects),
reopen, and reassign."""
import datetime

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from models import Customer, StaffUser, Task
from services import DomainError, tasks
from services.access import can
from webcore.forms import EmptyForm, show_error
from webcore.i18n import lazy_gettext as _l
from webcore.signin import staff_actor
from webcore.urls import safe_next

bp = Blueprint("tasks", __name__, url_prefix="/tasks")

GROUPS = {"overdue": _l("Overdue"), "today": _l("Today"),
          "upcoming": _l("Next %(days)d days", days=tasks.UPCOMING_DAYS)}


class TaskNewForm(FlaskForm):
    customer = HiddenField()
    title = StringField(_l("What needs doing"), render_kw={"maxlength": tasks.TITLE_MAX})
    due_date = StringField(_l("Due"), render_kw={"type": "date"})
    assignee = SelectField(_l("Assigned to"))
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 3, "maxlength": tasks.NOTES_MAX})
    next = HiddenField()


class ReassignForm(FlaskForm):
    assignee = SelectField(_l("Assigned to"))
    next = HiddenField()


def _staff_choices(none_label=None):
    staff = (StaffUser.select(StaffUser.public_id, StaffUser.name)
             .where(StaffUser.is_active == True).order_by(StaffUser.name))
    head = [SelectChoice("", none_label)] if none_label else []
    return head + [SelectChoice(s.public_id, s.name) for s in staff]



def _task_or_404(public_id):
    task = None if "\x00" in public_id else Task.get_or_none(Task.public_id == public_id)
    if task is None:
        abort(404)
    return task


def _staff(public_id):
    if not public_id or "\x00" in public_id:
        return None
    return StaffUser.get_or_none(StaffUser.public_id == public_id)


def _date(text):
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None  # the service says "Enter a due date." at the field


def _back(default="tasks.my_day"):
    target = request.form.get("next") or request.args.get("next")
    return redirect(safe_next(target) or url_for(default))


@bp.app_context_processor
def _nav_badge():
    def my_day_count():
        user = getattr(current_user, "user", None)
        return tasks.open_count(user) if user is not None else 0
    return {"my_day_count": my_day_count}


def _who():
    """Whose tasks the page shows: me, all (managers), or one colleague (managers)."""
    who = request.args.get("who", "me")
    if who == "me" or not can(current_user.role, "tasks.manage"):
        return "me", current_user.user
    if who == "all":
        return "all", None
    colleague = _staff(who)
    return (who, colleague) if colleague is not None else ("me", current_user.user)


@bp.route("/")
def my_day():
    who, staff = _who()
    today = tasks.today()
    manager = can(current_user.role, "tasks.manage")
    return render_template(
        "backoffice/tasks/my_day.html", groups=tasks.my_day(staff, on=today), labels=GROUPS,
        who=who, today=today, done=tasks.recently_done(staff, limit=10),
        colleagues=_staff_choices() if manager else [], manager=manager,
        reassign_choices=_staff_choices(_("Nobody")), form=EmptyForm())


def _new_form(formdata=None):
    form = TaskNewForm(formdata=formdata) if formdata is not None else TaskNewForm()
    form.assignee.choices = _staff_choices()
    return form


def _render_new(form, customer):
    return render_template("backoffice/tasks/new.html", form=form, customer=customer)


@bp.route("/new", methods=["GET", "POST"])
def create():
    source = request.form if request.method == "POST" else request.args
    public_id = source.get("customer", "")
    customer = None if "\x00" in public_id else Customer.get_or_none(
        Customer.public_id == public_id, Customer.erased_at.is_null())
    if customer is None:
        abort(404)
    if request.method == "GET":
        form = _new_form()
        form.customer.data, form.next.data = customer.public_id, request.args.get("next", "")
        form.assignee.data = current_user.user.public_id
        form.due_date.data = tasks.today().isoformat()
        return _render_new(form, customer)
    form = _new_form(request.form)
    if not form.assignee.data:  # the card's quick form may leave it out: "me"
        form.assignee.data = current_user.user.public_id
    if form.validate_on_submit():
        try:
            tasks.create_follow_up(customer, staff_actor(), form.title.data,
                                   _date(form.due_date.data),
                                   assignee=_staff(form.assignee.data), notes=form.notes.data)
        except DomainError as exc:
            show_error(form, exc, "title")
        else:
            flash(_("Follow-up added."), "success")
            return redirect(safe_next(form.next.data)
                            or url_for("card.detail", public_id=customer.public_id))
    return _render_new(form, customer), 400


def _row_or_back(task, message):
    if request.headers.get("HX-Request"):
        return render_template("backoffice/tasks/_row.html", task=task, today=tasks.today(),
                               reassign_choices=_staff_choices(_("Nobody")), form=EmptyForm(),
                               show_assignee=bool(request.form.get("wide")), swapped=True)
    flash(message, "success")
    return _back()


@bp.route("/<public_id>/done", methods=["POST"])
def done(public_id):
    task = _task_or_404(public_id)
    if EmptyForm().validate_on_submit():
        tasks.mark_done(task, staff_actor(), current_user.user)
    return _row_or_back(task, _("Marked done: %(title)s", title=task.title))


@bp.route("/<public_id>/reopen", methods=["POST"])
def reopen(public_id):
    task = _task_or_404(public_id)
    if EmptyForm().validate_on_submit():
        tasks.reopen(task, staff_actor())
    return _row_or_back(task, _("Open again: %(title)s", title=task.title))


@bp.route("/<public_id>/reassign", methods=["POST"])
def reassign(public_id):
    task = _task_or_404(public_id)
    form = ReassignForm()
    form.assignee.choices = _staff_choices(_("Nobody"))
    if not form.validate_on_submit():
        flash(_("Choose an active staff member."), "danger")
        return _back()
    staff = _staff(form.assignee.data)
    try:
        tasks.reassign(task, staff, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
        return _back()
    flash(_("Assigned to %(name)s.", name=staff.name) if staff else _("Unassigned."), "success")
    return _back()

