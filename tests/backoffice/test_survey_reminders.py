"""Survey reminders: the setting (validated at the field, audited), which invitations are due
(time moved by passing ``now``), once only (also with two workers at once), the checks at send
time (consent, erased card, no email), the mail itself through a real SMTP server (same link,
List-Unsubscribe, the customer's language), the hourly job, the survey page's button and the
results page's count."""
import datetime
import threading

import pytest

import models
from models import AuditEvent, Customer, EmailMessage, Survey, SurveyInvite
from services import (
    consent,
    runtime,
    survey_invites,
    survey_reminders,
    survey_results,
    surveys,
    worker,
)
from services.demo.reference import ensure_fields, ensure_purposes
from services.profile import FieldErrors
from tests import factories
from tests.conftest import post_form
from tests.portal.test_survey_links import LINK_RE
from tests.services.test_surveys import answers_for, full_survey, link_token

SYSTEM = factories.SYSTEM
EN = {"Accept-Language": "en"}
DAY = datetime.timedelta(days=1)


@pytest.fixture
def reference(db):
    ensure_fields()
    ensure_purposes(models.utcnow())


def reminder_survey(days=3, **settings):
    survey = full_survey(**settings)
    return surveys.update_survey(survey, SYSTEM, {
        "title_zh": survey.title_zh, "title_en": survey.title_en, "invite_days": 14,
        "reminder_days": days, "task_on_detractor": True})


def invited(survey, lang="zh", **fields):
    """A card with email-marketing consent, invited by email; (customer, invitation)."""
    customer, _ = factories.make_customer(preferred_language=lang, **fields)
    consent.grant(customer, "email_marketing", SYSTEM, "staff")
    assert survey_invites.send_invites(survey, [customer.public_id], SYSTEM)["sent"] == 1
    return customer, SurveyInvite.get(SurveyInvite.customer == customer)


def answer(invite):
    from services import survey_answers
    token = link_token(survey_invites.invite_link(invite))
    survey_answers.submit_personal(token, answers_for(invite.survey), "zh")


def reminders():
    return EmailMessage.select().where(EmailMessage.kind == survey_reminders.MAIL_KIND)


def due_ids(now, survey=None):
    return {row.id for row in survey_reminders.due_invites(now, survey)}


# --- the setting --------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [0, 61, "3", 14, 20])
def test_the_reminder_days_are_checked_by_the_service(reference, value):
    survey = full_survey()
    with pytest.raises(FieldErrors) as caught:
        surveys.update_survey(survey, SYSTEM, {"title_zh": "新标题", "invite_days": 14,
                                               "reminder_days": value})
    assert set(caught.value.errors) == {"reminder_days"}
    assert Survey.get_by_id(survey.id).reminder_days is None
    assert Survey.get_by_id(survey.id).title_zh == "满意度调查"  # nothing half-saved


def test_setting_and_clearing_the_reminder_is_audited(reference):
    survey = reminder_survey(days=5)
    assert Survey.get_by_id(survey.id).reminder_days == 5
    event = AuditEvent.select().where(AuditEvent.action == "survey.update").order_by(
        AuditEvent.id.desc()).get()
    assert event.before["reminder_days"] is None and event.after["reminder_days"] == 5
    surveys.update_survey(survey, SYSTEM, {"title_zh": "x", "invite_days": 14,
                                           "reminder_days": None})
    assert Survey.get_by_id(survey.id).reminder_days is None


# --- which invitations are due ------------------------------------------------------------------

