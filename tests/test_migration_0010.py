"""Migration 0010 drops the campaign recipient columns nothing read (clicked_at, responded_at,
converted_at): upgrading a database whose recipients have rows keeps every other value."""
from playhouse.migrations import Runner

import models
from services import campaigns, schema, segments, static_lists
from tests import factories

NAME = "0010_drop_unused_recipient_columns"
DROPPED = {"clicked_at", "responded_at", "converted_at"}


def _columns(db):
    return {c.name for c in db.get_columns("campaign_recipient")}


def test_dropping_the_unused_recipient_columns_keeps_the_recipients(db):
    staff = factories.make_staff(role="admin")
    customer, _ = factories.make_customer(name="张伟", email="zhang@example.com")
    audience = segments.create_segment(factories.SYSTEM, None, "名单", "", "static")
    static_lists.add_cards(audience, [customer.public_id], factories.SYSTEM)
    campaign = campaigns.create(factories.SYSTEM, staff, {
        "name": "春季", "segment": audience.public_id, "subject_zh": "你好", "body_zh": "正文"})
    sent = models.utcnow().replace(microsecond=0)
    models.CampaignRecipient.create(campaign=campaign, customer=customer, email="zhang@example.com",
                                    status="sent", attempts=1, sent_at=sent, opened_at=sent,
                                    message_id="<m1@example.com>", tier=customer.tier)

    Runner(db, str(models.MIGRATIONS_DIR)).down(NAME)
    assert DROPPED <= _columns(db)
    assert NAME in schema.pending()
    assert NAME in schema.upgrade()
    assert not DROPPED & _columns(db)

    row = models.CampaignRecipient.get(models.CampaignRecipient.campaign == campaign.id)
    assert (row.customer_id, row.email, row.status, row.attempts) == (
        customer.id, "zhang@example.com", "sent", 1)
    assert row.sent_at == sent and row.opened_at == sent and row.message_id == "<m1@example.com>"
    assert schema.pending() == []
