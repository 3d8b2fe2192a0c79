"""Campaigns: an email to a segment or list, with personalisation and an optional survey.

This module holds writing a campaign (validated, audited) and what its pages show: the list,
the audience and a preview for a real card. Starting, scheduling, pausing, resuming and
cancelling live in services/campaign_lifecycle.py, sending in services/campaign_send.py,
results and open tracking in services/campaign_results.py.

A campaign's subject and body are written per language with placeholders in double braces
(``{{ name }}``); only the names in PLACEHOLDERS exist, so staff text is never run as a template.
"""
import re

from peewee import JOIN, fn

import models
from models import Campaign, CampaignRecipient, Customer, Segment, StaffUser, Survey
from services import N_, DomainError, access, audit, mail, segments, surveys
from services.profile import FieldErrors
from services.text import clean_text

NAME_MAX, GOAL_MAX, SUBJECT_MAX, BODY_MAX = 200, 2000, 200, 20_000
RATE_RANGE = (1, 100_000)  # messages per minute
ATTRIBUTION_RANGE = (1, 365)  # days after sending a purchase counts as a conversion
PLACEHOLDERS = {
    "name": N_("the customer's name"),
    "tier": N_("the customer's tier, in their language"),
    "business": N_("your business name"),
    "survey_link": N_("the customer's personal survey link (needs a survey)"),
    "confirm_link": N_("a link where the customer confirms their details are still correct"),
}
_PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
# draft -> scheduled -> sending <-> paused -> finished; draft/scheduled/sending/paused -> cancelled
EDITABLE = ("draft",)


def find(public_id):
    if not public_id or "\x00" in public_id:
        return None
    return Campaign.get_or_none(Campaign.public_id == public_id)


def list_query():
    """Campaigns newest first with their audience and how many were sent (one query)."""
    total = (CampaignRecipient.select(fn.COUNT(CampaignRecipient.id))
             .where(CampaignRecipient.campaign == Campaign.id))
    sent = total.where(CampaignRecipient.status == "sent")
    return (Campaign.select(Campaign, Segment.name.alias("segment_name"),
                            total.alias("recipient_count"), sent.alias("sent_count"))
            .join(Segment, JOIN.LEFT_OUTER, on=(Campaign.segment == Segment.id))
            .order_by(Campaign.created_at.desc(), Campaign.id.desc()))


# --- writing a campaign --------------------------------------------------------------------------

def placeholders_in(text):
    return [match.group(1) for match in _PLACEHOLDER.finditer(text or "")]


def fill(text, values):
    """``text`` with each {{ placeholder }} replaced by its value (unknown ones stay as typed;
    saving refuses them, so only old or hand-made text can have any)."""
    return _PLACEHOLDER.sub(lambda m: str(values.get(m.group(1), m.group(0))), text or "")


def _check_placeholders(text, field, has_survey):
    for name in placeholders_in(text):
        if name not in PLACEHOLDERS:
            raise DomainError(N_("{{ %(name)s }} is not a placeholder. Use one of: "
                                 "%(known)s."), field, name=name[:40],
                              known=", ".join(f"{{{{ {k} }}}}" for k in PLACEHOLDERS))
        if name == "survey_link" and not has_survey:
            raise DomainError(N_("Choose a survey to use {{ survey_link }}."), field)


def _whole(data, field, low, high, default=None):
    value = (str(data.get(field) or "")).strip()
    if not value:
        if default is None:
            return None
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise DomainError(N_("Enter a whole number from %(low)d to %(high)d."), field,
                          low=low, high=high)
    return int(value)


def _clean(data, staff):
    """The campaign's columns from form ``data`` (strings), or FieldErrors for every bad field."""
    values, errors = {}, {}

    def check(field, fn_):
        try:
            values[field] = fn_()
        except DomainError as exc:
            errors[exc.field or field] = (exc.message, exc.params)

    def name():
        value = clean_text(data.get("name"), "name", NAME_MAX)
        if not value:
            raise DomainError(N_("Give the campaign a name."), "name")
        return value

    def segment():
        public_id = (data.get("segment") or "").strip()
        row = (Segment.get_or_none(Segment.public_id == public_id)
               if public_id and "\x00" not in public_id else None)
        if row is None:
            raise DomainError(N_("Choose who receives it: a segment or a list."), "segment")
        return row

    def survey():
        public_id = (data.get("survey") or "").strip()
        if not public_id:
            return None
        row = surveys.find(public_id)
        if row is None or row.status == "closed":
            raise DomainError(N_("Choose a survey that is not closed."), "survey")
        return row

    def transactional():
        wanted = bool(data.get("is_transactional"))
        if wanted and not access.can(staff.role, "campaigns.transactional"):
            raise DomainError(N_("Only an administrator can mark a campaign as a service "
                                 "notice."), "is_transactional")
        return wanted

    check("name", name)
    check("goal", lambda: clean_text(data.get("goal"), "goal", GOAL_MAX, multiline=True))
    check("segment", segment)
    check("survey", survey)
    for lang in ("zh", "en"):
        subject_field, body_field = f"subject_{lang}", f"body_{lang}"
        check(subject_field, lambda f=subject_field: mail.safe_header(
            clean_text(data.get(f), f, SUBJECT_MAX), f))
        check(body_field, lambda f=body_field: clean_text(data.get(f), f, BODY_MAX,
                                                          multiline=True))
    check("rate_per_minute", lambda: _whole(data, "rate_per_minute", *RATE_RANGE))
    check("attribution_days", lambda: _whole(data, "attribution_days", *ATTRIBUTION_RANGE,
                                             default=30))
    check("is_transactional", transactional)
    values["track_opens"] = bool(data.get("track_opens"))
    has_survey = values.get("survey") is not None or "survey" in errors
    for lang in ("zh", "en"):
        for part in ("subject", "body"):
            field = f"{part}_{lang}"
            if field in values:
                try:
                    _check_placeholders(values[field], field, has_survey)
                except DomainError as exc:
                    errors[field] = (exc.message, exc.params)
        subject, body = values.get(f"subject_{lang}"), values.get(f"body_{lang}")
        if subject is not None and body is not None and bool(subject) != bool(body):
            missing = f"body_{lang}" if subject else f"subject_{lang}"
            errors.setdefault(missing, (N_("Write both the subject and the text in this "
                                           "language, or neither."), {}))
    if not errors and not (values["subject_zh"] or values["subject_en"]):
        errors["subject_zh"] = (N_("Write the email in Chinese or in English."), {})
    if not errors and values["survey"] is not None:
        for lang in ("zh", "en"):
            if values[f"body_{lang}"] and "survey_link" not in placeholders_in(
                    values[f"body_{lang}"]):
                errors[f"body_{lang}"] = (N_("Put {{ survey_link }} in the text so that "
                                             "recipients can answer the survey."), {})
    if errors:
        raise FieldErrors(errors)
    return values


