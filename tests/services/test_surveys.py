"""Surveys as services: the builder's rules, invitations and links, answering (validation,
one response per invitation, mapped card updates, detractor follow-ups), and the results
computed in SQL, with their exports."""
import csv
import datetime
import io
import threading

import pytest
from openpyxl import load_workbook

import models
from models import (
    AuditEvent,
    ConsentEvent,
    CustomFieldValue,
    LinkToken,
    Segment,
    SegmentMember,
    SurveyAnswer,
    SurveyInvite,
    SurveyResponse,
    Task,
)
from services import (
    DomainError,
    consent,
    preferences,
    survey_answers,
    survey_invites,
    survey_results,
    surveys,
)
from services.demo.reference import ensure_fields, ensure_purposes
from services.profile import FieldErrors
from services.survey_answers import SurveyUnavailable
from tests import factories

SYSTEM = factories.SYSTEM


@pytest.fixture
def reference(db):
    ensure_fields()
    ensure_purposes(models.utcnow())


def full_survey(**settings):
    return factories.make_survey([
        {"kind": "nps", "text_zh": "推荐我们的可能性？", "text_en": "Recommend us?",
         "required": True},
        {"kind": "rating", "text_zh": "服务评分", "text_en": "Rate our service"},
        {"kind": "single_choice", "text_zh": "您从哪里知道我们？", "text_en": "How did you hear?",
         "choices_zh": "朋友\n广告\n路过", "choices_en": "Friends\nAds\nWalking by",
         "required": True},
        {"kind": "multi_choice", "text_zh": "喜欢的风格", "text_en": "Styles you like",
         "maps_to": "pref:style"},
        {"kind": "single_choice", "text_zh": "接收短信通知吗？", "text_en": "SMS messages?",
         "maps_to": "consent:sms"},
        {"kind": "short_text", "text_zh": "一句话评价", "text_en": "In one sentence"},
    ], **settings)


def link_token(url):
    return url.rsplit("/survey/", 1)[1]


def answers_for(survey, nps="9", rating="4", source="c1", styles=(), sms=None, text=""):
    q = surveys.questions(survey)
    return {f"q{q[0].id}": [nps], f"q{q[1].id}": [rating], f"q{q[2].id}": [source],
            f"q{q[3].id}": list(styles), f"q{q[4].id}": [sms] if sms else [],
            f"q{q[5].id}": [text]}


# --- builder ------------------------------------------------------------------------------------

def test_a_survey_needs_a_title_in_one_language_and_each_error_is_named(db):
    with pytest.raises(FieldErrors) as caught:
        surveys.create_survey(SYSTEM, None, {"title_zh": " ", "title_en": "",
                                             "intro_zh": "a\x00b", "invite_days": 0})
    assert set(caught.value.errors) == {"title_zh", "intro_zh", "invite_days"}
    survey = surveys.create_survey(SYSTEM, None, {"title_en": "Only English", "invite_days": 7})
    assert surveys.text_in(survey, "title", "zh") == "Only English"


def test_choices_are_validated_and_mapped_questions_take_the_fields_choices(reference):
    survey = factories.make_survey(status="draft")
    with pytest.raises(FieldErrors) as caught:
        surveys.add_question(survey, SYSTEM, {"kind": "single_choice", "text_zh": "?",
                                              "choices_zh": "一\n二", "choices_en": "one"})
    assert "choices_en" in caught.value.errors
    with pytest.raises(FieldErrors) as caught:
        surveys.add_question(survey, SYSTEM, {"kind": "single_choice", "text_zh": "?",
                                              "maps_to": "pref:style"})  # style is multi
    assert "maps_to" in caught.value.errors
    with pytest.raises(FieldErrors):  # sensitive purposes need their own separate consent
        surveys.add_question(survey, SYSTEM, {"kind": "single_choice", "text_zh": "?",
                                              "maps_to": "consent:cross_border"})
    sizes = surveys.add_question(survey, SYSTEM, {"kind": "single_choice", "text_zh": "尺码？",
                                                  "maps_to": "pref:size"})
    assert [c["value"] for c in sizes.choices] == ["S", "M", "L", "XL"]
    sms = surveys.add_question(survey, SYSTEM, {"kind": "single_choice", "text_zh": "短信？",
                                                "maps_to": "consent:sms"})
    assert [c["value"] for c in sms.choices] == ["yes", "no"]


