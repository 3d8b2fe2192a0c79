"""A campaign's results: progress by recipient status, opens (the optional 1x1 image), survey
answers, conversions and revenue within the attribution window, overall and per tier.

Every figure is one grouped SQL query over the recipient rows, so a 10,000-recipient campaign
reads as fast as a small one. Definitions (also in the back office's help text):
* opened: the recipient's email client loaded the image (only when the campaign tracks opens;
  many clients block images, so it is a lower bound);
* answered: the recipient submitted the campaign's survey after the email was sent;
* converted: the recipient bought something (not cancelled or refunded) within the attribution
  window after the email was sent; revenue is the sum of those purchases per currency;
* participants: recipients who opened, answered or bought.
"""
from decimal import Decimal

from itsdangerous import BadSignature, URLSafeSerializer
from peewee import SQL, Case, NodeList, fn

import models
from models import CampaignRecipient, Purchase, SurveyResponse, Tier
from services import links, runtime
from services.records import NOT_SPENT

R = CampaignRecipient
STATUSES = ("queued", "sending", "sent", "failed", "skipped_consent", "skipped_erased",
            "skipped_no_email", "cancelled")
METRICS = ("recipients", "sent", "failed", "skipped_consent", "skipped_erased",
           "skipped_no_email", "waiting", "cancelled", "opened", "answered", "converted",
           "participants")


def status_counts(campaign):
    """{status: recipients} for every status (0 where none), plus "total"."""
    counts = dict.fromkeys(STATUSES, 0)
    counts.update(R.select(R.status, fn.COUNT(R.id)).where(R.campaign == campaign.id)
                  .group_by(R.status).tuples())
    counts["total"] = sum(counts[s] for s in STATUSES)
    return counts


def progress(campaign):
    """What the progress bar shows: done (sent, failed, skipped, cancelled) out of total."""
    counts = status_counts(campaign)
    waiting = counts["queued"] + counts["sending"]
    done = counts["total"] - waiting
    percent = int(done * 100 / counts["total"]) if counts["total"] else 0
    return {"counts": counts, "done": done, "waiting": waiting, "total": counts["total"],
            "percent": percent,
            "skipped": sum(counts[s] for s in STATUSES if s.startswith("skipped_"))}


def _plus_days(column, days):
    """``column`` + ``days`` days, in SQL of the database in use."""
    days = int(days)
    if models.is_postgres():
        return NodeList((column, SQL(f"+ interval '{days} days'")), glue=" ")
    return fn.strftime("%Y-%m-%d %H:%M:%f", column, f"+{days} days")


def _answered(campaign):
    if campaign.survey_id is None:
        return SQL("0 = 1")
    return fn.EXISTS(SurveyResponse.select(SQL("1")).where(
        SurveyResponse.survey == campaign.survey_id, SurveyResponse.customer == R.customer,
        SurveyResponse.submitted_at >= R.sent_at))


def _bought(campaign):
    return fn.EXISTS(Purchase.select(SQL("1")).where(
        Purchase.customer == R.customer, Purchase.deleted_at.is_null(),
        Purchase.order_status.not_in(NOT_SPENT), Purchase.occurred_at >= R.sent_at,
        Purchase.occurred_at < _plus_days(R.sent_at, campaign.attribution_days)))


def _flag(condition):
    return fn.SUM(Case(None, [(condition, 1)], 0))


def by_tier(campaign):
    """[(Tier or None, {metric: count}, {currency: revenue})] ordered by tier rank (best first),
    and the totals as the same triple with tier "total"."""
    sent = R.status == "sent"
    answered, bought = _answered(campaign), _bought(campaign)
    rows = (R.select(R.tier, fn.COUNT(R.id), _flag(sent), _flag(R.status == "failed"),
                     _flag(R.status == "skipped_consent"), _flag(R.status == "skipped_erased"),
                     _flag(R.status == "skipped_no_email"),
                     _flag(R.status.in_(("queued", "sending"))), _flag(R.status == "cancelled"),
                     _flag(sent & R.opened_at.is_null(False)), _flag(sent & answered),
                     _flag(sent & bought),
                     _flag(sent & (R.opened_at.is_null(False) | answered | bought)))
            .where(R.campaign == campaign.id).group_by(R.tier).tuples())
    revenue = {}
    for tier_id, currency, amount in (
            Purchase.select(R.tier, Purchase.currency, fn.SUM(Purchase.amount))
            .join(R, on=(Purchase.customer == R.customer))
            .where(R.campaign == campaign.id, sent, Purchase.deleted_at.is_null(),
                   Purchase.order_status.not_in(NOT_SPENT), Purchase.occurred_at >= R.sent_at,
                   Purchase.occurred_at < _plus_days(R.sent_at, campaign.attribution_days))
            .group_by(R.tier, Purchase.currency).tuples()):
        revenue.setdefault(tier_id, {})[currency] = Decimal(str(amount or 0)).quantize(
            Decimal("0.01"))
    tiers = {t.id: t for t in Tier.select()}
    result = []
    for row in rows:
        metrics = dict(zip(METRICS, (int(v or 0) for v in row[1:])))
        result.append((tiers.get(row[0]), metrics, revenue.get(row[0], {})))
    result.sort(key=lambda item: -(item[0].rank if item[0] else -10**6))
    total = {metric: sum(m[metric] for _t, m, _r in result) for metric in METRICS}
    total_revenue = {}
    for _tier, _metrics, money in result:
        for currency, amount in money.items():
            total_revenue[currency] = total_revenue.get(currency, Decimal("0.00")) + amount
    return result, ("total", total, total_revenue)


def rates(metrics):
    """Percentages of the sent messages: opened, answered, converted (None when nothing sent)."""
    sent = metrics["sent"]
    return {key: (round(metrics[key] * 100 / sent, 1) if sent else None)
            for key in ("opened", "answered", "converted", "participants")}


def recipients_query(campaign, status=None):
    """The campaign's recipients with their card, for the recipients table (paginated there)."""
    query = (R.select(R, models.Customer.public_id, models.Customer.name)
             .join(models.Customer, on=(R.customer == models.Customer.id))
             .where(R.campaign == campaign.id).order_by(R.id))
    if status == "skipped":
        query = query.where(R.status.startswith("skipped_"))
    elif status == "waiting":
        query = query.where(R.status.in_(("queued", "sending")))
    elif status in STATUSES:
        query = query.where(R.status == status)
    return query


# --- open tracking ---------------------------------------------------------------------------

def _serializer():
    return URLSafeSerializer(runtime.get("SECRET_KEY"), salt="cards-campaign-open")


def open_pixel_url(recipient_id):
    return links.portal_url(f"/o/{_serializer().dumps(recipient_id)}.gif")


def record_open(token):
    """The first time a recipient's image loads, note when. Anything invalid is ignored (the
    image is served either way, so the address tells nobody anything)."""
    try:
        recipient_id = _serializer().loads(token or "")
    except BadSignature:
        return False
    if not isinstance(recipient_id, int):
        return False
    return bool(R.update(opened_at=models.utcnow())
                .where(R.id == recipient_id, R.opened_at.is_null(), R.status == "sent")
                .execute())