def snapshot(campaign):
    return {"name": campaign.name, "status": campaign.status,
            "segment": campaign.segment.public_id if campaign.segment_id else None,
            "survey": campaign.survey.public_id if campaign.survey_id else None,
            "subject_zh": campaign.subject_zh, "subject_en": campaign.subject_en,
            "is_transactional": campaign.is_transactional, "track_opens": campaign.track_opens,
            "rate_per_minute": campaign.rate_per_minute,
            "attribution_days": campaign.attribution_days,
            "scheduled_at": campaign.scheduled_at}


def create(actor, staff, data):
    """A new draft campaign from form ``data``; FieldErrors if any field is wrong."""
    values = _clean(data, staff)
    with models.atomic():
        campaign = Campaign.create(created_by=staff, **values)
        audit.record(actor, "campaign.create", "campaign", campaign.public_id,
                     after=snapshot(campaign))
    return campaign


def update(campaign, actor, staff, data):
    """Change a draft campaign. A campaign that has started cannot change."""
    values = _clean(data, staff)
    with models.atomic():
        query = Campaign.select().where(Campaign.id == campaign.id)
        if models.is_postgres():  # SQLite's IMMEDIATE transaction already serialises this
            query = query.for_update()
        current = query.get()
        if current.status not in EDITABLE:
            raise DomainError(N_("Only a draft can be changed. Cancel the schedule first to "
                                 "change a scheduled campaign."))
        if current.is_transactional and not access.can(staff.role, "campaigns.transactional"):
            raise DomainError(N_("Only an administrator can change a service notice."),
                              "is_transactional")
        before = snapshot(current)
        values["updated_at"] = models.utcnow()
        Campaign.update(**values).where(Campaign.id == campaign.id).execute()
        campaign = Campaign.get_by_id(campaign.id)
        audit.record(actor, "campaign.update", "campaign", campaign.public_id, before=before,
                     after=snapshot(campaign))
    return campaign


def form_data(campaign):
    """The campaign as the strings its edit form shows."""
    return {"name": campaign.name, "goal": campaign.goal,
            "segment": campaign.segment.public_id if campaign.segment_id else "",
            "survey": campaign.survey.public_id if campaign.survey_id else "",
            "subject_zh": campaign.subject_zh, "subject_en": campaign.subject_en,
            "body_zh": campaign.body_zh, "body_en": campaign.body_en,
            "rate_per_minute": str(campaign.rate_per_minute or ""),
            "attribution_days": str(campaign.attribution_days),
            "track_opens": campaign.track_opens, "is_transactional": campaign.is_transactional}


def delete(campaign, actor):
    """Delete a draft (a campaign that sent anything keeps its results)."""
    with models.atomic():
        if campaign.status not in EDITABLE or campaign.recipients.exists():
            raise DomainError(N_("Only a draft that never sent can be deleted."))
        audit.record(actor, "campaign.delete", "campaign", campaign.public_id,
                     before=snapshot(campaign))
        campaign.delete_instance()


# --- audience and preview ------------------------------------------------------------------------

def audience_count(campaign):
    """How many live cards the campaign's segment or list holds now (before consent checks)."""
    if campaign.segment_id is None:
        return 0
    return segments.members_query(campaign.segment).select(Customer.id).count()


def sample_customer(campaign):
    """A card from the audience to preview the email with (the first by card id), or None."""
    if campaign.segment_id is None:
        return None
    return segments.members_query(campaign.segment).order_by(Customer.id).first()


def language_of(customer):
    return customer.preferred_language if customer.preferred_language in ("zh", "en") else "zh"


def content_for(campaign, lang):
    """(subject, body) in ``lang``, or in the other language when staff wrote only that one."""
    if getattr(campaign, f"subject_{lang}"):
        return getattr(campaign, f"subject_{lang}"), getattr(campaign, f"body_{lang}")
    other = "en" if lang == "zh" else "zh"
    return getattr(campaign, f"subject_{other}"), getattr(campaign, f"body_{other}")


def creator_name(campaign):
    if campaign.created_by_id is None:
        return ""
    return StaffUser.get_by_id(campaign.created_by_id).name


def segment_choices():
    """Segments and lists to send to, by name."""
    return list(Segment.select(Segment.public_id, Segment.name, Segment.kind)
                .order_by(Segment.name))


def survey_choices():
    """Surveys a campaign can ask for (not closed), newest first."""
    return list(Survey.select().where(Survey.status != "closed")
                .order_by(Survey.created_at.desc()))