def test_questions_move_and_freeze_once_answered(reference):
    survey = factories.make_survey()
    first, second = surveys.questions(survey)
    surveys.move_question(second, "up", SYSTEM)
    assert [q.id for q in surveys.questions(survey)] == [second.id, first.id]
    surveys.move_question(second, "up", SYSTEM)  # already first: nothing happens
    assert [q.id for q in surveys.questions(survey)] == [second.id, first.id]
    customer, _ = factories.make_customer()
    url = survey_invites.invite_link(survey_invites.invite(survey, customer))
    survey_answers.submit_personal(link_token(url), {f"q{first.id}": ["8"]}, "zh")
    assert not surveys.questions_editable(survey)
    with pytest.raises(DomainError):
        surveys.update_question(first, SYSTEM, {"kind": "nps", "text_zh": "changed"})
    with pytest.raises(DomainError):
        surveys.delete_question(first, SYSTEM)
    with pytest.raises(DomainError):
        surveys.set_status(survey, "draft", SYSTEM)
    surveys.set_status(survey, "closed", SYSTEM)
    assert AuditEvent.select().where(AuditEvent.action == "survey.question_move").count() == 1


def test_a_survey_opens_only_with_questions(db):
    survey = surveys.create_survey(SYSTEM, None, {"title_zh": "空", "invite_days": 7})
    with pytest.raises(DomainError):
        surveys.set_status(survey, "open", SYSTEM)


# --- invitations and links ----------------------------------------------------------------------

def test_invite_is_idempotent_and_the_link_is_stable_and_expires_with_it(db):
    survey = factories.make_survey(invite_days=3)
    customer, _ = factories.make_customer()
    first = survey_invites.invite(survey, customer)
    assert survey_invites.invite(survey, customer).id == first.id
    assert SurveyInvite.select().count() == 1
    url = survey_invites.invite_link(first)
    assert url == survey_invites.invite_link(first) and url.startswith("http")
    token = LinkToken.get(LinkToken.purpose == "survey")
    assert token.expires_at == first.expires_at
    assert customer.name not in url and customer.public_id not in url


