"""Getting into the portal: invitation and claim, one-time sign-in links, password reset.

Links are taken from the emails the app sent (the outbox, or a real SMTP server), as a customer
would follow them."""
import datetime
import re

import pytest
from werkzeug.test import Client

import models
from models import AuditEvent, EmailMessage, LinkToken, PortalAccount, UserSession
from services import accounts
from tests import factories
from tests.conftest import csrf_from, login, post_form

LINK_RE = re.compile(r"https?://[^/\s]+(/(?:claim|login/link|reset)/\S+)")


def link_in_last_mail(to_addr):
    message = (EmailMessage.select().where(EmailMessage.to_addr == to_addr)
               .order_by(EmailMessage.id.desc()).first())
    assert message is not None, f"no mail to {to_addr}"
    return LINK_RE.search(message.body_text).group(1), message


def invite_from_card(client, customer):
    return post_form(client, f"/staff/cards/{customer.public_id}/invite", {},
                     token_from=f"/staff/cards/{customer.public_id}")


def test_staff_invite_then_customer_claims_and_is_signed_in(app, client, staff_login):
    staff_login(role="agent")
    customer, _ = factories.make_customer(name="王芳", email="wang.fang@example.com",
                                          account=False, preferred_language="zh")
    response = invite_from_card(client, customer)
    assert response.headers["Location"] == f"/staff/cards/{customer.public_id}"
    path, message = link_in_last_mail("wang.fang@example.com")
    assert message.subject == "您在 Customer Cards 的客户资料卡"
    assert "王芳，您好" in message.body_text and message.kind == "invite"

    customer_browser = Client(app)
    page = customer_browser.get(path)  # a mail scanner's GET uses nothing up
    assert page.status_code == 200 and "wang.fang@example.com" in page.get_data(as_text=True)
    assert customer_browser.get(path).status_code == 200

    short = post_form(customer_browser, path, {"new_password": "short", "confirm": "short"})
    assert short.status_code == 200 and "is-invalid" in short.get_data(as_text=True)
    done = post_form(customer_browser, path, {"new_password": "my-new-password-1",
                                              "confirm": "my-new-password-1"})
    assert done.headers["Location"] == "/"
    assert "王芳" in customer_browser.get("/").get_data(as_text=True)

    account = PortalAccount.get(PortalAccount.customer == customer)
    assert account.email_verified_at is not None
    assert accounts.authenticate_customer("wang.fang@example.com", "my-new-password-1")
    assert AuditEvent.get(AuditEvent.action == "portal.claim").actor_kind == "link"
    again = Client(app).get(path)
    assert again.status_code == 410 and "已被使用" in again.get_data(as_text=True)


def test_invite_refuses_cards_already_in_the_portal_or_without_email(client, staff_login):
    staff_login(role="agent")
    using, _ = factories.make_customer()
    page = client.get(invite_from_card(client, using).headers["Location"]).get_data(as_text=True)
    assert "该客户已在使用客户门户。" in page
    no_email, _ = factories.make_customer(email=None, account=False)
    models.ContactPoint.delete().where(models.ContactPoint.customer == no_email).execute()
    invite_from_card(client, no_email)
    assert PortalAccount.select().where(PortalAccount.customer == no_email).count() == 0


def test_a_second_invitation_voids_the_first(client, staff_login):
    staff_login(role="manager")
    customer, _ = factories.make_customer(account=False, email="twice@example.com")
    invite_from_card(client, customer)
    first, _ = link_in_last_mail("twice@example.com")
    invite_from_card(client, customer)
    second, _ = link_in_last_mail("twice@example.com")
    assert first != second
    assert client.get(first).status_code == 410
    assert client.get(second).status_code == 200


def _request(client, path, email):
    return post_form(client, path, {"email": email})


@pytest.mark.parametrize("path", ["/login/link", "/reset"])
def test_link_requests_answer_the_same_for_known_and_unknown_addresses(client, db, path):
    factories.make_customer(email="known@example.com")
    known = _request(client, path, "known@example.com").get_data(as_text=True)
    unknown = _request(client, path, "unknown@example.com").get_data(as_text=True)

    def strip(text):
        text = re.sub(r'(name="csrf-token" content=")[^"]+', r"\1", text)
        text = re.sub(r'(name="csrf_token"[^>]*?value=")[^"]+', r"\1", text)
        return text.replace("unknown@example.com", "X").replace("known@example.com", "X")
    assert strip(known) == strip(unknown)
    assert EmailMessage.select().where(EmailMessage.to_addr == "known@example.com").count() == 1
    assert EmailMessage.select().where(EmailMessage.to_addr == "unknown@example.com").count() == 0


