"""Sign-in, sign-out and the language switcher in a real browser (headless Chromium),
in both languages, on the staff back office (desktop) and the customer portal (phone).

Every test ends with ``pages.assert_clean()``: no console error (a CSP violation by an inline
script or style is one), no uncaught page error, no failed request.
"""
import re

import pytest
from playwright.sync_api import expect

import config
import models
from tests import factories

pytestmark = pytest.mark.browser

LANGS = ["zh", "en"]
HTML_LANG = {"zh": "zh-CN", "en": "en"}
OTHER = {"zh": "en", "en": "zh"}
ZH_CATALOGUE = config.BASE_DIR / "translations" / "zh" / "LC_MESSAGES" / "messages.mo"


def has_zh_catalogue():
    return ZH_CATALOGUE.exists()


def t(lang, msgid):
    """What the page shows for ``msgid`` in ``lang``: the zh catalogue's translation once it
    exists (the English text until then, as the app falls back to it)."""
    if lang == "en" or not has_zh_catalogue():
        return msgid
    from babel.support import Translations
    catalogue = Translations.load(str(config.BASE_DIR / "translations"), ["zh"])
    return catalogue.gettext(msgid)


def login_url(base, prefix=""):
    """The sign-in page of one app, with or without a ?next=."""
    return re.compile(re.escape(f"{base}{prefix}/login") + r"(\?next=.*)?$")


def expect_staff_login_page(page, base, lang):
    expect(page).to_have_url(login_url(base, "/staff"))
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    card = page.locator(".bo-login")
    expect(card.locator("form input#email")).to_be_visible()
    expect(card.locator("form input#password")).to_be_visible()
    expect(card.locator("form button[type=submit]")).to_be_visible()
    if lang == "en":
        expect(page).to_have_title(re.compile(r"^Staff sign-in · "))
        expect(card).to_contain_text("Staff sign-in")
    elif has_zh_catalogue():
        expect(page).to_have_title(re.compile(r"^员工登录 · "))
        expect(card).to_contain_text("员工登录")


def customer_sign_in(page, base, email, password=factories.PASSWORD):
    """Sign in to the portal through its login form; lands on the customer's card."""
    page.goto(f"{base}/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/")


def second_step(page, base, email):
    """If sign-in asks for a 2FA code (admins), type the one the member's app shows now."""
    page.wait_for_url(re.compile(re.escape(f"{base}/staff/") + r"(login/code)?$"))
    if page.url.endswith("/login/code"):
        page.fill("#code", factories.totp_code(models.StaffUser.get(
            models.StaffUser.email == email)))
        page.click(".bo-login form button[type=submit]")


def staff_sign_in(page, base, email, password=factories.PASSWORD):
    page.goto(f"{base}/staff/")
    expect(page).to_have_url(login_url(base, "/staff"))
    page.fill("#email", email)
    page.fill("#password", password)
    page.click(".bo-login form button[type=submit]")
    second_step(page, base, email)
    page.wait_for_url(f"{base}/staff/")
    expect(page.locator(".bo-sidebar")).to_be_visible()


def staff_sign_out(page, base):
    page.click(".bo-sidebar form[action='/staff/logout'] button[type=submit]")
    page.wait_for_url(f"{base}/staff/login")


