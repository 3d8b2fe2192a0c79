"""Sending a campaign: consent at the moment of sending, one message per recipient, retries
against a flaky real SMTP server, a worker that dies and one that resumes, pause and cancel."""
import collections
import datetime
import threading
import time

import pytest

import models
from models import Campaign, CampaignRecipient, EmailMessage
from services import (
    campaign_lifecycle,
    campaign_mail,
    campaign_results,
    campaign_send,
    campaigns,
    consent,
    data_requests,
)
from services.profile import FieldErrors
from tests.campaigns.conftest import campaign_data, consenting_customer
from tests.factories import SYSTEM, make_staff


def confirmed_erasure(customer):
    """The customer confirmed their erasure request (the erasure itself is still due)."""
    now = models.utcnow()
    return models.DataRequest.create(customer=customer, kind="erasure", status="confirmed",
                                     requested_at=now, confirmed_at=now,
                                     due_at=now + data_requests.ERASURE_DEADLINE)


def statuses(campaign):
    return {row.customer_id: row.status for row in CampaignRecipient.select().where(
        CampaignRecipient.campaign == campaign.id)}


def reload(campaign):
    return Campaign.get_by_id(campaign.id)


@pytest.fixture
def queued_only(monkeypatch):
    """Starting a campaign queues its recipients but sends nothing until the test says so."""
    monkeypatch.setattr(campaign_lifecycle, "_send_task", lambda: (lambda campaign_id: None))


@pytest.fixture
def smtp_app(settings, flaky_smtp, db):
    settings["MAIL_URL"] = flaky_smtp.url
    import wsgi
    return wsgi.create_app(settings)


def test_sending_to_the_outbox_skips_cards_without_consent(app, audience, make_campaign):
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM)
    campaign = reload(campaign)
    assert campaign.status == "finished" and campaign.finished_at is not None
    got = statuses(campaign)
    assert got[audience["silent"].id] == "skipped_consent"
    assert [got[c.id] for c in audience["people"]] == ["sent"] * 4
    mails = {m.to_addr: m for m in EmailMessage.select().where(EmailMessage.kind == "campaign")}
    assert len(mails) == 4
    anna = mails[audience["people"][2].primary_email]
    assert anna.subject == "Anna Smith, new for spring"
    assert anna.body_text.startswith("Hello Anna Smith,\nAs a")
    assert "/unsubscribe/" in anna.body_text and "To stop these emails" in anna.body_text
    assert anna.headers["List-Unsubscribe"].startswith("<http")
    zhang = mails[audience["people"][0].primary_email]
    assert zhang.subject == "张伟，春季新品到了"
    assert "退订" in zhang.body_text or "/unsubscribe/" in zhang.body_text
    counts = campaign_results.status_counts(campaign)
    assert counts["sent"] == 4 and counts["skipped_consent"] == 1 and counts["total"] == 5


def test_one_unsubscribe_link_per_customer_across_campaigns(app, audience, make_campaign):
    campaign_lifecycle.start(make_campaign(), SYSTEM)
    campaign_lifecycle.start(make_campaign(name="第二封"), SYSTEM)
    tokens = models.LinkToken.select().where(models.LinkToken.purpose == "unsubscribe")
    assert tokens.count() == 4  # one per consenting card, reused by the second campaign
    bodies = collections.defaultdict(set)
    for mail_row in EmailMessage.select().where(EmailMessage.kind == "campaign"):
        bodies[mail_row.to_addr].add(mail_row.headers["List-Unsubscribe"])
    assert all(len(links) == 1 for links in bodies.values())


