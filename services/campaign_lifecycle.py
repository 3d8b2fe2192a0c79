"""A campaign's life after writing: start it now or schedule it, pause, resume or cancel it
(each move one conditional UPDATE, audited), and the check that it is ready to send. Sending
itself lives in services/campaign_send.py."""
import datetime

from peewee import SQL, Value

import models
from models import Campaign, CampaignRecipient, Customer
from services import N_, DomainError, audit, jobs, segments
from services.campaigns import snapshot


def _require_ready(campaign):
    if campaign.segment_id is None:
        raise DomainError(N_("Choose who receives it: a segment or a list."), "segment")
    if not (campaign.subject_zh or campaign.subject_en):
        raise DomainError(N_("Write the email in Chinese or in English."), "subject_zh")
    if campaign.survey_id is not None and campaign.survey.status != "open":
        raise DomainError(N_("Open the survey before sending a campaign that asks for it."),
                          "survey")


def _set_status(campaign, actor, action, allowed, **changes):
    """Move the campaign by one conditional UPDATE from one of ``allowed`` (race-safe)."""
    with models.atomic():
        before = snapshot(campaign)
        changes.setdefault("updated_at", models.utcnow())
        moved = Campaign.update(**changes).where(Campaign.id == campaign.id,
                                                 Campaign.status.in_(allowed)).execute()
        if moved != 1:
            raise DomainError(N_("The campaign changed in the meantime. Reload the page."))
        campaign = Campaign.get_by_id(campaign.id)
        audit.record(actor, action, "campaign", campaign.public_id, before=before,
                     after=snapshot(campaign))
    return campaign


def start(campaign, actor, when=None, now=None):
    """Send now (``when`` None or past) or schedule for ``when`` (naive UTC).

    Sending now queues one recipient row per card of the audience, in one INSERT ... SELECT,
    and hands the campaign to the job worker once this transaction commits."""
    now = now or models.utcnow()
    _require_ready(campaign)
    if when is not None and when > now + datetime.timedelta(minutes=1):
        check_send_at(when, now)
        return _set_status(campaign, actor, "campaign.schedule", ("draft",),
                           status="scheduled", scheduled_at=when, last_error=None)
    with models.atomic():
        campaign = _set_status(campaign, actor, "campaign.start", ("draft", "scheduled"),
                               status="sending", started_at=now, last_error=None)
        queue_recipients(campaign)
        jobs.enqueue(_send_task(), campaign.id)
    return campaign


def _send_task():
    from services import campaign_send  # sending imports this module
    return campaign_send.send_task


def queue_recipients(campaign):
    """One queued recipient row per live card of the audience (set-based; a card already
    queued is left as it is). Returns how many rows were added."""
    members = segments.members_query(campaign.segment).select(
        SQL(str(int(campaign.id))), Customer.id, Value("queued"), SQL("0"), Customer.tier)
    return (CampaignRecipient.insert_from(
        members, [CampaignRecipient.campaign, CampaignRecipient.customer,
                  CampaignRecipient.status, CampaignRecipient.attempts, CampaignRecipient.tier])
        .on_conflict_ignore().as_rowcount().execute())


def unschedule(campaign, actor):
    """A scheduled campaign goes back to draft (and can be changed again)."""
    return _set_status(campaign, actor, "campaign.unschedule", ("scheduled",),
                       status="draft", scheduled_at=None)


def pause(campaign, actor):
    """Stop sending after the message in flight; queued recipients wait."""
    return _set_status(campaign, actor, "campaign.pause", ("sending",), status="paused")


def resume(campaign, actor):
    with models.atomic():
        campaign = _set_status(campaign, actor, "campaign.resume", ("paused",),
                               status="sending")
        jobs.enqueue(_send_task(), campaign.id)
    return campaign


def cancel(campaign, actor):
    """Stop for good: recipients not yet sent are marked cancelled and never get the email."""
    with models.atomic():
        campaign = _set_status(campaign, actor, "campaign.cancel",
                               ("scheduled", "sending", "paused"),
                               status="cancelled", finished_at=models.utcnow())
        (CampaignRecipient.update(status="cancelled")
         .where(CampaignRecipient.campaign == campaign.id,
                CampaignRecipient.status == "queued").execute())
    return campaign


def fail_schedule(campaign, actor, error):
    """A scheduled campaign that could not start (e.g. its survey was closed) goes back to
    draft with the reason (the message's msgid, translated when shown), for staff to fix and
    start again."""
    return _set_status(campaign, actor, "campaign.schedule_failed", ("scheduled",),
                       status="draft", scheduled_at=None, last_error=error.message)


def due_scheduled(now=None):
    """Scheduled campaigns whose time has come."""
    return list(Campaign.select().where(Campaign.status == "scheduled",
                                        Campaign.scheduled_at <= (now or models.utcnow())))


def check_send_at(when, now=None):
    """A time staff chose to schedule for (naive UTC): in the future and within a year
    (``start`` alone would send at once for a time already past)."""
    now = now or models.utcnow()
    if when <= now + datetime.timedelta(minutes=1):
        raise DomainError(N_("Choose a time in the future."), "send_at")
    if when > now + datetime.timedelta(days=366):
        raise DomainError(N_("Schedule it within a year."), "send_at")
    return when


def check_ready(campaign):
    """DomainError if the campaign cannot be sent as it is (the check ``start`` makes), so the
    confirm step can say so before asking."""
    _require_ready(campaign)
