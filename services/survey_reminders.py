"""Survey reminders: one email, once, to invitees who have not answered a set number of days
(the survey's ``reminder_days``) after their invitation was sent, with the invitation's own link.

Each card is checked again at send time (not erased, an email address, email-marketing consent).
An invitation is claimed by one conditional UPDATE of ``reminded_at``, so two workers running
at once send one reminder. A card skipped at send time is claimed as well, with the reason in its
audit event: it is not looked at again every hour, and never reminded later (consent given again
weeks afterwards is not a reason to chase an old survey).
"""
import datetime
import functools
import operator

from huey import crontab
from peewee import SQL, fn

import models
from models import AuditEvent, Customer, Survey, SurveyInvite
from services import DomainError, audit, consent, mail
from services.actors import Actor
from services.jobs import huey
from services.survey_invites import invite_link, skip_reason
from services.surveys import text_in

BATCH = 200  # invitations per query; each is its own short transaction
SENT, SKIPPED = "survey.remind", "survey.remind_skipped"
REASONS = ("erased", "no_email", "no_consent", "undeliverable")
MAIL_KIND = "survey_reminder"


def _late_enough(now, survey=None):
    """``sent_at`` at least the survey's reminder days before ``now``: one plain comparison per
    distinct setting (at most 60), the same SQL on SQLite and PostgreSQL, no date arithmetic."""
    if survey is not None:
        days = [survey.reminder_days] if survey.reminder_days else []
    else:
        days = [d for (d,) in Survey.select(Survey.reminder_days).distinct()
                .where(Survey.status == "open", Survey.reminder_days.is_null(False)).tuples()]
    if not days:
        return SQL("1 = 0")
    return functools.reduce(operator.or_, [
        (Survey.reminder_days == d) & (SurveyInvite.sent_at <= now - datetime.timedelta(days=d))
        for d in days])


def due_invites(now, survey=None):
    """Invitations due a reminder at ``now``: sent, not answered, not reminded, not expired, of an
    open survey with reminders whose days have passed since sending; oldest first, survey joined.
    ``survey`` narrows it to one survey."""
    query = (SurveyInvite.select(SurveyInvite, Survey).join(Survey)
             .where(SurveyInvite.sent_at.is_null(False), SurveyInvite.responded_at.is_null(),
                    SurveyInvite.reminded_at.is_null(), SurveyInvite.expires_at > now,
                    Survey.status == "open", Survey.reminder_days.is_null(False),
                    _late_enough(now, survey))
             .order_by(SurveyInvite.sent_at, SurveyInvite.id))
    if survey is not None:
        query = query.where(SurveyInvite.survey == survey)
    return query


def send_reminders(now=None, limit=BATCH, survey=None, actor=None):
    """Remind up to ``limit`` due invitations (of ``survey``, or of every survey); returns the
    counts: sent, and skipped per reason. An invitation another worker took is not counted."""
    now = now or models.utcnow()
    actor = actor or Actor.system("survey reminders")
    counts = dict.fromkeys(("sent",) + REASONS, 0)
    for row in list(due_invites(now, survey).limit(limit)):
        outcome = _remind_one(row, now, actor)
        if outcome is not None:
            counts[outcome] += 1
    return counts


def send_all_due(now=None):
    """Every due reminder, batch after batch (the hourly job); returns the summed counts."""
    totals = dict.fromkeys(("sent",) + REASONS, 0)
    while True:
        counts = send_reminders(now)
        for key, n in counts.items():
            totals[key] += n
        if sum(counts.values()) < BATCH:
            return totals


def _claim(row, now):
    """Mark the invitation reminded unless someone did already or the customer has answered
    meanwhile; True for the one caller that made the change."""
    still_open = Survey.select(Survey.id).where(Survey.status == "open")
    return bool(SurveyInvite.update(reminded_at=now).where(
        SurveyInvite.id == row.id, SurveyInvite.reminded_at.is_null(),
        SurveyInvite.responded_at.is_null(), SurveyInvite.expires_at > now,
        SurveyInvite.survey.in_(still_open)).execute())


def _remind_one(row, now, actor):
    """Claim, check and send one reminder in one transaction; the outcome, or None if lost."""
    with models.atomic():
        if not _claim(row, now):
            return None
        customer = Customer.get_by_id(row.customer_id)  # as it is now, not as queued
        reason = skip_reason(customer)
        if reason is None:
            try:
                with models.atomic():  # a refused address leaves nothing behind
                    _send(row, customer)
            except DomainError:
                reason = "undeliverable"
        after = {"survey": row.survey.public_id}
        if reason:
            after["reason"] = reason
        audit.record(actor, SKIPPED if reason else SENT, "survey_invite", row.public_id,
                     customer_id=customer.id, after=after)
    return reason or "sent"


def _send(row, customer):
    lang = customer.preferred_language if customer.preferred_language in ("zh", "en") else "zh"
    unsubscribe_url = consent.unsubscribe_link(customer)
    subject, text = mail.render(
        "survey_reminder.txt", lang, name=customer.name,
        title=text_in(row.survey, "title", lang), url=invite_link(row),
        expires_on=row.expires_at.date().isoformat(), unsubscribe_url=unsubscribe_url)
    mail.queue(MAIL_KIND, customer.primary_email, subject, text, customer=customer,
               to_name=customer.name,
               headers=consent.list_unsubscribe_headers(customer, url=unsubscribe_url))


def reminder_counts(invites):
    """{"sent": n, "skipped": n} for the invitations in the ``invites`` query (their public ids),
    counted from the reminders' audit events (one GROUP BY on the indexed entity columns)."""
    rows = (AuditEvent.select(AuditEvent.action, fn.COUNT(AuditEvent.id))
            .where(AuditEvent.entity == "survey_invite", AuditEvent.entity_id.in_(invites),
                   AuditEvent.action.in_((SENT, SKIPPED)))
            .group_by(AuditEvent.action).tuples())
    counts = dict(rows)
    return {"sent": counts.get(SENT, 0), "skipped": counts.get(SKIPPED, 0)}


def overview(survey, now=None):
    """What the survey page shows: reminders due now, and sent and skipped so far."""
    invites = SurveyInvite.select(SurveyInvite.public_id).where(SurveyInvite.survey == survey)
    return {"due": due_invites(now or models.utcnow(), survey).count(),
            **reminder_counts(invites)}


@huey.periodic_task(crontab(minute="20"))
def hourly_reminders():
    # Idempotent: a second run (or a second consumer) finds nothing left to claim.
    send_all_due()
