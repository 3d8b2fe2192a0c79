"""Figures for the staff dashboard, each one indexed query."""
import datetime

import models
from models import ChangeRequest, Customer, Feedback, Task
from services import card_list


def summary(staff):
    today = models.utcnow().date()
    open_tasks = Task.select().where(Task.assignee == staff, Task.done_at.is_null())
    return {
        "customers": card_list.LIVE_CARDS.scalar(),
        "new_this_month": Customer.select().where(
            Customer.created_at >= datetime.datetime.combine(today.replace(day=1),
                                                             datetime.time())).count(),
        "tasks_due": open_tasks.where(Task.due_date <= today).count(),
        "tasks_open": open_tasks.count(),
        "feedback_new": Feedback.select().where(Feedback.status == "new").count(),
        "changes_pending": ChangeRequest.select().where(
            ChangeRequest.status == "pending").count(),
        # along the created_at index: SQLite without statistics would read every live card
        # through the erased_at index and sort them (100k cards: 190 ms against 0.1 ms)
        "recent_customers": list(Customer.select().where(
            card_list.live_cards_term(unindexed=True))
            .order_by(Customer.created_at.desc()).limit(8)),
    }