def test_due_invitations_follow_every_rule(reference):
    survey = reminder_survey(days=3)
    now = models.utcnow()
    _waiting, due = invited(survey)
    _answered, answered = invited(survey)
    answer(answered)
    _reminded, reminded = invited(survey)
    SurveyInvite.update(reminded_at=now).where(SurveyInvite.id == reminded.id).execute()
    _expired, expired = invited(survey)
    SurveyInvite.update(expires_at=now + 2 * DAY).where(SurveyInvite.id == expired.id).execute()
    unsent = survey_invites.invite(survey, factories.make_customer()[0])  # a link never emailed
    closed = reminder_survey(days=3)
    invited(closed)
    surveys.set_status(closed, "closed", SYSTEM)
    no_reminder = full_survey()
    invited(no_reminder)
    longer = reminder_survey(days=7)
    _later, later = invited(longer)

    assert due_ids(now + 3 * DAY - datetime.timedelta(minutes=1)) == set()
    assert due_ids(now + 3 * DAY + datetime.timedelta(minutes=1)) == {due.id}
    assert due_ids(now + 7 * DAY + datetime.timedelta(minutes=1)) == {due.id, later.id}
    assert due_ids(now + 8 * DAY, survey) == {due.id}
    assert unsent.id not in due_ids(now + 8 * DAY)


# --- sending ------------------------------------------------------------------------------------

def test_a_reminder_goes_once_with_the_invitations_link(reference):
    survey = reminder_survey(days=3)
    customer, invite = invited(survey, lang="en")
    invitation = EmailMessage.get(EmailMessage.kind == "survey")
    later = models.utcnow() + 4 * DAY
    assert survey_reminders.send_reminders(now=later)["sent"] == 1
    assert survey_reminders.send_reminders(now=later)["sent"] == 0
    assert survey_reminders.send_reminders(now=later + 5 * DAY)["sent"] == 0  # never twice
    message = reminders().get()
    assert message.to_addr == customer.primary_email and message.customer_id == customer.id
    assert LINK_RE.search(message.body_text).group(1) == LINK_RE.search(
        invitation.body_text).group(1)
    assert message.subject.startswith("A reminder from") and "Satisfaction survey" in \
        message.subject
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/unsubscribe/" in message.body_text
    assert SurveyInvite.get_by_id(invite.id).reminded_at == later
    event = AuditEvent.get(AuditEvent.action == survey_reminders.SENT)
    assert event.entity_id == invite.public_id and event.customer_id == customer.id
    assert event.after == {"survey": survey.public_id}


def test_cards_that_changed_since_the_invitation_are_skipped_and_marked(reference):
    survey = reminder_survey(days=3)
    withdrawn, withdrawn_invite = invited(survey)
    consent.withdraw(withdrawn, "email_marketing", SYSTEM, "staff")
    erased, _ = invited(survey)
    Customer.update(erased_at=models.utcnow()).where(Customer.id == erased.id).execute()
    no_email, _ = invited(survey)
    Customer.update(primary_email=None).where(Customer.id == no_email.id).execute()
    later = models.utcnow() + 4 * DAY
    counts = survey_reminders.send_reminders(now=later)
    assert counts == {"sent": 0, "no_consent": 1, "erased": 1, "no_email": 1,
                      "undeliverable": 0}
    assert reminders().count() == 0
    # Marked: not looked at again every hour, not reminded when consent comes back.
    assert SurveyInvite.select().where(SurveyInvite.reminded_at.is_null()).count() == 0
    consent.grant(withdrawn, "email_marketing", SYSTEM, "staff")
    assert sum(survey_reminders.send_reminders(now=later + DAY).values()) == 0
    reasons = {e.entity_id: e.after["reason"] for e in AuditEvent.select().where(
        AuditEvent.action == survey_reminders.SKIPPED)}
    assert reasons[withdrawn_invite.public_id] == "no_consent"
    assert sorted(reasons.values()) == ["erased", "no_consent", "no_email"]
    funnel = survey_results.funnel(survey, survey_results.Filters())
    assert funnel["reminded"] == 0 and funnel["reminder_skipped"] == 3


def test_an_address_the_mailer_refuses_is_skipped_and_nothing_else_is_written(reference):
    survey = reminder_survey(days=3)
    customer, invite = invited(survey)
    Customer.update(primary_email="bad\r\nBcc: x@example.com").where(
        Customer.id == customer.id).execute()
    counts = survey_reminders.send_reminders(now=models.utcnow() + 4 * DAY)
    assert counts["undeliverable"] == 1 and reminders().count() == 0
    assert SurveyInvite.get_by_id(invite.id).reminded_at is not None


