"""How a survey reaches people: its anonymous public link, and personal invitations (one per
survey and card) with their signed, expiring links, sent by email to cards with marketing
consent."""
import datetime
import secrets

import models
from models import Customer, LinkToken, Survey, SurveyInvite
from services import N_, DomainError, audit, consent, links, mail
from services.surveys import text_in

MAX_INVITES = 500  # public ids per staff request
LINK_PURPOSE = "survey"


# --- the anonymous link -------------------------------------------------------------------------

def ensure_public_token(survey, actor):
    """Give the survey its anonymous link token (kept if it has one already)."""
    if survey.public_token:
        return survey.public_token
    with models.atomic():
        survey.public_token = secrets.token_urlsafe(18)
        survey.save(only=[Survey.public_token])
        audit.record(actor, "survey.public_link", "survey", survey.public_id,
                     after={"public_link": True})
    return survey.public_token


def revoke_public_token(survey, actor):
    """Stop the anonymous link: the old address no longer opens the survey."""
    with models.atomic():
        survey.public_token = None
        survey.save(only=[Survey.public_token])
        audit.record(actor, "survey.public_link", "survey", survey.public_id,
                     after={"public_link": False})


def public_link(survey):
    """The absolute address of the survey's anonymous link (it must have a token)."""
    return links.portal_url(f"/survey/p/{survey.public_token}")


# --- invitations --------------------------------------------------------------------------------

def invite(survey, customer, campaign=None):
    """The customer's invitation to ``survey`` (one per survey and customer: calling again
    returns the same row; an expired, unanswered one is given a fresh validity)."""
    now = models.utcnow()
    expires = now + datetime.timedelta(days=survey.invite_days)
    with models.atomic():
        (SurveyInvite.insert(survey=survey, customer=customer, campaign=campaign,
                             expires_at=expires, public_id=models.new_public_id())
         .on_conflict_ignore().execute())
        row = SurveyInvite.get((SurveyInvite.survey == survey)
                               & (SurveyInvite.customer == customer))
        if row.responded_at is None and row.expires_at <= now:
            row.expires_at = expires
            row.save(only=[SurveyInvite.expires_at])
            _sync_link_expiry(row)
    return row


def _invite_tokens(invite_row):
    return [token for token in LinkToken.select().where(
        LinkToken.purpose == LINK_PURPOSE, LinkToken.customer == invite_row.customer_id)
        if (token.data or {}).get("invite") == invite_row.public_id]


def _sync_link_expiry(invite_row):
    ids = [token.id for token in _invite_tokens(invite_row)]
    if ids:
        LinkToken.update(expires_at=invite_row.expires_at).where(
            LinkToken.id.in_(ids)).execute()


def invite_link(invite_row):
    """The absolute portal URL of the invitation: signed, purpose "survey", expiring with the
    invitation. The same invitation always gets the same link."""
    existing = _invite_tokens(invite_row)
    if existing:
        token = links.sign(LINK_PURPOSE, existing[0])
    else:
        lifetime = max(invite_row.expires_at - models.utcnow(), datetime.timedelta(0))
        token = links.issue(LINK_PURPOSE, invite_row.customer_id,
                            data={"invite": invite_row.public_id}, lifetime=lifetime)
        _sync_link_expiry(invite_row)  # exactly the invitation's expiry
    return links.portal_url(f"/survey/{token}")


def send_invites(survey, public_ids, actor):
    """Invite the cards with these public ids and email each its link, in its language.

    A survey invitation is marketing: cards without current email-marketing consent are
    skipped, as are erased cards and cards without an email address. Returns the counts.
    """
    if survey.status != "open":
        raise DomainError(N_("Open the survey before sending invitations."), "public_ids")
    wanted = list(dict.fromkeys(p.strip() for p in public_ids if p.strip()))
    if not wanted:
        raise DomainError(N_("Enter at least one card number."), "public_ids")
    if len(wanted) > MAX_INVITES:
        raise DomainError(N_("Send to at most %(max)d cards at once."), "public_ids",
                          max=MAX_INVITES)
    cards = {c.public_id: c for c in Customer.select().where(Customer.public_id.in_(wanted))}
    counts = dict.fromkeys(("sent", "unknown", "erased", "no_consent", "no_email",
                            "answered"), 0)
    for public_id in wanted:
        outcome = _invite_one(survey, cards.get(public_id), actor)
        counts[outcome] += 1
    return counts


def skip_reason(customer):
    """Why a survey email (invitation or reminder) must not go to ``customer``: "erased",
    "no_email", "no_consent"; None if it may."""
    if customer.erased_at is not None:
        return "erased"
    if not customer.primary_email:
        return "no_email"
    if not consent.has_consent(customer.id, consent.EMAIL_MARKETING):
        return "no_consent"
    return None


def _invite_one(survey, customer, actor):
    if customer is None:
        return "unknown"
    reason = skip_reason(customer)
    if reason is not None:
        return reason
    with models.atomic():
        row = invite(survey, customer)
        if row.responded_at is not None:
            return "answered"
        lang = customer.preferred_language if customer.preferred_language in ("zh", "en") \
            else "zh"
        subject, text = mail.render(
            "survey_invite.txt", lang, name=customer.name, title=text_in(survey, "title", lang),
            url=invite_link(row), expires_on=row.expires_at.date().isoformat(),
            unsubscribe_url=consent.unsubscribe_link(customer))
        mail.queue("survey", customer.primary_email, subject, text, customer=customer,
                   to_name=customer.name, headers=consent.list_unsubscribe_headers(customer))
        row.sent_at = models.utcnow()
        row.save(only=[SurveyInvite.sent_at])
        audit.record(actor, "survey.invite", "survey_invite", row.public_id,
                     customer_id=customer.id, after={"survey": survey.public_id})
    return "sent"