def test_flaky_smtp_server_every_recipient_gets_exactly_one_message(
        smtp_app, flaky_smtp, db, marketer):
    """30% of deliveries answered 451 and the connection dropped once: retried with backoff
    until every consenting card has its message, each exactly once, with its own Message-ID."""
    from services import segments, static_lists
    from services.demo.reference import ensure_purposes
    ensure_purposes(models.utcnow())
    people = [consenting_customer(f"客户{i:02d}") for i in range(20)]
    lst = segments.create_segment(SYSTEM, None, "二十人", "", "static")
    static_lists.add_cards(lst, [c.public_id for c in people], SYSTEM)
    campaign = campaigns.create(SYSTEM, marketer, campaign_data({"list": lst}))
    campaign = campaign_lifecycle.start(campaign, SYSTEM)  # the first run happens inline (tests)
    first = reload(campaign)
    assert first.status == "sending"  # some were answered 451: they wait for their retry
    waiting = CampaignRecipient.select().where(CampaignRecipient.campaign == campaign.id,
                                               CampaignRecipient.status == "queued")
    assert waiting.count() > 0 and all(r.next_attempt_at > models.utcnow() for r in waiting)
    assert campaign_send.send(campaign.id) is not None  # nothing due yet: sends nothing
    assert len(flaky_smtp.sink.messages) == 20 - waiting.count()

    later = models.utcnow()
    for _round in range(8):
        later += datetime.timedelta(hours=5)
        campaign_send.send(campaign.id, clock=lambda: later)
        if reload(campaign).status == "finished":
            break
    assert reload(campaign).status == "finished"
    assert flaky_smtp.sink.dropped
    received = collections.Counter(rcpt for _f, rcpts, _m in flaky_smtp.sink.messages
                                   for rcpt in rcpts)
    assert sorted(received) == sorted(c.primary_email for c in people)
    assert set(received.values()) == {1}
    rows = {r.email: r for r in CampaignRecipient.select().where(
        CampaignRecipient.campaign == campaign.id)}
    assert {r.status for r in rows.values()} == {"sent"}
    assert max(r.attempts for r in rows.values()) >= 2
    for _from, (rcpt,), message in flaky_smtp.sink.messages:
        assert message["Message-ID"] == rows[rcpt].message_id
        assert message["Message-ID"] == campaign_mail.message_id(campaign, rows[rcpt].id)
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert message["List-Unsubscribe"].startswith("<http")
        assert "/unsubscribe/" in message.get_content()


def test_a_5xx_answer_marks_the_recipient_failed(smtp_app, flaky_smtp, audience, marketer):
    flaky_smtp.sink.fail, flaky_smtp.sink.drop_at = (), None
    original = flaky_smtp.sink.handle_DATA

    async def refuse_anna(server, session, envelope):
        if envelope.rcpt_tos == [audience["people"][2].primary_email]:
            return "550 5.1.1 No such mailbox"
        return await original(server, session, envelope)
    flaky_smtp.sink.handle_DATA = refuse_anna
    campaign = campaign_lifecycle.start(campaigns.create(SYSTEM, marketer, campaign_data(audience)),
                               SYSTEM)
    got = statuses(campaign)
    assert got[audience["people"][2].id] == "failed"
    assert reload(campaign).status == "finished"
    row = CampaignRecipient.get(CampaignRecipient.customer == audience["people"][2].id)
    assert "550" in row.last_error and row.attempts == 1


def test_a_recipient_that_keeps_getting_4xx_fails_after_the_last_try(
        smtp_app, flaky_smtp, audience, marketer):
    flaky_smtp.sink.fail, flaky_smtp.sink.drop_at = tuple(range(10)), None  # always 451
    campaign = campaign_lifecycle.start(campaigns.create(SYSTEM, marketer, campaign_data(audience)),
                               SYSTEM)
    later = models.utcnow()
    for _round in range(campaign_send.MAX_ATTEMPTS):
        later += datetime.timedelta(hours=5)
        campaign_send.send(campaign.id, clock=lambda: later)
    assert set(statuses(campaign).values()) == {"failed", "skipped_consent"}
    row = CampaignRecipient.get(CampaignRecipient.customer == audience["people"][0].id)
    assert row.attempts == campaign_send.MAX_ATTEMPTS and "451" in row.last_error
    assert reload(campaign).status == "finished"


def test_consent_withdrawn_while_the_campaign_is_sending(app, audience, make_campaign):
    """The last card withdraws while earlier ones are being sent: it is skipped, not sent."""
    campaign = make_campaign(rate_per_minute="300")  # one message every 0.2 s
    last = audience["people"][-1]
    done = threading.Event()

    def run():
        try:
            campaign_lifecycle.start(campaign, SYSTEM)
        finally:
            models.db.close()
            done.set()
    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not CampaignRecipient.select().where(
            CampaignRecipient.status == "sent").exists():
        time.sleep(0.02)
    consent.withdraw(last, consent.EMAIL_MARKETING, SYSTEM, "portal")
    worker.join(timeout=20)
    assert done.is_set()
    got = statuses(campaign)
    assert got[last.id] == "skipped_consent"
    assert [got[c.id] for c in audience["people"][:2]] == ["sent", "sent"]
    assert not EmailMessage.select().where(EmailMessage.customer == last.id,
                                           EmailMessage.kind == "campaign").exists()


def test_erased_and_erasure_requested_cards_are_skipped(app, audience, make_campaign,
                                                        queued_only):
    zhang, li = audience["people"][:2]
    models.Customer.update(erased_at=models.utcnow()).where(
        models.Customer.id == zhang.id).execute()
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM)
    confirmed_erasure(li)
    campaign_send.send(campaign.id)
    got = statuses(campaign)
    assert zhang.id not in got  # erased before the start: never in the audience
    assert got[li.id] == "skipped_erased"
    assert campaign_results.status_counts(campaign)["sent"] == 2


