"""Surveys in a real browser: a customer answers from the emailed link on a 390 px phone (zh and
en), opens it again, and meets an expired and a tampered link; staff build a survey and read its
results charts on a desktop. Every page ends clean (no CSP violation, no page error)."""
import re

import pytest
from playwright.sync_api import expect

import models
from models import EmailMessage, SurveyInvite, SurveyResponse
from services import consent, survey_invites, surveys
from services.demo.reference import ensure_fields, ensure_purposes
from tests import factories
from tests.browser.test_sign_in import staff_sign_in, t
from tests.services.test_surveys import full_survey, respond

pytestmark = pytest.mark.browser
LINK_RE = re.compile(r"https?://[^/\s]+(/survey/\S+)")


def fits_phone(page):
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_answer_from_the_emailed_link_on_a_phone(db, pages, live_server, screenshots, lang):
    ensure_fields()
    ensure_purposes(models.utcnow())
    survey = full_survey()
    customer, _ = factories.make_customer(name="王芳" if lang == "zh" else "Emma Wilson",
                                          preferred_language=lang)
    consent.grant(customer, "email_marketing", factories.SYSTEM, "staff")
    assert survey_invites.send_invites(survey, [customer.public_id], factories.SYSTEM)["sent"] == 1
    path = LINK_RE.search(EmailMessage.get().body_text).group(1)
    q = surveys.questions(survey)

    page = pages.new_page(lang, phone=True)
    page.goto(f"{live_server}{path}")
    expect(page.locator("#greeting")).to_contain_text(customer.name)
    fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-survey-form-{lang}.png"), full_page=True)
    # Missing required answers: errors at the questions, what was chosen stays chosen.
    page.locator(f"label[for=q{q[1].id}-4]").click()
    page.fill(f"input[name=q{q[5].id}]", "<script>alert(1)</script>")
    page.click("#survey-form button[type=submit]")
    expect(page.locator(f"#q{q[0].id}-error")).to_have_text(t(lang, "Please answer this question."))
    expect(page.locator(f"#q{q[1].id}-4")).to_be_checked()
    expect(page.locator(f"input[name=q{q[5].id}]")).to_have_value("<script>alert(1)</script>")
    fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-survey-errors-{lang}.png"), full_page=True)

    page.locator(f"label[for=q{q[0].id}-3]").click()
    page.locator(f"#q{q[2].id} .form-check-label").first.click()
    page.locator(f"#q{q[3].id} .form-check-label").nth(2).click()
    page.click("#survey-form button[type=submit]")
    expect(page.locator("#survey-thanks")).to_be_visible()
    page.screenshot(path=str(screenshots / f"portal-survey-thanks-{lang}.png"), full_page=True)
    response = SurveyResponse.get()
    assert response.customer_id == customer.id and response.locale == lang
    assert models.Task.select().count() == 1  # NPS 3: a follow-up for the owner

    # The same link again: already answered, nothing stored twice.
    page.goto(f"{live_server}{path}")
    expect(page.locator("#survey-unavailable")).to_have_attribute("data-reason", "answered")
    assert SurveyResponse.select().count() == 1

    # Tampered and expired links: a friendly page in the page's language.
    page.goto(f"{live_server}{path[:-4]}abcd")
    expect(page.locator("#survey-unavailable")).to_have_attribute("data-reason", "invalid")
    pages.assert_clean(expected_status=404)
    other, _ = factories.make_customer()
    invite = survey_invites.invite(survey, other)
    expired_path = LINK_RE.search(survey_invites.invite_link(invite)).group(1)
    past = models.utcnow().replace(year=2020)
    SurveyInvite.update(expires_at=past).where(SurveyInvite.id == invite.id).execute()
    models.LinkToken.update(expires_at=past).where(models.LinkToken.customer == other).execute()
    page.goto(f"{live_server}{expired_path}")
    expect(page.locator("#survey-unavailable")).to_have_attribute("data-reason", "expired")
    expect(page.locator("main p").first).to_have_text(
        t(lang, "This survey link has expired. Thank you for your interest."))
    fits_phone(page)
    page.screenshot(path=str(screenshots / f"portal-survey-expired-{lang}.png"), full_page=True)
    pages.assert_clean(expected_status=410)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_build_a_survey_and_read_its_results_charts(db, pages, live_server, screenshots, lang):
    ensure_fields()
    ensure_purposes(models.utcnow())
    staff = factories.make_staff(role="marketer", name="李静" if lang == "zh" else "Laura Chen")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)
    page.click(".bo-sidebar a[href='/staff/surveys/']")
    page.get_by_role("link", name=t(lang, "New survey")).click()
    page.fill("#title_zh", "门店满意度调查")
    page.fill("#title_en", "Store satisfaction survey")
    page.fill("#intro_zh", "只需两分钟。")
    page.click("main form button[type=submit]")
    expect(page.locator("main h1")).to_have_text(
        "门店满意度调查" if lang == "zh" else "Store satisfaction survey")
    for kind, text, choices in (("nps", "您有多大可能推荐我们？", ""),
                                ("multi_choice", "您喜欢哪些品类？", "外套\n衬衫\n鞋")):
        form = page.locator("#add-question")
        form.locator("#kind").select_option(kind)
        form.locator("#text_zh").fill(text)
        form.locator("#choices_zh").fill(choices)
        form.locator("button[type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#question-list > li")).to_have_count(2)
    page.screenshot(path=str(screenshots / f"backoffice-survey-builder-{lang}.png"),
                    full_page=True)
    page.locator("form[action$='/status'] button").first.click()
    expect(page.locator("#survey-status")).to_have_attribute("data-status", "open")

    survey = full_survey()
    for nps, styles in (("10", ["casual"]), ("9", ["minimal", "casual"]), ("4", []),
                        ("7", ["vintage"])):
        respond(survey, nps=nps, styles=styles, text="很满意" if nps == "10" else "")
    page.goto(f"{live_server}/staff/surveys/{survey.public_id}/results")
    expect(page.locator("[data-nps]")).to_have_attribute("data-nps", "25")
    expect(page.locator(".survey-chart canvas")).to_have_count(4)  # SMS: no answers yet
    page.screenshot(path=str(screenshots / f"backoffice-survey-results-{lang}.png"),
                    full_page=True)
    pages.assert_clean()