@pytest.mark.parametrize("lang", LANGS)
def test_staff_sign_in_and_out(pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="admin", name="李静" if lang == "zh" else "Laura Chen")
    customer, _ = factories.make_customer(name="王芳" if lang == "zh" else "Emma Wilson",
                                          mobile="13800138000", city="上海")
    factories.make_purchase(customer, amount="1288.00")
    page = pages.new_page(lang)

    page.goto(f"{live_server}/staff/")
    expect(page).to_have_url(f"{live_server}/staff/login?next=/staff/")
    expect_staff_login_page(page, live_server, lang)

    page.fill("#email", staff.email)
    page.fill("#password", factories.PASSWORD)
    page.click(".bo-login form button[type=submit]")
    second_step(page, live_server, staff.email)
    page.wait_for_url(f"{live_server}/staff/")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    sidebar = page.locator(".bo-sidebar")
    expect(sidebar).to_contain_text(staff.name)
    expect(page.locator(".bo-main h1")).to_be_visible()
    expect(page.locator(".bo-main h1")).to_have_text(t(lang, "Dashboard"))
    expect(page.locator(".bo-main table")).to_contain_text(customer.name)
    page.screenshot(path=str(screenshots / f"staff-dashboard-{lang}.png"), full_page=True)

    sidebar.locator("a[href='/staff/cards/']").click()
    page.wait_for_url(f"{live_server}/staff/cards/")
    expect(sidebar.locator("a[aria-current=page]")).to_have_attribute("href", "/staff/cards/")
    expect(page.locator(".bo-main table tbody")).to_contain_text(customer.name)
    page.screenshot(path=str(screenshots / f"staff-cards-{lang}.png"), full_page=True)

    staff_sign_out(page, live_server)
    expect_staff_login_page(page, live_server, lang)
    expect(page.locator(".alert")).to_have_text(t(lang, "You have signed out."))

    # Back to the card list: the page is not served from cache, the session is gone.
    page.go_back()
    expect(page).to_have_url(f"{live_server}/staff/login?next=/staff/cards/")
    expect(page.locator(".bo-sidebar")).to_have_count(0)
    page.goto(f"{live_server}/staff/")
    expect(page).to_have_url(f"{live_server}/staff/login?next=/staff/")
    expect_staff_login_page(page, live_server, lang)
    pages.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_customer_sign_in_on_phone(pages, live_server, screenshots, lang):
    name = "王芳" if lang == "zh" else "Emma Wilson"
    product = "保湿面霜 50ml" if lang == "zh" else "Moisturising cream 50 ml"
    customer, account = factories.make_customer(name=name, mobile="13800138000")
    factories.make_purchase(customer, amount="268.00", product=product)
    page = pages.new_page(lang, phone=True)

    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=/")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    expect(page.locator("main form input#email")).to_be_visible()
    expect(page.locator("main h1")).to_have_text(t(lang, "Sign in to your customer card"))
    page.screenshot(path=str(screenshots / f"portal-login-{lang}.png"), full_page=True)

    page.fill("#email", account.email)
    page.fill("#password", factories.PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    expect(page.locator("main h1")).to_have_text(t(lang, "Hello, %(name)s") % {"name": name})
    expect(page.locator("main .card").first).to_contain_text("+86 138 0013 8000")
    expect(page.locator("main .list-group")).to_contain_text(product)
    # Phone layout: nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    page.screenshot(path=str(screenshots / f"portal-home-{lang}.png"), full_page=True)

    page.click("nav form[action='/logout'] button[type=submit]")
    page.wait_for_url(f"{live_server}/login")
    expect(page.locator("main form input#email")).to_be_visible()
    page.goto(f"{live_server}/")
    expect(page).to_have_url(f"{live_server}/login?next=/")
    pages.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("app", ["staff", "portal"])
def test_wrong_password_shows_error_and_keeps_email(pages, live_server, app, lang):
    if app == "staff":
        email, prefix = factories.make_staff(role="agent").email, "/staff"
    else:
        email, prefix = factories.make_customer()[1].email, ""
    page = pages.new_page(lang, phone=app == "portal")
    page.goto(f"{live_server}{prefix}/login")
    page.fill("#email", email)
    page.fill("#password", "not-the-password")
    page.click("main form button[type=submit]")
    page.wait_for_load_state()

    expect(page).to_have_url(f"{live_server}{prefix}/login")
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[lang])
    password = page.locator("#password")
    expect(password).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(password).to_have_value("")
    error = page.locator("#password ~ .invalid-feedback")
    expect(error).to_have_count(1)
    expect(error).to_be_visible()
    expect(error).to_have_text(t(lang, "The email or password is not correct."))
    # The error is under the password field, not somewhere else on the page.
    field_box, error_box = password.bounding_box(), error.bounding_box()
    assert 0 <= error_box["y"] - (field_box["y"] + field_box["height"]) < 40
    expect(page.locator("#email")).to_have_value(email)
    expect(page.locator("#email")).not_to_have_class(re.compile(r"\bis-invalid\b"))
    pages.assert_clean()


@pytest.mark.parametrize("lang", LANGS)
def test_language_switcher_on_staff_login(pages, live_server, lang):
    page = pages.new_page(lang)
    page.goto(f"{live_server}/staff/")
    expect_staff_login_page(page, live_server, lang)
    switcher = page.locator("#lang-select")
    expect(switcher).to_have_value(lang)

    other = OTHER[lang]
    switcher.select_option(other)  # app.js submits the form on change
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[other])
    expect(page).to_have_url(f"{live_server}/staff/login?next=/staff/")
    expect(page.locator("#lang-select")).to_have_value(other)
    expect_staff_login_page(page, live_server, other)

    # The choice is remembered over the browser's Accept-Language.
    page.reload()
    expect(page.locator("html")).to_have_attribute("lang", HTML_LANG[other])
    pages.assert_clean()


def test_copied_session_cookie_stops_working_after_logout(pages, live_server):
    staff = factories.make_staff(role="admin")
    context_a = pages.new_context("en")
    page_a = pages.new_page(context=context_a)
    staff_sign_in(page_a, live_server, staff.email)

    cookies = context_a.cookies()
    assert any(cookie["name"] == "cc_staff" for cookie in cookies), cookies
    context_b = pages.new_context("en")
    context_b.add_cookies(cookies)
    page_b = pages.new_page(context=context_b)
    page_b.goto(f"{live_server}/staff/cards/")
    expect(page_b).to_have_url(f"{live_server}/staff/cards/")
    expect(page_b.locator(".bo-sidebar")).to_contain_text(staff.name)

    staff_sign_out(page_a, live_server)
    page_b.goto(f"{live_server}/staff/cards/")
    expect(page_b).to_have_url(f"{live_server}/staff/login?next=/staff/cards/")
    expect(page_b.locator(".bo-sidebar")).to_have_count(0)
    pages.assert_clean()
