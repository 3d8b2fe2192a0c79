"""Sending a campaign in the job worker: exactly one message per recipient row.

One worker at a time holds a campaign (a lease on the campaign row, renewed as it sends; a
worker that dies lets it lapse and the next run resumes). It takes queued recipients in batches
and, right before each batch, checks every card again: erased, no email address, or, unless the
campaign is a service notice, no email-marketing consent now -> skipped and counted as such.
Each message is stored once (an EmailMessage row with a Message-ID derived from the recipient
row, so a message sent again after a crash is recognisably the same one) and handed to one
SMTP connection kept open for the whole run. A 4xx answer or a dropped connection schedules the
recipient again with a growing delay; a 5xx marks it failed.
"""
import datetime
import time

from huey import crontab

import models
from models import Campaign, CampaignRecipient, Customer, EmailMessage, Tier
from services import (
    DomainError,
    audit,
    campaign_lifecycle,
    campaign_mail,
    campaign_results,
    consent,
    data_requests,
    jobs,
    mail,
    runtime,
)
from services.actors import Actor

BATCH = 50
LEASE = datetime.timedelta(minutes=5)
RENEW_AFTER = datetime.timedelta(minutes=1)
# Delay before the next try after the 1st, 2nd... temporary failure; after the last, failed.
BACKOFF = (datetime.timedelta(minutes=1), datetime.timedelta(minutes=5),
           datetime.timedelta(minutes=15), datetime.timedelta(hours=1),
           datetime.timedelta(hours=4))
MAX_ATTEMPTS = len(BACKOFF) + 1
SYSTEM = Actor.system("campaign sender")


def send(campaign_id, clock=models.utcnow, budget=None):
    """Send what is due of a campaign; returns counts of this run, or None when another worker
    holds it or it is not sending. ``clock`` gives "now" (tests move time); ``budget`` in
    seconds stops the run early (it reschedules itself)."""
    lease = _acquire(campaign_id, clock())
    if lease is None:
        return None
    sender = _Sender(Campaign.get_by_id(campaign_id), clock, lease)
    try:
        # Rows a dead worker left mid-send go back to the queue (same Message-ID when resent).
        (CampaignRecipient.update(status="queued")
         .where(CampaignRecipient.campaign == campaign_id,
                CampaignRecipient.status == "sending").execute())
        started = time.monotonic()
        while sender.still_sending():
            batch = _due_batch(campaign_id, clock())
            if not batch:
                break
            sender.send_batch(batch)
            if budget is not None and time.monotonic() - started > budget:
                jobs.enqueue(send_task, campaign_id)
                break
        _finish_or_reschedule(campaign_id, clock())
    finally:
        sender.close()
        Campaign.update(lease_until=None).where(Campaign.id == campaign_id,
                                                Campaign.lease_until == sender.lease).execute()
    return sender.counts


def _acquire(campaign_id, now):
    lease = now + LEASE
    taken = (Campaign.update(lease_until=lease)
             .where(Campaign.id == campaign_id, Campaign.status == "sending",
                    Campaign.lease_until.is_null() | (Campaign.lease_until < now)).execute())
    return lease if taken == 1 else None


def _due_batch(campaign_id, now):
    return list(CampaignRecipient.select()
                .where(CampaignRecipient.campaign == campaign_id,
                       CampaignRecipient.status == "queued",
                       CampaignRecipient.next_attempt_at.is_null()
                       | (CampaignRecipient.next_attempt_at <= now))
                .order_by(CampaignRecipient.id).limit(BATCH))


def _finish_or_reschedule(campaign_id, now):
    """Finished when nothing is left to send; otherwise run again when the next retry is due."""
    waiting = (CampaignRecipient.select(CampaignRecipient.next_attempt_at)
               .where(CampaignRecipient.campaign == campaign_id,
                      CampaignRecipient.status.in_(("queued", "sending")))
               .order_by(CampaignRecipient.next_attempt_at.asc(nulls="FIRST")).first())
    if waiting is None:
        with models.atomic():
            done = (Campaign.update(status="finished", finished_at=now, updated_at=now)
                    .where(Campaign.id == campaign_id, Campaign.status == "sending").execute())
            if done:
                campaign = Campaign.get_by_id(campaign_id)
                audit.record(SYSTEM, "campaign.finish", "campaign", campaign.public_id,
                             after=campaign_results.status_counts(campaign))
        return
    due = waiting.next_attempt_at
    if due is not None and due > now and Campaign.get_by_id(campaign_id).status == "sending":
        send_task.schedule((campaign_id,), eta=due)