def test_a_worker_that_dies_mid_run_is_resumed_without_duplicates(
        smtp_app, flaky_smtp, audience, marketer, queued_only, monkeypatch):
    flaky_smtp.sink.fail, flaky_smtp.sink.drop_at = (), None
    campaign = campaign_lifecycle.start(campaigns.create(SYSTEM, marketer, campaign_data(audience)),
                               SYSTEM)
    real_attempt = campaign_send.mail.attempt
    calls = []

    def dies_on_the_third(row, conn):
        calls.append(row.to_addr)
        if len(calls) == 3:
            raise SystemExit("worker killed")
        return real_attempt(row, conn)
    monkeypatch.setattr(campaign_send.mail, "attempt", dies_on_the_third)
    with pytest.raises(SystemExit):
        campaign_send.send(campaign.id)
    # A killed process runs no cleanup: its lease is still on the campaign.
    Campaign.update(lease_until=models.utcnow() + campaign_send.LEASE).where(
        Campaign.id == campaign.id).execute()
    assert len(flaky_smtp.sink.messages) == 2
    assert campaign_send.send(campaign.id) is None  # held by the dead worker until it lapses
    monkeypatch.setattr(campaign_send.mail, "attempt", real_attempt)
    after_lease = models.utcnow() + campaign_send.LEASE + datetime.timedelta(seconds=1)
    counts = campaign_send.send(campaign.id, clock=lambda: after_lease)
    assert counts["sent"] == 2
    received = collections.Counter(r for _f, rcpts, _m in flaky_smtp.sink.messages for r in rcpts)
    assert len(received) == 4 and set(received.values()) == {1}
    assert reload(campaign).status == "finished"


def test_a_message_resent_after_a_crash_keeps_its_message_id(
        smtp_app, flaky_smtp, audience, marketer, queued_only, monkeypatch):
    """The one unavoidable window: the server accepted, the worker died before noting it.
    The message goes again with the same Message-ID, so mail systems can tell it is one."""
    flaky_smtp.sink.fail, flaky_smtp.sink.drop_at = (), None
    campaign = campaign_lifecycle.start(campaigns.create(SYSTEM, marketer, campaign_data(audience)),
                               SYSTEM)
    real_attempt = campaign_send.mail.attempt

    def accepted_then_killed(row, conn):
        real_attempt(row, conn)
        raise SystemExit("worker killed")
    monkeypatch.setattr(campaign_send.mail, "attempt", accepted_then_killed)
    with pytest.raises(SystemExit):
        campaign_send.send(campaign.id)
    monkeypatch.setattr(campaign_send.mail, "attempt", real_attempt)
    campaign_send.send(campaign.id)
    ids = collections.Counter(m["Message-ID"] for _f, _r, m in flaky_smtp.sink.messages)
    assert len(ids) == 4 and sorted(ids.values()) == [1, 1, 1, 2]


def test_two_workers_never_send_the_same_campaign_at_once(app, audience, make_campaign,
                                                          queued_only):
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM)
    lease = campaign_send._acquire(campaign.id, models.utcnow())
    assert lease is not None
    assert campaign_send.send(campaign.id) is None
    assert campaign_results.status_counts(campaign)["queued"] == 5


def test_pause_resume_and_cancel(app, audience, make_campaign, queued_only):
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM)
    campaign = campaign_lifecycle.pause(campaign, SYSTEM)
    assert campaign_send.send(campaign.id) is None
    assert campaign_results.status_counts(campaign)["queued"] == 5
    with pytest.raises(campaigns.DomainError):
        campaign_lifecycle.pause(campaign, SYSTEM)  # already paused
    campaign = campaign_lifecycle.resume(campaign, SYSTEM)
    assert campaign.status == "sending"
    campaign = campaign_lifecycle.cancel(campaign, SYSTEM)
    counts = campaign_results.status_counts(campaign)
    assert counts["cancelled"] == 5 and counts["sent"] == 0
    assert campaign_send.send(campaign.id) is None


def test_scheduled_campaign_starts_when_its_time_comes(app, audience, make_campaign):
    later = models.utcnow() + datetime.timedelta(hours=2)
    campaign = campaign_lifecycle.start(make_campaign(), SYSTEM, when=later)
    assert campaign.status == "scheduled" and campaign.scheduled_at == later
    assert not CampaignRecipient.select().exists()  # the audience is taken at sending time
    campaign_send.tick.call_local()
    assert reload(campaign).status == "scheduled"
    Campaign.update(scheduled_at=models.utcnow() - datetime.timedelta(minutes=1)).where(
        Campaign.id == campaign.id).execute()
    campaign_send.tick.call_local()
    assert reload(campaign).status == "finished"
    assert campaign_results.status_counts(campaign)["sent"] == 4


