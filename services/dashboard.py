"""Figures for the staff dashboard, each one indexed query."""
import datetime

import models
from models import ChangeRequest, Customer, Feedback, Task


def summary(staff):
    today = models.utcnow().date()
    open_tasks = Task.select().where(Task.assignee == staff, Task.done_at.is_null())
    return {
        "customers": Customer.select().where(Customer.erased_at.is_null()).count(),
        "new_this_month": Customer.select().where(
            Customer.created_at >= datetime.datetime.combine(today.replace(day=1),
                                                             datetime.time())).count(),
        "tasks_due": open_tasks.where(Task.due_date <= today).count(),
        "tasks_open": open_tasks.count(),
        "feedback_new": Feedback.select().where(Feedback.status == "new").count(),
        "changes_pending": ChangeRequest.select().where(
            ChangeRequest.status == "pending").count(),
        "recent_customers": list(Customer.select().where(Customer.erased_at.is_null())
                                 .order_by(Customer.created_at.desc()).limit(8)),
    }
