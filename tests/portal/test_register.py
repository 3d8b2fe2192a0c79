"""Self-registration: off by default; when on, a prospect card opens after the emailed link."""
import re

from werkzeug.test import Client

import wsgi
from models import Customer, EmailMessage, PortalAccount
from services import accounts
from tests import factories
from tests.conftest import post_form


def test_registration_is_off_by_default(client, db):
    assert client.get("/register").status_code == 404
    assert "/register" not in client.get("/login").get_data(as_text=True)


def _client(settings):
    settings["SELF_REGISTRATION"] = True
    return Client(wsgi.create_app(settings))


def test_a_new_customer_opens_a_prospect_card(settings, db):
    client = _client(settings)
    assert 'href="/register"' in client.get("/login").get_data(as_text=True)
    page = post_form(client, "/register", {"name": "陈静", "email": "chen.jing@example.com",
                                           "new_password": "a-long-password-1",
                                           "confirm": "a-long-password-1"})
    assert "chen.jing@example.com" in page.get_data(as_text=True)
    card = Customer.get(Customer.primary_email == "chen.jing@example.com")
    assert card.status == "prospect" and card.source == "self_registration"
    assert accounts.authenticate_customer("chen.jing@example.com", "a-long-password-1") is None
    body = EmailMessage.get(EmailMessage.to_addr == "chen.jing@example.com").body_text
    path = re.search(r"https?://[^/\s]+(/register/confirm/\S+)", body).group(1)
    assert client.get(path).status_code == 200  # scanner-safe
    assert post_form(client, path, {}).headers["Location"] == "/"
    assert client.get("/").status_code == 200
    assert PortalAccount.get(PortalAccount.customer == card).email_verified_at is not None
    assert accounts.authenticate_customer("chen.jing@example.com", "a-long-password-1")


def test_an_address_in_use_gets_the_same_answer_and_its_owner_is_told(settings, db):
    factories.make_customer(email="taken@example.com")
    client = _client(settings)
    page = post_form(client, "/register", {"name": "Someone", "email": "taken@example.com",
                                           "new_password": "a-long-password-1",
                                           "confirm": "a-long-password-1"})
    assert page.status_code == 200 and "taken@example.com" in page.get_data(as_text=True)
    assert Customer.select().count() == 1
    notice = EmailMessage.get(EmailMessage.to_addr == "taken@example.com")
    assert notice.kind == "notice"


def test_bad_input_is_marked_and_kept(settings, db):
    client = _client(settings)
    page = post_form(client, "/register", {"name": "Zoë", "email": "not-an-email",
                                           "new_password": "short", "confirm": "short"},
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert page.count("is-invalid") >= 1 and 'value="Zoë"' in page
    assert Customer.select().count() == 0


def test_a_name_the_card_cannot_hold_is_marked_at_the_name(settings, db):
    """The card's own checks (one service with the back office) name the field they reject;
    the page shows the message there, not at the email."""
    client = _client(settings)
    page = post_form(client, "/register", {"name": "陈\x07静", "email": "chen.jing@example.com",
                                           "new_password": "a-long-password-1",
                                           "confirm": "a-long-password-1"},
                     headers={"Accept-Language": "en"}).get_data(as_text=True)
    name_input = re.search(r'<input[^>]*name="name"[^>]*>', page).group(0)
    email_input = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert "is-invalid" in name_input and "is-invalid" not in email_input
    assert 'value="chen.jing@example.com"' in page
    assert Customer.select().count() == 0 and PortalAccount.select().count() == 0