def test_a_scheduled_campaign_whose_survey_closed_goes_back_to_draft(
        app, audience, make_campaign):
    from services import surveys
    from tests.factories import make_survey
    survey = make_survey()
    campaign = make_campaign(survey=survey.public_id,
                             body_zh="请填写：{{ survey_link }}", body_en="Answer: {{ survey_link }}")
    campaign = campaign_lifecycle.start(campaign, SYSTEM,
                               when=models.utcnow() + datetime.timedelta(hours=1))
    surveys.set_status(survey, "closed", SYSTEM)
    Campaign.update(scheduled_at=models.utcnow()).where(Campaign.id == campaign.id).execute()
    campaign_send.tick.call_local()
    campaign = reload(campaign)
    assert campaign.status == "draft" and campaign.last_error.startswith("Open the survey")


def test_service_notices_only_by_admins_and_without_the_consent_check(app, audience, marketer):
    with pytest.raises(FieldErrors) as caught:
        campaigns.create(SYSTEM, marketer, campaign_data(audience, is_transactional="y"))
    assert "is_transactional" in caught.value.errors
    admin = make_staff(role="admin")
    notice = campaigns.create(SYSTEM, admin, campaign_data(audience, is_transactional="y"))
    with pytest.raises(campaigns.DomainError):
        campaigns.update(notice, SYSTEM, marketer, campaign_data(audience))
    models.Customer.update(erased_at=models.utcnow()).where(
        models.Customer.id == audience["people"][0].id).execute()
    confirmed_erasure(audience["people"][1])
    campaign_lifecycle.start(notice, SYSTEM)
    got = statuses(notice)
    assert got[audience["silent"].id] == "sent"  # no marketing consent needed for a notice
    assert got[audience["people"][1].id] == "skipped_erased"  # erasure is still honoured
    silent_mail = EmailMessage.get(EmailMessage.customer == audience["silent"].id)
    assert "List-Unsubscribe" not in silent_mail.headers
    assert "/unsubscribe/" not in silent_mail.body_text


def test_names_cannot_forge_headers(app, audience, make_campaign):
    sly = consenting_customer("=?utf-8?q?Admin?= 黄")
    from services import static_lists
    static_lists.add_cards(audience["list"], [sly.public_id], SYSTEM)
    campaign_lifecycle.start(make_campaign(), SYSTEM)
    row = EmailMessage.get(EmailMessage.customer == sly.id)
    assert "=?" not in row.subject and "=?" not in row.headers["to_name"]
    from services import mail
    built = mail.build_mime(row)
    assert "Admin" in str(built["Subject"]) and "\n" not in str(built["Subject"])


def test_placeholders_are_checked_when_saving(app, audience, marketer):
    with pytest.raises(FieldErrors) as caught:
        campaigns.create(SYSTEM, marketer, campaign_data(
            audience, body_zh="{{ name }} {{ config }}", body_en="{{ survey_link }}",
            subject_en="=?utf-8?b?SGk=?= sale", segment="", name=""))
    errors = caught.value.errors
    assert set(errors) >= {"body_zh", "body_en", "subject_en", "segment", "name"}
    assert errors["body_zh"][1]["name"] == "config"
    campaign = campaigns.create(SYSTEM, marketer, campaign_data(
        audience, subject_en="Hi\r\nBcc: x@example.com"))
    assert campaign.subject_en == "Hi Bcc: x@example.com"  # one line: no header of its own


def test_the_placeholder_text_is_never_run_as_a_template(app, audience, make_campaign):
    campaign = make_campaign(body_zh="{{ name }} {% for x in range(3) %}x{% endfor %}")
    Campaign.update(body_en="{{ name }} {{ 7*7 }}").where(Campaign.id == campaign.id).execute()
    campaign_lifecycle.start(reload(campaign), SYSTEM)
    body = EmailMessage.get(EmailMessage.customer == audience["people"][0].id).body_text
    assert body.startswith("张伟 {% for x in range(3) %}x{% endfor %}\n")
    body = EmailMessage.get(EmailMessage.customer == audience["people"][2].id).body_text
    assert body.startswith("Anna Smith {{ 7*7 }}\n")


def test_the_confirm_my_details_link_works_from_the_email(app, client, audience, make_campaign):
    import re
    campaign = make_campaign(body_zh="{{ name }}，请确认资料：{{ confirm_link }}",
                             body_en="{{ name }}, please confirm: {{ confirm_link }}")
    campaign_lifecycle.start(campaign, SYSTEM)
    body = EmailMessage.get(EmailMessage.customer == audience["people"][0].id).body_text
    path = re.search(r"https?://[^/]+(/details/confirm/\S+)", body).group(1)
    assert client.get(path).status_code == 200