class _Sender:
    """One run's SMTP connection, caches and counts. The statements run once per message are
    written as SQL once per run (a campaign sends thousands)."""

    def __init__(self, campaign, clock, lease):
        self.campaign, self.clock, self.lease = campaign, clock, lease
        self.renewed = clock()
        self.conn = None
        self.smtp = runtime.get("MAIL_URL") != "outbox"
        self.tiers = {tier.id: tier for tier in Tier.select()}
        self.interval = 60.0 / campaign.rate_per_minute if campaign.rate_per_minute else 0.0
        self.next_slot = time.monotonic()
        self.counts = dict.fromkeys(("sent", "retry", "failed", "skipped"), 0)
        p = models.db.param
        self.sql_status = f"SELECT status FROM campaign WHERE id = {p}"
        self.sql_outcome = (f"UPDATE campaign_recipient SET status = {p}, attempts = {p}, "
                            f"last_error = {p}, sent_at = {p}, next_attempt_at = {p} "
                            f"WHERE id = {p}")
        self.sql_blocked = _blocked_sql(campaign.is_transactional, 1)
        self.stamp = CampaignRecipient.sent_at.db_value

    def still_sending(self):
        status = models.db.execute_sql(self.sql_status, (self.campaign.id,)).fetchone()
        return bool(status) and status[0] == "sending" and self._renew()

    def _renew(self):
        """Keep the lease; False if another worker took the campaign over (this one stops)."""
        now = self.clock()
        if now - self.renewed < RENEW_AFTER:
            return True
        lease = now + LEASE
        kept = (Campaign.update(lease_until=lease)
                .where(Campaign.id == self.campaign.id, Campaign.lease_until == self.lease)
                .execute())
        if kept:
            self.lease, self.renewed = lease, now
        return bool(kept)

    def send_batch(self, batch):
        ready = self._prepare(batch)
        sent = []
        try:
            for recipient, row in ready:
                if not self.still_sending():
                    self._stop_midway(ready)
                    return
                self._pace()
                if self._still_allowed(recipient):
                    if self._deliver(recipient, row) == "sent":
                        sent.append(row.message_id)
        finally:
            if sent:  # the stored mails say "sent" too (the recipient rows already do)
                EmailMessage.update(status="sent", sent_at=self.clock(), error=None).where(
                    EmailMessage.message_id.in_(sent)).execute()

    def _stop_midway(self, ready):
        """Paused or cancelled mid-batch: what was not sent goes back to the queue (or is
        cancelled with the rest)."""
        with models.atomic():
            (CampaignRecipient.update(status="queued")
             .where(CampaignRecipient.id.in_([r.id for r, _row in ready]),
                    CampaignRecipient.status == "sending").execute())
            if Campaign.get_by_id(self.campaign.id).status == "cancelled":
                (CampaignRecipient.update(status="cancelled")
                 .where(CampaignRecipient.campaign == self.campaign.id,
                        CampaignRecipient.status == "queued").execute())

    # --- before sending: the checks of the moment, and the stored messages --------------------

    def _prepare(self, batch):
        """Skip whoever may not get the email now; store the others' messages (once, in one
        INSERT) and mark them "sending". Returns [(recipient, EmailMessage)]."""
        customers = {c.id: c for c in Customer.select().where(
            Customer.id.in_([r.customer_id for r in batch]))}
        blocked = self._blocked(list(customers))
        skips, sendable = {}, []
        for recipient in batch:
            customer = customers.get(recipient.customer_id)
            reason = "skipped_erased" if customer is None else blocked.get(customer.id)
            if reason:
                skips.setdefault(reason, []).append(recipient.id)
            else:
                sendable.append((recipient, customer))
        with models.atomic():
            for status, ids in skips.items():
                CampaignRecipient.update(status=status).where(
                    CampaignRecipient.id.in_(ids)).execute()
                self.counts["skipped"] += len(ids)
            if not sendable:
                return []
            stored = {row.message_id: row for row in EmailMessage.select().where(
                EmailMessage.message_id.in_([r.message_id for r, _c in sendable
                                             if r.message_id]))}
            unsubscribe = ({} if self.campaign.is_transactional else
                           consent.unsubscribe_links([c.id for _r, c in sendable]))
            ready, new = [], []
            for recipient, customer in sendable:
                row = stored.get(campaign_mail.message_id(self.campaign, recipient.id))
                if row is None:
                    row = campaign_mail.compose(
                        self.campaign, recipient.id, customer, self.tiers.get(customer.tier_id),
                        unsubscribe.get(customer.id), self.clock())
                    new.append(row)
                ready.append((recipient, row))
            EmailMessage.bulk_create(new)
            mid = campaign_mail.message_id_sql(self.campaign)
            (CampaignRecipient.update(status="sending", message_id=mid, email=(
                Customer.select(Customer.primary_email)
                .where(Customer.id == CampaignRecipient.customer)))
             .where(CampaignRecipient.id.in_([r.id for r, _row in ready])).execute())
        return ready

    # --- sending ---------------------------------------------------------------------------

    def _pace(self):
        if self.interval:
            wait = self.next_slot - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.next_slot = max(self.next_slot, time.monotonic()) + self.interval

    def _blocked(self, customer_ids):
        """{customer id: skip status} for cards that may not get the email now: erased or
        asking to be erased, without an email address, or (marketing) without consent."""
        if not customer_ids:
            return {}
        sql = _blocked_sql(self.campaign.is_transactional, len(customer_ids))
        return {customer_id: status for customer_id, status in
                models.db.execute_sql(sql, _blocked_params(self.campaign.is_transactional,
                                                           customer_ids)).fetchall()
                if status}

    def _still_allowed(self, recipient):
        """The check of the very moment before sending: a card erased or a consent withdrawn
        since the batch was prepared is skipped, and its unsent message removed."""
        row = models.db.execute_sql(self.sql_blocked, _blocked_params(
            self.campaign.is_transactional, [recipient.customer_id])).fetchone()
        status = "skipped_erased" if row is None else row[1]
        if not status:
            return True
        with models.atomic():
            CampaignRecipient.update(status=status, message_id=None).where(
                CampaignRecipient.id == recipient.id).execute()
            EmailMessage.delete().where(EmailMessage.message_id == campaign_mail.message_id(
                self.campaign, recipient.id), EmailMessage.status != "sent").execute()
        self.counts["skipped"] += 1
        return False

    def _deliver(self, recipient, row):
        """Hand the message over; note the outcome on the recipient row (one UPDATE)."""
        outcome, error = "sent", None
        if self.smtp:
            try:
                if self.conn is None:
                    self.conn = mail.smtp_connection()
            except (OSError, mail.smtplib.SMTPException) as exc:
                outcome, error = "retry", (str(exc) or type(exc).__name__)[:500]
            else:
                outcome, error, usable = mail.attempt(row, self.conn)
                if not usable:
                    mail.close_quietly(self.conn)
                    self.conn = None
        now = self.clock()
        attempts = recipient.attempts + 1
        if outcome == "retry" and attempts >= MAX_ATTEMPTS:
            outcome = "failed"
        with models.atomic():
            if outcome == "retry":
                models.db.execute_sql(self.sql_outcome, (
                    "queued", attempts, error, None,
                    self.stamp(now + BACKOFF[attempts - 1]), recipient.id))
            else:
                models.db.execute_sql(self.sql_outcome, (
                    outcome, attempts, error, self.stamp(now) if outcome == "sent" else None,
                    None, recipient.id))
            if outcome != "sent":
                EmailMessage.update(status="failed" if outcome == "failed" else "queued",
                                    error=error).where(EmailMessage.id == row.id).execute()
        self.counts[outcome] += 1
        return outcome

    def close(self):
        if self.conn is not None:
            mail.close_quietly(self.conn)
            self.conn = None


