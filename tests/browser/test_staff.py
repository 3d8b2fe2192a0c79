"""Staff administration and two-factor sign-in in Chromium, in both languages: an admin enrols
(QR code page), signs in with a code, reads the staff list and the roles page, invites a new
member who chooses a password behind the emailed link."""
import re

import pyotp
import pytest
from playwright.sync_api import expect

import models
from models import EmailMessage, StaffUser
from services import access, accounts, totp
from tests import factories
from tests.browser.test_sign_in import second_step, staff_sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_enrols_in_two_factor_sign_in(pages, live_server, screenshots, lang):
    admin = factories.make_staff(role="admin", two_factor=False,
                                 name="李静" if lang == "zh" else "Laura Chen")
    accounts.set_preferred_language(admin, lang)
    page = pages.new_page(lang)
    page.goto(f"{live_server}/staff/login")
    page.fill("#email", admin.email)
    page.fill("#password", factories.PASSWORD)
    page.click(".bo-login form button[type=submit]")
    # Straight to enrolment, and nowhere else until it is done.
    page.wait_for_url(f"{live_server}/staff/account/two-factor")
    expect(page.locator("#enrolment-required")).to_be_visible()
    page.goto(f"{live_server}/staff/cards/")
    expect(page).to_have_url(f"{live_server}/staff/account/two-factor")

    page.click("main form button[type=submit]")
    qr = page.locator("#totp-qr")
    expect(qr).to_be_visible()
    assert page.evaluate("document.getElementById('totp-qr').naturalWidth") > 100
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    assert secret == StaffUser.get_by_id(admin.id).totp_secret
    page.screenshot(path=screenshots / f"staff-2fa-enrol-{lang}.png", full_page=True)

    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("main form button[type=submit]")
    codes = page.locator("#recovery-codes li")
    expect(codes).to_have_count(10)
    page.screenshot(path=screenshots / f"staff-2fa-recovery-codes-{lang}.png", full_page=True)
    assert totp.is_enabled(StaffUser.get_by_id(admin.id))

    page.goto(f"{live_server}/staff/cards/")
    expect(page).to_have_url(f"{live_server}/staff/cards/")
    page.click(".bo-sidebar form[action='/staff/logout'] button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/login")

    # From now on, sign-in asks for the code after the password.
    page.fill("#email", admin.email)
    page.fill("#password", factories.PASSWORD)
    page.click(".bo-login form button[type=submit]")
    page.wait_for_url(f"{live_server}/staff/login/code")
    page.fill("#code", "000000")
    page.click(".bo-login form button[type=submit]")
    expect(page.locator("#code.is-invalid")).to_be_visible()
    page.screenshot(path=screenshots / f"staff-2fa-code-step-{lang}.png", full_page=True)
    second_step(page, live_server, admin.email)
    page.wait_for_url(f"{live_server}/staff/")
    pages.assert_clean()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_reads_the_staff_list_and_invites_a_member(pages, live_server, screenshots,
                                                             lang):
    admin = factories.make_staff(role="admin", name="李静" if lang == "zh" else "Laura Chen")
    accounts.set_preferred_language(admin, lang)
    factories.make_staff(role="agent", name="王强" if lang == "zh" else "Tom Baker")
    factories.make_staff(role="marketer", name="<script>alert(1)</script>")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, admin.email)

    page.click(".bo-sidebar a[href='/staff/team/']")
    rows = page.locator("#staff-list tbody tr")
    expect(rows).to_have_count(3)
    expect(page.locator("#staff-list")).to_contain_text("<script>alert(1)</script>")
    expect(page.locator(f"#staff-{admin.public_id} [data-col=two-factor]")).not_to_be_empty()
    page.screenshot(path=screenshots / f"staff-list-{lang}.png", full_page=True)

    page.goto(f"{live_server}/staff/team/roles")
    expect(page.locator("#roles-matrix tbody tr")).to_have_count(len(access.PERMISSIONS))
    expect(page.locator("#roles-matrix thead th[data-role]")).to_have_count(
        len(models.STAFF_ROLES))
    page.screenshot(path=screenshots / f"staff-roles-{lang}.png", full_page=True)

    page.goto(f"{live_server}/staff/team/invite")
    page.fill("#name", "新同事" if lang == "zh" else "New Colleague")
    page.fill("#email", "not-an-email")
    page.select_option("#role", "viewer")
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#email.is-invalid")).to_be_visible()
    expect(page.locator("#name")).to_have_value("新同事" if lang == "zh" else "New Colleague")
    expect(page.locator("#role")).to_have_value("viewer")
    page.screenshot(path=screenshots / f"staff-invite-error-{lang}.png", full_page=True)
    page.fill("#email", "colleague@example.com")
    page.click("#invite-form button[type=submit]")
    expect(page.locator("#staff-facts")).to_contain_text("colleague@example.com")
    page.screenshot(path=screenshots / f"staff-detail-{lang}.png", full_page=True)

    mail = EmailMessage.get(EmailMessage.kind == "staff_invite")
    link = re.search(r"https?://\S+/staff(/invite/\S+)", mail.body_text).group(1)
    newcomer = pages.new_page(lang)
    newcomer.goto(f"{live_server}/staff{link}")
    expect(newcomer.locator("#invite-who")).to_contain_text("colleague@example.com")
    newcomer.fill("#new_password", "a-good-new-password")
    newcomer.fill("#confirm", "a-good-new-password")
    newcomer.screenshot(path=screenshots / f"staff-invite-accept-{lang}.png", full_page=True)
    newcomer.click(".bo-login form button[type=submit]")
    newcomer.wait_for_url(f"{live_server}/staff/login")
    newcomer.fill("#email", "colleague@example.com")
    newcomer.fill("#password", "a-good-new-password")
    newcomer.click(".bo-login form button[type=submit]")
    newcomer.wait_for_url(f"{live_server}/staff/")
    pages.assert_clean()