def test_two_workers_at_once_send_one_reminder(reference, db, database_url):
    survey = reminder_survey(days=3)
    invited(survey)
    later = models.utcnow() + 4 * DAY
    db.close()
    outcomes, seen, barrier = [], [], threading.Barrier(2)

    def work():
        database = models.bind(database_url)
        database.connect(reuse_if_open=True)
        try:
            rows = list(survey_reminders.due_invites(later))  # both see it due
            seen.append(len(rows))
            barrier.wait()
            for row in rows:
                outcomes.append(survey_reminders._remind_one(row, later, SYSTEM))
        finally:
            database.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    models.db.connect(reuse_if_open=True)
    assert seen == [1, 1]
    assert sorted(outcomes, key=str) == [None, "sent"]
    assert reminders().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == survey_reminders.SENT).count() == 1


def test_the_hourly_job_is_registered_and_works_through_every_batch(reference, monkeypatch):
    names = [task.name for task in worker.huey.read_periodic(
        datetime.datetime(2030, 1, 1, 5, 20))]
    assert any(name.endswith("hourly_reminders") for name in names)
    monkeypatch.setattr(survey_reminders, "BATCH", 2)
    survey = reminder_survey(days=1)
    for _ in range(5):
        invited(survey)
    SurveyInvite.update(sent_at=models.utcnow() - 2 * DAY).execute()
    survey_reminders.hourly_reminders.call_local()
    assert reminders().count() == 5
    assert survey_reminders.send_all_due()["sent"] == 0


# --- through a real SMTP server -----------------------------------------------------------------

@pytest.fixture
def smtp_mail(settings, smtp_server):
    """The services send through ``smtp_server`` for this test only."""
    import wsgi
    saved = dict(runtime.settings)
    settings["MAIL_URL"] = smtp_server.url
    wsgi.create_app(settings)  # sets the mail settings the services read
    yield smtp_server
    runtime.configure(saved)


def test_reminders_arrive_by_smtp_only_for_those_still_waiting(smtp_mail, reference):
    smtp_server = smtp_mail
    survey = reminder_survey(days=3)
    english, _ = invited(survey, lang="en", name="Emma Wilson")
    chinese, _ = invited(survey, lang="zh", name="王芳")
    withdrawn, _ = invited(survey)
    consent.withdraw(withdrawn, "email_marketing", SYSTEM, "staff")
    _answered, answered_invite = invited(survey)
    answer(answered_invite)
    _expired, expired_invite = invited(survey)
    SurveyInvite.update(expires_at=models.utcnow() + DAY).where(
        SurveyInvite.id == expired_invite.id).execute()
    invitations = {rcpts[0]: msg for _f, rcpts, msg in smtp_server.sink.messages}
    smtp_server.sink.messages.clear()

    later = models.utcnow() + 4 * DAY
    survey_reminders.send_reminders(now=later)
    survey_reminders.send_reminders(now=later)  # twice: still one each
    arrived = {rcpts[0]: msg for _f, rcpts, msg in smtp_server.sink.messages}
    assert len(smtp_server.sink.messages) == 2
    assert set(arrived) == {english.primary_email, chinese.primary_email}
    for address, message in arrived.items():
        body = message.get_body(("plain",)).get_content()
        first = invitations[address].get_body(("plain",)).get_content()
        assert LINK_RE.search(body).group(1) == LINK_RE.search(first).group(1)
        assert message["List-Unsubscribe"].startswith("<http")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/unsubscribe/" in body
    english_mail = arrived[english.primary_email]
    assert "Satisfaction survey" in english_mail["Subject"]
    assert "Emma Wilson" in english_mail.get_body(("plain",)).get_content()
    assert "满意度调查" in arrived[chinese.primary_email]["Subject"]
    assert "王芳" in arrived[chinese.primary_email].get_body(("plain",)).get_content()


# --- the back office ----------------------------------------------------------------------------