def test_expired_tampered_and_closed_links_are_refused(db):
    survey = factories.make_survey()
    customer, _ = factories.make_customer()
    invite = survey_invites.invite(survey, customer)
    token = link_token(survey_invites.invite_link(invite))
    assert survey_answers.open_personal(token).id == invite.id
    with pytest.raises(SurveyUnavailable) as caught:
        survey_answers.open_personal(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    assert caught.value.reason == "invalid"
    other = factories.make_survey()
    with pytest.raises(SurveyUnavailable):  # a link for another purpose does not open it
        survey_answers.open_personal(consent.unsubscribe_link(customer).rsplit("/", 1)[1])
    surveys.set_status(survey, "closed", SYSTEM)
    with pytest.raises(SurveyUnavailable) as caught:
        survey_answers.open_personal(token)
    assert caught.value.reason == "closed"
    surveys.set_status(survey, "open", SYSTEM)
    past = models.utcnow() - datetime.timedelta(minutes=1)
    SurveyInvite.update(expires_at=past).execute()
    LinkToken.update(expires_at=past).execute()
    with pytest.raises(SurveyUnavailable) as caught:
        survey_answers.open_personal(token)
    assert caught.value.reason == "expired"
    assert other.status == "open"


# --- answering ----------------------------------------------------------------------------------

def test_answers_are_validated_all_at_once(reference):
    survey = full_survey()
    customer, _ = factories.make_customer()
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    q = surveys.questions(survey)
    with pytest.raises(FieldErrors) as caught:
        survey_answers.submit_personal(token, {
            f"q{q[0].id}": ["11"], f"q{q[1].id}": ["0"], f"q{q[2].id}": ["c9"],
            f"q{q[3].id}": ["minimal", "<script>"], f"q{q[5].id}": ["x" * 501]}, "zh")
    assert set(caught.value.errors) == {f"q{q[i].id}" for i in (0, 1, 2, 3, 5)}
    with pytest.raises(FieldErrors) as caught:
        survey_answers.submit_personal(token, {}, "zh")
    assert set(caught.value.errors) == {f"q{q[0].id}", f"q{q[2].id}"}  # the required ones
    assert SurveyResponse.select().count() == 0


def test_a_response_stores_answers_and_updates_the_card_through_its_services(reference):
    survey = full_survey()
    customer, _ = factories.make_customer()
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    response = survey_answers.submit_personal(
        token, answers_for(survey, nps="１０", styles=["casual", "minimal"], sms="yes",
                           text="很好 <b>"), "en", ip="10.0.0.9")
    answers = {a.question.kind: a for a in response.answers}
    assert answers["nps"].number == 10 and answers["rating"].number == 4
    assert answers["multi_choice"].value == ["minimal", "casual"]  # in the field's order
    assert preferences.values(customer)["style"] == ["minimal", "casual"]
    event = ConsentEvent.get()
    assert (event.granted, event.source, event.policy_version) == (True, "survey", 1)
    assert consent.has_consent(customer.id, "sms")
    assert SurveyInvite.get().responded_at is not None
    actions = {e.action for e in AuditEvent.select()}
    assert {"survey.respond", "customer.preferences", "consent.grant"} <= actions
    assert Task.select().count() == 0  # a promoter asks for no follow-up


def test_a_second_submission_and_a_race_store_one_response(reference):
    survey = full_survey()
    customer, _ = factories.make_customer()
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    survey_answers.submit_personal(token, answers_for(survey), "zh")
    with pytest.raises(SurveyUnavailable) as caught:
        survey_answers.submit_personal(token, answers_for(survey), "zh")
    assert caught.value.reason == "answered"
    assert SurveyResponse.select().count() == 1


def test_a_double_click_race_creates_one_response(db, database_url):
    survey = factories.make_survey()
    customer, _ = factories.make_customer()
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    question = surveys.questions(survey)[0]
    db.close()
    outcomes, barrier = [], threading.Barrier(2)

    def click():
        database = models.bind(database_url)
        database.connect(reuse_if_open=True)
        try:
            barrier.wait()
            survey_answers.submit_personal(token, {f"q{question.id}": ["7"]}, "zh")
            outcomes.append("stored")
        except SurveyUnavailable as exc:
            outcomes.append(exc.reason)
        finally:
            database.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    models.db.connect(reuse_if_open=True)
    assert sorted(outcomes) == ["answered", "stored"]
    assert SurveyResponse.select().count() == 1 and SurveyAnswer.select().count() == 1


def test_a_detractor_creates_a_follow_up_task_for_the_cards_owner(reference):
    owner = factories.make_staff(role="agent")
    survey = full_survey()
    customer, _ = factories.make_customer(owner=owner)
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    survey_answers.submit_personal(token, answers_for(survey, nps="3", rating="2"), "zh")
    task = Task.get()
    assert (task.customer_id, task.assignee_id, task.kind) == (customer.id, owner.id, "survey")
    assert "NPS 3/10" in task.title and "2/5" in task.title
    quiet = full_survey(task_on_detractor=False)
    other, _ = factories.make_customer(owner=owner)
    token = link_token(survey_invites.invite_link(survey_invites.invite(quiet, other)))
    survey_answers.submit_personal(token, answers_for(quiet, nps="0"), "zh")
    assert Task.select().count() == 1


def test_anonymous_responses_have_no_card_and_change_none(reference):
    survey = full_survey()
    token = survey_invites.ensure_public_token(survey, SYSTEM)
    assert survey_invites.ensure_public_token(survey, SYSTEM) == token
    response = survey_answers.submit_public(token, answers_for(survey, nps="2", sms="yes"), "zh")
    assert response.customer_id is None and response.invite_id is None
    assert ConsentEvent.select().count() == 0 and Task.select().count() == 0
    survey_invites.revoke_public_token(survey, SYSTEM)
    with pytest.raises(SurveyUnavailable):
        survey_answers.open_public(token)


# --- sending invitations ------------------------------------------------------------------------

def test_send_invites_respects_marketing_consent_and_skips_erased_cards(reference):
    survey = factories.make_survey()
    yes, _ = factories.make_customer(preferred_language="en")
    consent.grant(yes, "email_marketing", SYSTEM, "staff")
    no, _ = factories.make_customer()
    gone, _ = factories.make_customer()
    consent.grant(gone, "email_marketing", SYSTEM, "staff")
    models.Customer.update(erased_at=models.utcnow()).where(
        models.Customer.id == gone.id).execute()
    counts = survey_invites.send_invites(survey, [yes.public_id, no.public_id, gone.public_id,
                                           "nosuchcard", yes.public_id], SYSTEM)
    assert (counts["sent"], counts["no_consent"], counts["erased"], counts["unknown"]) == (
        1, 1, 1, 1)
    message = models.EmailMessage.get()
    assert message.to_addr == yes.primary_email and "/survey/" in message.body_text
    assert "Satisfaction survey" in message.subject  # the customer's language
    assert "List-Unsubscribe" in message.headers
    assert SurveyInvite.get().sent_at is not None


# --- results ------------------------------------------------------------------------------------

def respond(survey, tier=None, **answers):
    customer, _ = factories.make_customer()
    if tier is not None:
        models.Customer.update(tier=tier).where(models.Customer.id == customer.id).execute()
    token = link_token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    survey_answers.submit_personal(token, answers_for(survey, **answers), "zh")
    return customer


def test_results_count_nps_ratings_and_choices_in_sql(reference):
    survey = full_survey()
    gold = models.Tier.create(code="gold", name_zh="金卡", name_en="Gold", rank=3)
    first = respond(survey, nps="10", rating="5", source="c1", styles=["minimal", "casual"],
                    tier=gold)
    respond(survey, nps="9", rating="3", source="c2", styles=["casual"], text="=1+1")
    respond(survey, nps="7", rating="", source="c1")
    respond(survey, nps="2", rating="1", source="c3", styles=["vintage"])
    survey_invites.invite(survey, factories.make_customer()[0])  # invited, never answered
    everyone = survey_results.Filters()
    funnel = survey_results.funnel(survey, everyone)
    assert (funnel["invited"], funnel["answered"], funnel["responses"]) == (5, 4, 4)
    results = {r["question"].kind + str(i): r for i, r in enumerate(
        survey_results.question_results(survey, everyone, "en"))}
    nps = results["nps0"]["nps"]
    assert (nps["promoters"], nps["passives"], nps["detractors"], nps["score"]) == (2, 1, 1, 25)
    assert results["rating1"]["average"] == 3 and results["rating1"]["answered"] == 3
    assert results["single_choice2"]["chart"] == {"labels": ["Friends", "Ads", "Walking by"],
                                                  "values": [2, 1, 1]}
    assert results["multi_choice3"]["chart"]["values"] == [1, 0, 2, 1]
    only_gold = survey_results.Filters(tier=gold)
    assert survey_results.funnel(survey, only_gold)["responses"] == 1
    segment = Segment.create(name="VIP", kind="static")
    SegmentMember.create(segment=segment, customer=first)
    gold_nps = survey_results.question_results(survey, survey_results.Filters(segment=segment),
                                               "zh")[0]["nps"]
    assert gold_nps["score"] == 100
    texts = list(survey_results.text_answers(survey, everyone))
    assert [a.value for a in texts] == ["=1+1"]


def test_exports_are_excel_safe_and_audited(reference):
    survey = full_survey()
    respond(survey, nps="9", text="=HYPERLINK(\"http://x\")", styles=["casual"])
    body = survey_results.export_csv(survey, survey_results.Filters(), "zh", SYSTEM)
    assert body.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][3] == "推荐我们的可能性？" and rows[1][3] == "9"
    assert rows[1][6] == "休闲" and rows[1][-1] == "'=HYPERLINK(\"http://x\")"
    data = survey_results.export_xlsx(survey, survey_results.Filters(), "en", SYSTEM)
    sheet = load_workbook(io.BytesIO(data)).active
    values = [cell.value for cell in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert values[-1] == "=HYPERLINK(\"http://x\")"
    assert next(sheet.iter_rows(min_row=2, max_row=2))[-1].data_type == "s"
    assert AuditEvent.select().where(AuditEvent.action == "survey.export").count() == 2
    assert CustomFieldValue.select().count() == 1
