"""Getting into the portal on a phone, in both languages: claim an invitation from its email,
and sign in with a one-time email link (the link opens a Continue page; the button signs in)."""
import re

import pytest
from playwright.sync_api import expect

from models import EmailMessage
from services import customer_access
from services.actors import Actor
from tests import factories
from tests.browser.test_sign_in import t

pytestmark = pytest.mark.browser
LINK_RE = re.compile(r"https?://[^/\s]+(/(?:claim|login/link)/\S+)")


def emailed_path(to_addr):
    message = (EmailMessage.select().where(EmailMessage.to_addr == to_addr)
               .order_by(EmailMessage.id.desc()).get())
    return LINK_RE.search(message.body_text).group(1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_claim_an_invitation_on_a_phone(pages, live_server, screenshots, lang):
    name = "王芳" if lang == "zh" else "Emma Wilson"
    customer, _ = factories.make_customer(name=name, email=f"claim-{lang}@example.com",
                                          account=False, preferred_language=lang)
    customer_access.invite(customer, Actor.system("test"))
    page = pages.new_page(lang, phone=True)
    page.goto(live_server + emailed_path(f"claim-{lang}@example.com"))
    expect(page.locator("h1")).to_have_text(t(lang, "Open your customer card"))
    page.fill("#new_password", "short")
    page.fill("#confirm", "short")
    page.click("button[type=submit]")
    expect(page.locator("#new_password.is-invalid")).to_be_visible()
    page.screenshot(path=screenshots / f"portal-claim-error-{lang}.png", full_page=True)
    page.fill("#new_password", "a-good-password-1")
    page.fill("#confirm", "a-good-password-1")
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("main")).to_contain_text(name)
    page.screenshot(path=screenshots / f"portal-claimed-{lang}.png", full_page=True)
    pages.assert_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_sign_in_with_an_email_link_on_a_phone(pages, live_server, screenshots, lang):
    email = f"link-{lang}@example.com"
    factories.make_customer(name="张伟" if lang == "zh" else "Liam Gagnon", email=email,
                            preferred_language=lang)
    page = pages.new_page(lang, phone=True)
    page.goto(f"{live_server}/login")
    page.click(f"text={t(lang, 'Email me a sign-in link')}")
    page.fill("#email", email)
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_have_text(t(lang, "Check your email"))
    page.goto(live_server + emailed_path(email))
    expect(page.locator("h1")).to_have_text(t(lang, "Continue to your card"))
    page.screenshot(path=screenshots / f"portal-continue-{lang}.png", full_page=True)
    page.click("button[type=submit]")
    expect(page).to_have_url(f"{live_server}/")
    page.goto(live_server + emailed_path(email))  # the link is used up
    expect(page.locator("h1")).to_have_text(t(lang, "This link cannot be used"))
    page.screenshot(path=screenshots / f"portal-link-used-{lang}.png", full_page=True)
    pages.assert_clean(expected_status=410)