def post(client, path, data, page):
    return post_form(client, path, data, token_from=page, headers=EN)


def html(response):
    return response.get_data(as_text=True)


def test_the_settings_form_checks_the_reminder_at_the_field(client, staff_login, reference):
    staff_login(role="marketer")
    survey = full_survey()
    detail = f"/staff/surveys/{survey.public_id}"
    page = html(client.get(detail, headers=EN))
    assert 'name="reminder_days"' in page and "Leave empty for no reminder" in page
    base = {"title_zh": "<script>x</script>新标题", "title_en": "Kept", "invite_days": "14"}
    bad = post(client, f"{detail}/settings", {**base, "reminder_days": "0"}, detail)
    assert "Enter a number of days from 1 to 60, or leave it empty for no reminder." in html(bad)
    assert 'value="Kept"' in html(bad) and "&lt;script&gt;x&lt;/script&gt;新标题" in html(bad)
    assert "<script>x</script>" not in html(bad)
    late = post(client, f"{detail}/settings", {**base, "invite_days": "5",
                                               "reminder_days": "5"}, detail)
    assert "Remind before the links expire" in html(late)
    assert Survey.get_by_id(survey.id).reminder_days is None
    assert Survey.get_by_id(survey.id).title_en == "Satisfaction survey"
    ok = post(client, f"{detail}/settings", {**base, "reminder_days": "3"}, detail)
    assert ok.headers["Location"].endswith(detail)
    assert Survey.get_by_id(survey.id).reminder_days == 3
    assert "get one reminder by email" in html(client.get(detail, headers=EN))
    post(client, f"{detail}/settings", {**base, "reminder_days": ""}, detail)
    assert Survey.get_by_id(survey.id).reminder_days is None
    new = post(client, "/staff/surveys/new", {"title_en": "With reminder", "invite_days": "10",
                                              "reminder_days": "4"}, "/staff/surveys/new")
    assert new.status_code == 302
    assert Survey.get(Survey.title_en == "With reminder").reminder_days == 4


def test_the_button_sends_due_reminders_and_says_how_many(client, staff_login, reference):
    staff_login(role="marketer")
    survey = reminder_survey(days=3)
    _waiting, invite = invited(survey, lang="en")
    withdrawn, _ = invited(survey)
    consent.withdraw(withdrawn, "email_marketing", SYSTEM, "staff")
    detail = f"/staff/surveys/{survey.public_id}"
    page = html(client.get(detail, headers=EN))
    assert 'data-metric="reminders-due">0<' in page  # not yet: sent today
    past = models.utcnow() - 4 * DAY
    SurveyInvite.update(sent_at=past).execute()
    page = html(client.get(detail, headers=EN))
    assert 'data-metric="reminders-due">2<' in page and "Send due reminders now" in page
    response = post(client, f"{detail}/reminders", {}, detail)
    assert response.headers["Location"].endswith(f"{detail}#reminders")
    page = html(client.get(detail, headers=EN))
    assert "Reminders: 1 sent. 1 skipped: no email-marketing consent" in page
    assert 'data-metric="reminders-sent">1<' in page
    assert 'data-metric="reminders-skipped">1<' in page
    assert reminders().count() == 1 and SurveyInvite.get_by_id(invite.id).reminded_at
    event = AuditEvent.get(AuditEvent.action == survey_reminders.SENT)
    assert event.actor_kind == "staff"  # who pressed the button
    results = html(client.get(f"{detail}/results", headers=EN))
    assert 'data-metric="reminded">1<' in results and "Reminders sent" in results
    assert "1 reminder not sent" in results


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_only_campaign_managers_may_send_reminders(client, staff_login, reference, role):
    survey = reminder_survey(days=3)
    invited(survey)
    SurveyInvite.update(sent_at=models.utcnow() - 4 * DAY).execute()
    staff_login(role=role)
    response = post_form(client, f"/staff/surveys/{survey.public_id}/reminders", {},
                     token_from="/staff/", headers=EN)
    assert response.status_code == 403
    assert reminders().count() == 0
