"""Cards, a list and a campaign to send to them, for the campaign tests."""
import pytest

import models
from services import campaigns, consent, segments, static_lists
from services.demo.reference import ensure_purposes, ensure_tiers
from tests.factories import SYSTEM, make_customer, make_staff


def consenting_customer(name, **fields):
    customer, _account = make_customer(name=name, account=False, **fields)
    consent.grant(customer, consent.EMAIL_MARKETING, SYSTEM, "staff")
    return customer


@pytest.fixture
def audience(db):
    """Four consenting cards (one English-speaking) and one without consent, in a static list."""
    ensure_purposes(models.utcnow())
    ensure_tiers()
    people = [consenting_customer("张伟"), consenting_customer("李娜"),
              consenting_customer("Anna Smith", preferred_language="en"),
              consenting_customer("王芳")]
    silent, _account = make_customer(name="赵敏", account=False)
    lst = segments.create_segment(SYSTEM, None, "春季名单", "", "static")
    static_lists.add_cards(lst, [c.public_id for c in people + [silent]], SYSTEM)
    return {"people": people, "silent": silent, "list": lst}


@pytest.fixture
def marketer(db):
    return make_staff(role="marketer")


def campaign_data(audience, **overrides):
    data = {"name": "春季新品", "goal": "介绍新品", "segment": audience["list"].public_id,
            "subject_zh": "{{ name }}，春季新品到了", "subject_en": "{{ name }}, new for spring",
            "body_zh": "{{ name }}您好！\n作为{{ tier }}会员，您可以提前选购。",
            "body_en": "Hello {{ name }},\nAs a {{ tier }} member you can shop early.",
            "attribution_days": "30"}
    data.update(overrides)
    return data


@pytest.fixture
def make_campaign(audience, marketer):
    def _make(**overrides):
        return campaigns.create(SYSTEM, marketer, campaign_data(audience, **overrides))
    return _make


class FlakySink:
    """An SMTP server's handler that behaves like a busy real one: it answers 451 to 3 in every
    10 deliveries, and drops the connection once (on the ``drop_at``-th delivery) without
    accepting that message. ``messages`` holds what it accepted."""

    def __init__(self, drop_at=None, fail=(1, 4, 7)):
        self.messages, self.deliveries, self.drop_at, self.fail = [], 0, drop_at, fail
        self.dropped = False

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy
        self.deliveries += 1
        if self.drop_at is not None and self.deliveries >= self.drop_at and not self.dropped:
            self.dropped = True
            server.transport.close()
            return "421 4.4.2 connection dropped"
        if self.deliveries % 10 in self.fail:
            return "451 4.3.0 Greylisted, try again later"
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 2.0.0 Accepted"


@pytest.fixture
def flaky_smtp():
    """A real SMTP server on 127.0.0.1 with a FlakySink (drops once at the 5th delivery)."""
    from tests.conftest import serve_smtp
    controller = serve_smtp(FlakySink(drop_at=5))
    yield controller
    controller.stop()