def _blocked_sql(transactional, count):
    """(customer id, skip status or NULL) for ``count`` cards: erased or asking to be erased,
    no email address, or (unless a service notice) no email-marketing consent now."""
    p = models.db.param
    granted = consent.granted_sql("c.id")
    no_consent = "" if transactional else f" WHEN NOT COALESCE(({granted}), {_false()}) " \
                                          "THEN 'skipped_consent'"
    placeholders = ", ".join([p] * count)
    open_statuses = ", ".join(f"'{s}'" for s in data_requests.OPEN)
    return (f"SELECT c.id, CASE WHEN c.erased_at IS NOT NULL OR EXISTS (SELECT 1 FROM "
            f"data_request d WHERE d.customer_id = c.id AND d.kind = 'erasure' AND d.status IN "
            f"({open_statuses})) THEN 'skipped_erased' WHEN c.primary_email IS NULL OR "
            f"c.primary_email = '' THEN 'skipped_no_email'{no_consent} END "
            f"FROM customer c WHERE c.id IN ({placeholders})")


def _blocked_params(transactional, customer_ids):
    prefix = () if transactional else consent.granted_sql_params(consent.EMAIL_MARKETING)
    return (*prefix, *customer_ids)


def _false():
    return "FALSE" if models.is_postgres() else "0"


@jobs.huey.task()
def send_task(campaign_id):
    send(campaign_id)


@jobs.huey.periodic_task(crontab(minute="*"))
def tick():
    """Every minute: start scheduled campaigns whose time has come, and pick up campaigns a
    dead worker left (lease lapsed) or whose retries are due."""
    now = models.utcnow()
    for campaign in campaign_lifecycle.due_scheduled(now):
        try:
            campaign_lifecycle.start(campaign, SYSTEM, now=now)
        except DomainError as exc:  # e.g. its survey was closed meanwhile
            campaign_lifecycle.fail_schedule(campaign, SYSTEM, exc)
    for campaign_id in (Campaign.select(Campaign.id)
                        .where(Campaign.status == "sending",
                               Campaign.lease_until.is_null()
                               | (Campaign.lease_until < now)).tuples()):
        send_task(campaign_id[0])
