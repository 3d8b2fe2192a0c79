"""Answering a survey from its link, through HTTP with CSRF on: GET shows the form and changes
nothing but the first-opened time; POST validates and stores once; expired, tampered and closed
links get a friendly page; the anonymous link is bounded per browser and per IP."""
import re

import pytest
from werkzeug.test import Client

import models
from models import ConsentEvent, SurveyInvite, SurveyResponse
from services import consent, survey_invites, surveys
from services.demo.reference import ensure_fields, ensure_purposes
from tests import factories
from tests.conftest import csrf_from, post_form
from tests.services.test_surveys import answers_for, full_survey

ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}
LINK_RE = re.compile(r"https?://[^/\s]+(/survey/\S+)")


@pytest.fixture
def reference(db):
    ensure_fields()
    ensure_purposes(models.utcnow())


def personal_link(survey, **customer):
    person, _ = factories.make_customer(**customer)
    link = survey_invites.invite_link(survey_invites.invite(survey, person))
    return person, LINK_RE.search(link).group(1)


def test_the_get_shows_the_form_records_the_first_opening_and_stores_nothing(client, reference):
    survey = full_survey()
    person, path = personal_link(survey, name="王小明")
    response = client.get(path, headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Hello 王小明" in html
    assert "Recommend us?" in html and person.primary_email not in html
    first = SurveyInvite.get().opened_at
    assert first is not None
    client.get(path, headers=ZH)
    assert SurveyInvite.get().opened_at == first  # the first opening is kept
    assert "推荐我们的可能性" in client.get(path, headers=ZH).get_data(as_text=True)
    assert SurveyResponse.select().count() == 0


def test_errors_show_at_the_question_and_keep_the_other_answers(client, reference):
    survey = full_survey()
    _person, path = personal_link(survey)
    q = surveys.questions(survey)
    response = post_form(client, path, {f"q{q[1].id}": "4", f"q{q[2].id}": "c2",
                                         f"q{q[5].id}": "<script>alert(1)</script>"},
                         headers=EN)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Please answer this question." in html
    assert f'id="q{q[0].id}-error"' in html
    assert re.search(rf'id="q{q[1].id}-4" value="4"[^>]*checked', html)
    assert re.search(r'value="c2" checked', html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert" not in html
    assert SurveyResponse.select().count() == 0


def test_a_post_stores_once_and_a_second_submit_says_already_answered(client, reference):
    survey = full_survey()
    person, path = personal_link(survey)
    data = answers_for(survey, nps="6", sms="yes")
    response = post_form(client, path, data, headers=EN)
    assert response.status_code == 200
    assert "Thank you for your answers" in response.get_data(as_text=True)
    assert SurveyResponse.get().customer_id == person.id
    assert ConsentEvent.get().source == "survey"
    again = Client(client.application)  # another browser, the same link
    token = csrf_from(again, "/login")
    second = again.post(path, data={"csrf_token": token, **data}, headers=EN)
    assert second.status_code == 200 and "already answered" in second.get_data(as_text=True)
    assert "already answered" in client.get(path, headers=EN).get_data(as_text=True)
    assert SurveyResponse.select().count() == 1


def test_a_post_without_the_csrf_token_stores_nothing(client, reference):
    survey = full_survey()
    _person, path = personal_link(survey)
    response = client.post(path, data=answers_for(survey), headers=EN)
    assert response.status_code == 400
    assert SurveyResponse.select().count() == 0


@pytest.mark.parametrize("headers,expected", [(ZH, "问卷"), (EN, "survey")])
def test_tampered_expired_and_closed_links_get_a_friendly_page(client, reference, headers,
                                                               expected):
    survey = full_survey()
    _person, path = personal_link(survey)
    tampered = client.get(path[:-3] + "xyz", headers=headers)
    assert tampered.status_code == 404
    assert 'data-reason="invalid"' in tampered.get_data(as_text=True)
    surveys.set_status(survey, "closed", factories.SYSTEM)
    closed = client.get(path, headers=headers)
    assert closed.status_code == 410 and 'data-reason="closed"' in closed.get_data(as_text=True)
    surveys.set_status(survey, "open", factories.SYSTEM)
    past = models.utcnow().replace(year=2020)
    SurveyInvite.update(expires_at=past).execute()
    models.LinkToken.update(expires_at=past).execute()
    expired = client.get(path, headers=headers)
    html = expired.get_data(as_text=True)
    assert expired.status_code == 410 and 'data-reason="expired"' in html
    assert "Traceback" not in html
    assert client.get("/survey/", headers=headers).status_code == 404


def test_the_anonymous_link_takes_one_answer_per_browser(client, reference):
    survey = full_survey()
    token = survey_invites.ensure_public_token(survey, factories.SYSTEM)
    path = f"/survey/p/{token}"
    html = client.get(path, headers=EN).get_data(as_text=True)
    assert "Hello" not in html and "anonymous" in html
    response = post_form(client, path, answers_for(survey, sms="yes"), headers=EN)
    assert "Thank you" in response.get_data(as_text=True)
    assert SurveyResponse.get().customer_id is None and ConsentEvent.select().count() == 0
    assert "already answered" in client.get(path, headers=EN).get_data(as_text=True)
    assert client.get("/survey/p/nosuchtoken", headers=EN).status_code == 404


def test_the_anonymous_link_is_rate_limited_per_ip(client, reference, monkeypatch):
    from portal import surveys as portal_surveys
    survey = full_survey()
    token = survey_invites.ensure_public_token(survey, factories.SYSTEM)
    path = f"/survey/p/{token}"
    statuses = []
    for _ in range(int(portal_surveys.PUBLIC_RATE.split()[0]) + 1):
        browser = Client(client.application)  # a fresh cookie each time
        statuses.append(post_form(browser, path, answers_for(survey), headers=EN).status_code)
    assert statuses[:-1] == [200] * (len(statuses) - 1) and statuses[-1] == 429
    assert SurveyResponse.select().count() == len(statuses) - 1


def test_emailed_invitations_arrive_and_their_link_opens_the_survey(settings, smtp_server,
                                                                    reference):
    import wsgi
    settings["MAIL_URL"] = smtp_server.url
    app = wsgi.create_app(settings)
    client = Client(app)
    survey = full_survey()
    person, _ = factories.make_customer(name="李四", preferred_language="zh")
    consent.grant(person, "email_marketing", factories.SYSTEM, "staff")
    counts = survey_invites.send_invites(survey, [person.public_id], factories.SYSTEM)
    assert counts["sent"] == 1
    _sender, recipients, message = smtp_server.sink.messages[0]
    assert recipients == [person.primary_email]
    assert "满意度调查" in message["Subject"]  # the customer's language
    body = message.get_body(("plain",)).get_content()
    assert "李四" in body and message["List-Unsubscribe"]
    path = LINK_RE.search(body).group(1)
    page = client.get(path, headers=ZH)
    assert page.status_code == 200 and "李四" in page.get_data(as_text=True)
    response = post_form(client, path, answers_for(survey), headers=ZH)
    assert response.status_code == 200 and SurveyResponse.select().count() == 1
