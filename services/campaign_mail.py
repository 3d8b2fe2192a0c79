"""A campaign's email for one card: the text in the card's language with its placeholders
filled (its own survey and confirm-details links), the unsubscribe line and headers of a
marketing email, the optional HTML part with the open-tracking image, and the Message-ID that
stays the same on every try. Also the preview staff read and the test they send themselves."""
import html
import re

from peewee import SQL, Cast, NodeList, Value

import models
from models import CampaignRecipient, SurveyInvite, Tier
from services import (
    audit,
    campaign_results,
    campaigns,
    consent,
    links,
    mail,
    profile,
    runtime,
    survey_invites,
)

_URL = re.compile(r"https?://[^\s<>\"]+")


def message_id(campaign, recipient_id):
    """The Message-ID of a recipient's message: the same on every try, unique per row."""
    return f"<campaign.{campaign.public_id}.{recipient_id}@{mail.domain()}>"


def message_id_sql(campaign):
    """``message_id`` as an SQL expression over the recipient row (set for a batch at once)."""
    return NodeList((Value(f"<campaign.{campaign.public_id}."), SQL("||"),
                     Cast(CampaignRecipient.id, "TEXT"), SQL("||"),
                     Value(f"@{mail.domain()}>")))


def _values(customer, tier, lang):
    """The placeholders every email has: the card's name, its tier in ``lang``, the business."""
    return {"name": mail.display_name(customer.name if customer is not None else ""),
            "tier": (getattr(tier, f"name_{lang}") or tier.name_zh) if tier else "",
            "business": mail.display_name(runtime.get("BUSINESS_NAME"))}


def _render(campaign, lang, values, unsubscribe_url):
    """(subject, text) from templates/email/campaign.txt with the placeholders filled."""
    subject, body = campaigns.content_for(campaign, lang)
    return mail.render("campaign.txt", lang, subject_line=campaigns.fill(subject, values),
                       body=campaigns.fill(body, values), unsubscribe_url=unsubscribe_url)


def compose(campaign, recipient_id, customer, tier, unsubscribe_url, now):
    """The recipient's message, personalised in their language: an unsaved EmailMessage (the
    sender stores a batch in one INSERT). Creates the card's survey invitation if the text asks
    for ``{{ survey_link }}`` and a confirm-details link for ``{{ confirm_link }}``."""
    lang = campaigns.language_of(customer)
    values = _values(customer, tier, lang)
    used = campaigns.placeholders_in(campaigns.content_for(campaign, lang)[1])
    if "survey_link" in used and campaign.survey_id:
        invite = survey_invites.invite(campaign.survey, customer, campaign=campaign)
        values["survey_link"] = survey_invites.invite_link(invite)
        if invite.sent_at is None:
            invite.sent_at = now
            invite.save(only=[SurveyInvite.sent_at])
    if "confirm_link" in used:
        values["confirm_link"] = profile.confirm_details_link(customer)
    subject, text = _render(campaign, lang, values, unsubscribe_url)
    headers = ({} if unsubscribe_url is None else
               consent.list_unsubscribe_headers(customer, unsubscribe_url))
    html_part = (html_with_pixel(text, campaign_results.open_pixel_url(recipient_id))
                 if campaign.track_opens else None)
    return mail.message_row("campaign", customer.primary_email, subject, text, html=html_part,
                            customer=customer, to_name=customer.name, headers=headers,
                            message_id=message_id(campaign, recipient_id))


def preview(campaign, customer, lang):
    """(subject, text) of the campaign as ``customer`` would get it in ``lang``, with sample
    addresses in place of their personal links (a preview creates no links and sends nothing)."""
    tier = Tier.get_or_none(Tier.id == customer.tier_id) if customer is not None else None
    sample = links.portal_url("/...")
    values = {**_values(customer, tier, lang), "survey_link": sample, "confirm_link": sample}
    return _render(campaign, lang, values, None if campaign.is_transactional else sample)


def send_test(campaign, staff, actor):
    """Email the preview (for the audience's first card) to the staff member's own address, in
    their language; marked as a test in the subject. Returns the stored mail."""
    lang = staff.preferred_language if staff.preferred_language in ("zh", "en") else "zh"
    subject, text = preview(campaign, campaigns.sample_customer(campaign), lang)
    with models.atomic():
        row = mail.queue("campaign_test", staff.email, f"[TEST] {subject}", text,
                         to_name=staff.name)
        audit.record(actor, "campaign.test", "campaign", campaign.public_id,
                     after={"to": staff.email})
    return row


def html_with_pixel(text, pixel_url):
    """The text part as simple HTML (links clickable) with the 1x1 image that records opens."""
    def paragraph(block):
        escaped = html.escape(block)
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        return "<p>" + linked.replace("\n", "<br>\n") + "</p>"
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    body = "\n".join(paragraph(b) for b in blocks)
    return (f'<!doctype html>\n<html><body>\n{body}\n'
            f'<img src="{html.escape(pixel_url)}" width="1" height="1" alt="">\n'
            f'</body></html>\n')
