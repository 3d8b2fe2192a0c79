"""Survey reminders in a real browser (zh and en): a marketer sets "Remind after (days)" in the
survey's settings (a wrong number is refused at the field), sends the due reminders with the
button, and reads the reminders sent on the results page. Every page ends clean."""
import datetime

import pytest
from playwright.sync_api import expect

import models
from models import SurveyInvite
from services import consent, survey_invites
from services.demo.reference import ensure_fields, ensure_purposes
from tests import factories
from tests.browser.test_sign_in import staff_sign_in, t
from tests.services.test_surveys import full_survey

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_set_reminders_send_them_and_read_the_count(db, pages, live_server, screenshots, lang):
    ensure_fields()
    ensure_purposes(models.utcnow())
    survey = full_survey()
    for name in ("王芳", "Emma Wilson", "李雷"):
        customer, _ = factories.make_customer(name=name, preferred_language=lang)
        consent.grant(customer, "email_marketing", factories.SYSTEM, "staff")
        survey_invites.send_invites(survey, [customer.public_id], factories.SYSTEM)
    consent.withdraw(customer, "email_marketing", factories.SYSTEM, "staff")
    staff = factories.make_staff(role="marketer", name="李静" if lang == "zh" else "Laura Chen")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)
    page.goto(f"{live_server}/staff/surveys/{survey.public_id}")
    expect(page.locator("#reminders")).to_contain_text(t(
        lang, 'No reminder is set. To remind invitees who have not answered, enter a number of '
        'days in "Remind after (days)" in the settings.'))

    settings = page.locator("#settings")
    settings.locator("#reminder_days").fill("0")
    settings.locator("button[type=submit]").click()
    expect(page.locator("#reminder_days")).to_have_class("form-control is-invalid")
    expect(page.locator("#settings .invalid-feedback")).to_have_text(t(
        lang, "Enter a number of days from %(low)d to %(high)d, or leave it empty for no "
        "reminder.") % {"low": 1, "high": 60})
    expect(page.locator("#title_en")).to_have_value("Satisfaction survey")
    page.locator("#reminder_days").fill("3")
    page.locator("#settings button[type=submit]").click()
    expect(page.locator(".alert-success")).to_be_visible()
    expect(page.locator("#reminder_days")).to_have_value("3")
    expect(page.locator("[data-metric=reminders-due]")).to_have_text("0")
    expect(page.locator("#reminders button[type=submit]")).to_be_disabled()
    page.locator("#reminder_days").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"backoffice-survey-reminder-settings-{lang}.png"),
                    full_page=True)

    # Three days later: all three are due; one withdrew consent meanwhile.
    SurveyInvite.update(sent_at=models.utcnow() - datetime.timedelta(days=3, hours=1)).execute()
    page.reload()
    expect(page.locator("[data-metric=reminders-due]")).to_have_text("3")
    page.locator("#reminders button[type=submit]").click()
    expect(page.locator(".alert-success")).to_contain_text(t(lang, "Reminders: %(sent)s sent.")
                                                           % {"sent": 2})
    expect(page.locator("[data-metric=reminders-sent]")).to_have_text("2")
    expect(page.locator("[data-metric=reminders-skipped]")).to_have_text("1")
    expect(page.locator("[data-metric=reminders-due]")).to_have_text("0")
    page.screenshot(path=str(screenshots / f"backoffice-survey-reminders-sent-{lang}.png"),
                    full_page=True)

    page.get_by_role("link", name=t(lang, "Results")).first.click()
    expect(page.locator("#funnel [data-metric=reminded]")).to_have_text("2")
    expect(page.locator("#funnel")).to_contain_text(t(lang, "Reminders sent"))
    expect(page.locator("[data-metric=reminder_skipped]")).to_be_visible()
    page.screenshot(path=str(screenshots / f"backoffice-survey-results-reminders-{lang}.png"),
                    full_page=True)
    pages.assert_clean()
