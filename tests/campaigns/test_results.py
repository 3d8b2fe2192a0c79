"""A campaign's results: opens through the image, survey answers, conversions and revenue in
the attribution window, and everything per tier."""
import datetime
import re
from decimal import Decimal
from urllib.parse import urlparse

import models
from models import CampaignRecipient, EmailMessage
from services import campaign_lifecycle, campaign_results, survey_answers
from services.demo.reference import ensure_tiers
from tests.factories import SYSTEM, make_purchase, make_survey

NOW = models.utcnow


def mail_to(customer):
    return EmailMessage.get(EmailMessage.customer == customer.id,
                            EmailMessage.kind == "campaign")


def test_results_count_opens_answers_conversions_and_revenue_per_tier(
        app, client, audience, make_campaign):
    tiers, _created = ensure_tiers()
    vip, regular = sorted(tiers.values(), key=lambda t: -t.rank)[:2]
    zhang, li, anna, wang = audience["people"]
    for customer, tier in ((zhang, vip), (li, vip), (anna, regular), (wang, regular)):
        models.Customer.update(tier=tier).where(models.Customer.id == customer.id).execute()
    survey = make_survey()
    campaign = make_campaign(survey=survey.public_id, track_opens="y", attribution_days="5",
                             body_zh="{{ name }}您好，请填写问卷：{{ survey_link }}",
                             body_en="Hello {{ name }}, please answer: {{ survey_link }}")
    campaign_lifecycle.start(campaign, SYSTEM)

    # Zhang and Anna open (Zhang twice: counted once); a forged image address counts nothing.
    for customer in (zhang, zhang, anna):
        pixel = re.search(r'<img src="([^"]+)"', mail_to(customer).body_html).group(1)
        response = client.get(urlparse(pixel.replace("&amp;", "&")).path)
        assert response.status_code == 200 and response.mimetype == "image/gif"
    assert client.get("/o/forged.gif").status_code == 200
    # Li answers the survey from the emailed link.
    link = re.search(r"/survey/(\S+)", mail_to(li).body_text).group(1)
    question = survey.questions.order_by(models.SurveyQuestion.position).first()
    survey_answers.submit_personal(link, {f"q{question.id}": ["9"]}, "zh")
    # The email went out ten days ago; the window is five days.
    sent = NOW() - datetime.timedelta(days=10)
    CampaignRecipient.update(sent_at=sent).where(
        CampaignRecipient.campaign == campaign.id).execute()
    make_purchase(zhang, "300.00", occurred_at=sent + datetime.timedelta(days=1))  # counts
    make_purchase(zhang, "200.00", occurred_at=sent + datetime.timedelta(days=4))  # counts
    make_purchase(anna, "80.50", occurred_at=sent + datetime.timedelta(days=2))  # counts
    make_purchase(li, "999.00", occurred_at=sent - datetime.timedelta(days=1))  # before
    make_purchase(wang, "999.00", occurred_at=sent + datetime.timedelta(days=6))  # after
    make_purchase(wang, "999.00", occurred_at=sent + datetime.timedelta(days=1),
                  order_status="cancelled")  # cancelled
    make_purchase(audience["silent"], "999.00", occurred_at=sent + datetime.timedelta(days=1))

    rows, (label, total, revenue) = campaign_results.by_tier(models.Campaign.get_by_id(
        campaign.id))
    assert label == "total"
    assert total["recipients"] == 5 and total["sent"] == 4 and total["skipped_consent"] == 1
    assert total["opened"] == 2 and total["answered"] == 1 and total["converted"] == 2
    assert total["participants"] == 3  # Zhang (opened, bought), Anna (opened, bought), Li
    assert revenue == {"CNY": Decimal("580.50")}
    by_tier = {(tier.code if tier else None): (metrics, money) for tier, metrics, money in rows}
    assert by_tier[vip.code][0]["opened"] == 1 and by_tier[vip.code][0]["answered"] == 1
    assert by_tier[vip.code][1] == {"CNY": Decimal("500.00")}
    assert by_tier[regular.code][1] == {"CNY": Decimal("80.50")}
    assert [tier.code if tier else None for tier, _m, _r in rows][0] == vip.code  # best first
    assert campaign_results.rates(total)["converted"] == 50.0
    progress = campaign_results.progress(campaign)
    assert progress["percent"] == 100 and progress["skipped"] == 1


def test_opens_are_counted_only_for_tracked_campaigns(app, audience, make_campaign):
    campaign_lifecycle.start(make_campaign(), SYSTEM)
    assert mail_to(audience["people"][0]).body_html is None  # no image, no HTML part


def test_results_are_a_fixed_number_of_queries(app, audience, make_campaign, monkeypatch):
    import logging
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM)
    statements = []

    class Count(logging.Handler):
        def emit(self, record):
            statements.append(record)
    handler = Count()
    logger = logging.getLogger("peewee")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        campaign_results.by_tier(campaign)
    finally:
        logger.removeHandler(handler)
    assert len(statements) == 3  # metrics, revenue, tiers