def test_sign_in_link_shows_continue_and_only_the_post_signs_in(app, client, db):
    customer, account = factories.make_customer(name="Emma Wilson", email="emma@example.com",
                                                preferred_language="en")
    _request(client, "/login/link", "emma@example.com")
    path, message = link_in_last_mail("emma@example.com")
    assert message.subject == "Your sign-in link for Customer Cards"
    browser = Client(app)
    for _ in range(2):  # scanners and previews
        page = browser.get(path, headers={"Accept-Language": "en"})
        assert page.status_code == 200 and "Continue" in page.get_data(as_text=True)
    assert browser.get("/").status_code == 302  # not signed in by a GET
    response = post_form(browser, path, {})
    assert response.headers["Location"] == "/"
    assert browser.get("/").status_code == 200
    assert UserSession.select().where(UserSession.account == account).count() == 1
    assert post_form(Client(app), path, {}, token_from="/login").status_code == 410


def test_expired_tampered_and_wrong_purpose_links_are_refused(app, client, db):
    customer, account = factories.make_customer(email="links@example.com")
    _request(client, "/login/link", "links@example.com")
    path, _ = link_in_last_mail("links@example.com")
    token = path.rsplit("/", 1)[1]
    assert client.get(f"/reset/{token}").status_code == 400  # a login link is not a reset link
    assert client.get(f"/claim/{token}").status_code == 400
    assert client.get(path[:-3] + "abc").status_code == 400  # tampered signature
    LinkToken.update(expires_at=models.utcnow() - datetime.timedelta(seconds=1)).execute()
    expired = client.get(path, headers={"Accept-Language": "en"})
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert post_form(client, path, {}, token_from="/login").status_code == 410
    assert UserSession.select().count() == 0


def test_password_reset_ends_every_session_and_tells_the_address(app, client, db):
    customer, account = factories.make_customer(email="reset@example.com")
    elsewhere = Client(app)
    login(elsewhere, "reset@example.com", factories.PASSWORD)
    assert elsewhere.get("/").status_code == 200
    _request(client, "/reset", "reset@example.com")
    path, _ = link_in_last_mail("reset@example.com")
    mismatch = post_form(client, path, {"new_password": "another-password-1",
                                        "confirm": "different-password-1"})
    assert mismatch.status_code == 200 and "is-invalid" in mismatch.get_data(as_text=True)
    done = post_form(client, path, {"new_password": "another-password-1",
                                    "confirm": "another-password-1"})
    assert done.headers["Location"] == "/"
    assert elsewhere.get("/").status_code == 302
    assert client.get("/").status_code == 200
    notice = EmailMessage.select().where(EmailMessage.to_addr == "reset@example.com",
                                         EmailMessage.kind == "notice").get()
    assert "密码已修改" in notice.subject
    assert accounts.authenticate_customer("reset@example.com", "another-password-1")
    assert accounts.authenticate_customer("reset@example.com", factories.PASSWORD) is None


def test_link_requests_are_rate_limited(client, db):
    codes = [_request(client, "/login/link", "flood@example.com").status_code
             for _ in range(11)]
    assert codes[:10] == [200] * 10 and codes[10] == 429


def test_invitation_arrives_through_smtp_and_its_link_works(settings, smtp_server, db):
    import wsgi
    settings["MAIL_URL"] = smtp_server.url
    app = wsgi.create_app(settings)
    staff_client, customer_client = Client(app), Client(app)
    staff = factories.make_staff(role="agent")
    login(staff_client, staff.email, factories.PASSWORD, "/staff")
    customer, _ = factories.make_customer(name="Zoë Müller", email="zoe@example.com",
                                          account=False, preferred_language="en")
    invite_from_card(staff_client, customer)
    _, recipients, message = smtp_server.sink.messages[-1]
    assert recipients == ["zoe@example.com"]
    assert message["Subject"] == "Your customer card at Customer Cards"
    assert message["To"].addresses[0].display_name == "Zoë Müller"
    path = LINK_RE.search(message.get_content()).group(1)
    token = csrf_from(customer_client, path)
    response = customer_client.post(path, data={"csrf_token": token,
                                                "new_password": "zoe-password-123",
                                                "confirm": "zoe-password-123"})
    assert response.headers["Location"] == "/"


def test_changing_the_password_in_the_portal_tells_the_address(client, customer_login):
    customer, account = customer_login()
    post_form(client, "/account/password", {"current_password": factories.PASSWORD,
                                            "new_password": "changed-password-1",
                                            "confirm": "changed-password-1"})
    assert EmailMessage.select().where(EmailMessage.to_addr == account.email,
                                       EmailMessage.kind == "notice").count() == 1
