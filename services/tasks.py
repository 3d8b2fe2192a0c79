"""Follow-up tasks: created from the card or an interaction, listed on "My day" (overdue, today,
the next 7 days) in the business's time zone, reassigned, and marked done (kept, with who and
when). Every write is audited."""
import datetime

from babel import dates
from peewee import JOIN, fn

import models
from models import Customer, StaffUser, Task
from services import N_, DomainError, audit, runtime
from services.prepared import Prepared
from services.text import clean_text

KINDS = ("follow_up", "birthday", "stale_data", "feedback", "survey")
TITLE_MAX = 200
NOTES_MAX = 2000
UPCOMING_DAYS = 7


def today():
    """Today's date in the business's time zone (config TIMEZONE, default Asia/Shanghai)."""
    zone = dates.get_timezone(runtime.get("BABEL_DEFAULT_TIMEZONE"))
    return datetime.datetime.now(zone).date()


def clean_due_date(due_date):
    if isinstance(due_date, datetime.datetime) or not isinstance(due_date, datetime.date):
        raise DomainError(N_("Enter a due date."), "due_date")
    if not datetime.date(2000, 1, 1) <= due_date <= datetime.date(2999, 12, 31):
        raise DomainError(N_("Enter a due date between 2000 and 2999."), "due_date")
    return due_date


def _clean_assignee(assignee):
    if assignee is not None and not assignee.is_active:
        raise DomainError(N_("Choose an active staff member."), "assignee")
    return assignee


def _snapshot(task):
    return {"title": task.title, "due_date": task.due_date, "kind": task.kind,
            "assignee": task.assignee.public_id if task.assignee_id else None,
            "notes": task.notes}


def create_follow_up(customer, actor, title, due_date, assignee=None, interaction=None,
                     kind="follow_up", notes=""):
    """Create a follow-up task on ``customer`` (None: not about one card); audited."""
    title = clean_text(title, "title", TITLE_MAX, required=N_("Write what needs doing."))
    notes = clean_text(notes, "notes", NOTES_MAX, multiline=True)
    due_date, assignee = clean_due_date(due_date), _clean_assignee(assignee)
    if kind not in KINDS:
        raise DomainError(N_("Choose a kind of task."), "kind")
    if customer is not None and customer.erased_at is not None:
        raise DomainError(N_("This card has been erased."), "customer")
    with models.atomic():
        task = Task.create(customer=customer, kind=kind, title=title, notes=notes,
                           due_date=due_date, assignee=assignee, interaction=interaction)
        audit.record(actor, "task.create", "task", task.public_id,
                     customer_id=customer.id if customer is not None else None,
                     after=_snapshot(task))
    return task


def mark_done(task, actor, staff):
    """Mark the task done by ``staff`` (kept, with the time); done twice is still done once."""
    if task.done_at is not None:
        return task
    with models.atomic():
        task.done_at, task.done_by = models.utcnow(), staff
        task.save(only=[Task.done_at, Task.done_by])
        audit.record(actor, "task.done", "task", task.public_id, customer_id=task.customer_id,
                     before={"done_at": None}, after={"done_at": task.done_at})
    return task


def reopen(task, actor):
    """Undo "done": the task is open again; audited."""
    if task.done_at is None:
        return task
    with models.atomic():
        before = task.done_at
        task.done_at, task.done_by = None, None
        task.save(only=[Task.done_at, Task.done_by])
        audit.record(actor, "task.reopen", "task", task.public_id, customer_id=task.customer_id,
                     before={"done_at": before}, after={"done_at": None})
    return task


def reassign(task, assignee, actor):
    """Give the task to another active staff member (None: to nobody); audited."""
    assignee = _clean_assignee(assignee)
    with models.atomic():
        before = task.assignee.public_id if task.assignee_id else None
        task.assignee = assignee
        task.save(only=[Task.assignee])
        audit.record(actor, "task.reassign", "task", task.public_id,
                     customer_id=task.customer_id, before={"assignee": before},
                     after={"assignee": assignee.public_id if assignee else None})
    return task


# The nav badge's count runs on every back-office page: prepared (SQL built once).
_OPEN_COUNT = Prepared(lambda staff_id, on: Task.select(fn.COUNT(Task.id)).where(
    Task.assignee == staff_id, Task.done_at.is_null(), Task.due_date <= on),
    Prepared.ID, Prepared.DATE)


def open_count(staff, on=None):
    """How many of ``staff``'s open tasks are overdue or due today (the nav badge): one
    indexed count on (assignee, done_at, due_date)."""
    return _OPEN_COUNT.scalar(staff.id, on or today()) or 0


CARD_COLUMNS = (Customer.id, Customer.public_id, Customer.name)  # a task's card, as listed


def my_day(staff=None, on=None, limit=200):
    """Open tasks due up to ``UPCOMING_DAYS`` ahead, grouped: {"overdue", "today", "upcoming"}.
    ``staff`` None: everybody's. Each row comes with its card and assignee (joined)."""
    on = on or today()
    assignee = StaffUser.alias("assignee")
    # the card's and assignee's few columns the list shows, not their whole rows
    query = (Task.select(Task, *CARD_COLUMNS, assignee.id, assignee.public_id, assignee.name)
             .join_from(Task, Customer, JOIN.LEFT_OUTER)
             .join_from(Task, assignee, JOIN.LEFT_OUTER, on=(Task.assignee == assignee.id))
             .where(Task.done_at.is_null(),
                    Task.due_date <= on + datetime.timedelta(days=UPCOMING_DAYS))
             .order_by(Task.due_date, Task.id).limit(limit))
    if staff is not None:
        query = query.where(Task.assignee == staff)
    groups = {"overdue": [], "today": [], "upcoming": []}
    for task in query:
        key = "overdue" if task.due_date < on else "today" if task.due_date == on else "upcoming"
        groups[key].append(task)
    return groups


def recently_done(staff=None, limit=20):
    """The latest tasks marked done (by ``staff``'s assignment, or everybody's)."""
    query = (Task.select(Task, *CARD_COLUMNS).join_from(Task, Customer, JOIN.LEFT_OUTER)
             .where(Task.done_at.is_null(False))
             .order_by(Task.done_at.desc(), Task.id.desc()).limit(limit))
    if staff is not None:
        query = query.where(Task.assignee == staff)
    return list(query)


def open_for_customer(customer, limit=50):
    """A card's open tasks, soonest first, with their assignee."""
    return list(Task.select(Task, StaffUser)
                .join_from(Task, StaffUser, JOIN.LEFT_OUTER, on=(Task.assignee == StaffUser.id))
                .where(Task.customer == customer, Task.done_at.is_null())
                .order_by(Task.due_date, Task.id).limit(limit))

