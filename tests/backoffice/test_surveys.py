"""The survey builder and results in the back office, through HTTP with CSRF on: who may use
them, building a survey (errors at the field, input kept, escaping), order, status, the
anonymous link, invitations by card number, and the results with their exports."""
import csv
import io
import re

import pytest

import models
from models import AuditEvent, EmailMessage, Survey, SurveyQuestion
from services import consent, surveys
from services.demo.reference import ensure_fields, ensure_purposes
from tests import factories
from tests.conftest import post_form
from tests.portal.test_survey_links import LINK_RE
from tests.services.test_surveys import full_survey, respond

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def reference(db):
    ensure_fields()
    ensure_purposes(models.utcnow())


def html(response):
    return response.get_data(as_text=True)


def post(client, path, data, page=None):
    return post_form(client, path, data, token_from=page or "/staff/surveys/", headers=EN)


@pytest.mark.parametrize("role,allowed", [("marketer", True), ("manager", True),
                                          ("admin", True), ("agent", False),
                                          ("viewer", False)])
def test_only_campaign_managers_see_surveys(client, staff_login, reference, role, allowed):
    staff_login(role=role)
    survey = full_survey()
    for path in ("/staff/surveys/", f"/staff/surveys/{survey.public_id}",
                 f"/staff/surveys/{survey.public_id}/results",
                 f"/staff/surveys/{survey.public_id}/results.csv"):
        assert client.get(path, headers=EN).status_code == (200 if allowed else 403), path
    nav = html(client.get("/staff/", headers=EN, follow_redirects=True))
    assert ('href="/staff/surveys/"' in nav) == allowed


def test_building_a_survey_end_to_end(client, staff_login, reference):
    staff_login(role="marketer")
    bad = post(client, "/staff/surveys/new", {"title_zh": "", "title_en": "",
                                              "intro_en": "kept intro", "invite_days": "14"},
               page="/staff/surveys/new")
    assert bad.status_code == 200 and "Give the survey a title" in html(bad)
    assert "kept intro" in html(bad) and Survey.select().count() == 0
    created = post(client, "/staff/surveys/new",
                   {"title_zh": "<script>x</script>店铺调查", "invite_days": "7",
                    "task_on_detractor": "y"}, page="/staff/surveys/new")
    survey = Survey.get()
    detail = f"/staff/surveys/{survey.public_id}"
    assert created.headers["Location"].endswith(detail)
    page = html(client.get(detail, headers=EN))
    assert "&lt;script&gt;x&lt;/script&gt;店铺调查" in page and "<script>x</script>" not in page
    missing = post(client, f"{detail}/questions", {"kind": "single_choice", "text_en": "Pick",
                                                    "choices_zh": "", "required": "y"}, detail)
    assert "Write the choices, one per line." in html(missing)
    assert "Pick</textarea>" in html(missing)  # the rest of the input is kept
    for data in ({"kind": "nps", "text_en": "Recommend us?", "required": "y"},
                 {"kind": "single_choice", "text_en": "Size?", "maps_to": "pref:size"},
                 {"kind": "single_choice", "text_zh": "颜色？", "choices_zh": "红\n蓝"}):
        response = post(client, f"{detail}/questions", data, detail)
        assert response.status_code == 302, html(response)[:300]
    nps, size, colour = surveys.questions(survey)
    assert [c["value"] for c in size.choices] == ["S", "M", "L", "XL"]
    post(client, f"{detail}/questions/{colour.id}/move", {"direction": "up"}, detail)
    assert [q.id for q in surveys.questions(survey)] == [nps.id, colour.id, size.id]
    post(client, f"{detail}/questions/{size.id}/delete", {}, detail)
    edit = f"{detail}/questions/{nps.id}"
    post(client, edit, {"kind": "rating", "text_en": "Rate us", "required": "y"}, edit)
    assert SurveyQuestion.get_by_id(nps.id).kind == "rating"
    post(client, f"{detail}/status", {"status": "open"}, detail)
    assert Survey.get().status == "open"
    assert AuditEvent.select().where(AuditEvent.action.startswith("survey.")).count() >= 7


def test_questions_are_frozen_once_answered_and_the_page_says_so(client, staff_login, reference):
    staff_login(role="marketer")
    survey = full_survey()
    respond(survey)
    detail = f"/staff/surveys/{survey.public_id}"
    page = html(client.get(detail, headers=EN))
    assert "questions can no longer change" in page and 'id="add-question"' not in page
    question = surveys.questions(survey)[0]
    response = post(client, f"{detail}/questions/{question.id}/delete", {}, detail)
    assert response.status_code == 302 and SurveyQuestion.get_or_none(id=question.id)
    post(client, f"{detail}/status", {"status": "draft"}, detail)
    assert Survey.get().status == "open"
    assert client.get(f"{detail}/questions/999999", headers=EN).status_code == 404
    assert client.get(f"{detail}/questions/x", headers=EN).status_code == 404


def test_anonymous_link_and_invitations_by_card_number(client, staff_login, reference):
    staff_login(role="marketer")
    survey = full_survey()
    detail = f"/staff/surveys/{survey.public_id}"
    post(client, f"{detail}/public-link", {}, detail)
    token = Survey.get().public_token
    assert token and f"/survey/p/{token}" in html(client.get(detail, headers=EN))
    yes, _ = factories.make_customer(preferred_language="en")
    consent.grant(yes, "email_marketing", factories.SYSTEM, "staff")
    no, _ = factories.make_customer()
    response = post(client, f"{detail}/invites",
                    {"public_ids": f"{yes.public_id}, {no.public_id}\nunknown1"}, detail)
    page = html(response)
    assert 'data-outcome="sent"' in page and 'data-outcome="no_consent"' in page
    assert 'data-outcome="unknown"' in page
    message = EmailMessage.get()
    assert message.to_addr == yes.primary_email
    assert LINK_RE.search(message.body_text)
    post(client, f"{detail}/public-link", {"action": "revoke"}, detail)
    assert Survey.get().public_token is None


def test_results_show_nps_and_charts_and_filter_by_tier(client, staff_login, reference):
    staff_login(role="marketer")
    survey = full_survey()
    gold = models.Tier.create(code="gold", name_zh="金卡", name_en="Gold", rank=3)
    respond(survey, nps="10", tier=gold, text="<b>great</b>")
    respond(survey, nps="3", styles=["casual"])
    results = f"/staff/surveys/{survey.public_id}/results"
    page = html(client.get(results, headers=EN))
    assert 'data-nps="0"' in page and 'data-metric="responses">2<' in page
    charts = re.findall(r"data-chart='([^']*)'", page)
    assert len(charts) == 4 and "<" not in "".join(charts)
    assert "&lt;b&gt;great&lt;/b&gt;" in page and "<b>great</b>" not in page
    assert "vendor/echarts-5.6.0/echarts.min.js\"" in page
    gold_page = html(client.get(f"{results}?tier=gold", headers=EN))
    assert 'data-nps="100"' in gold_page and 'data-metric="responses">1<' in gold_page


def test_exports_download_as_csv_and_xlsx(client, staff_login, reference):
    staff_login(role="marketer")
    survey = full_survey()
    respond(survey, text="@SUM(A1)")
    base = f"/staff/surveys/{survey.public_id}/results"
    response = client.get(f"{base}.csv", headers=ZH)
    assert response.headers["Cache-Control"] == "no-store"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[1][-1] == "'@SUM(A1)" and len(rows) == 2
    xlsx = client.get(f"{base}.xlsx", headers=EN)
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
