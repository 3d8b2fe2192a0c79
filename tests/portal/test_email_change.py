"""Changing the sign-in email: effective only after the link sent to the new address is used;
the old address is told."""
import re

from werkzeug.test import Client

from models import ContactPoint, Customer, EmailMessage, PortalAccount
from services import accounts
from tests import factories
from tests.conftest import post_form


def ask(client, email, password=factories.PASSWORD, **kwargs):
    return post_form(client, "/email/change", {"email": email, "password": password}, **kwargs)


def confirm_path(to_addr):
    body = EmailMessage.select().where(EmailMessage.to_addr == to_addr).order_by(
        EmailMessage.id.desc()).get().body_text
    return re.search(r"https?://[^/\s]+(/email/confirm/\S+)", body).group(1)


def test_the_change_waits_for_the_new_address_then_tells_the_old(app, client, customer_login):
    customer, account = customer_login(name="王芳", email="old@example.com")
    page = ask(client, "New@Example.com").get_data(as_text=True)
    assert "new@example.com" in page
    assert PortalAccount.get_by_id(account.id).email == "old@example.com"  # not yet
    path = confirm_path("new@example.com")
    assert client.get(path).status_code == 200  # a scanner's GET changes nothing
    assert PortalAccount.get_by_id(account.id).email == "old@example.com"
    response = post_form(client, path, {})
    assert response.headers["Location"] == "/"
    assert PortalAccount.get_by_id(account.id).email == "new@example.com"
    assert Customer.get_by_id(customer.id).primary_email == "new@example.com"
    primary = ContactPoint.get(ContactPoint.customer == customer, ContactPoint.kind == "email",
                               ContactPoint.is_primary == True)  # noqa: E712
    assert primary.normalized == "new@example.com" and primary.verified_at is not None
    told = EmailMessage.select().where(EmailMessage.to_addr == "old@example.com",
                                       EmailMessage.kind == "notice").get()
    assert "new@example.com" in told.body_text
    assert accounts.authenticate_customer("new@example.com", factories.PASSWORD)
    assert Client(app).get(path).status_code == 410


def test_wrong_password_and_same_address_are_refused_at_the_field(client, customer_login):
    customer, account = customer_login(email="me@example.com")
    page = ask(client, "other@example.com", "wrong-password",
               headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "The current password is not correct." in page and 'value="other@example.com"' in page
    page = ask(client, "ME@example.com", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This is already your sign-in email." in page
    page = ask(client, "not an email", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "is-invalid" in page
    assert EmailMessage.select().where(EmailMessage.kind == "verify_email").count() == 0


def test_an_address_of_another_account_gets_the_same_answer_and_no_mail(client, customer_login):
    factories.make_customer(email="taken@example.com")
    customer_login(email="me2@example.com")
    taken = ask(client, "taken@example.com").get_data(as_text=True)
    assert "taken@example.com" in taken
    assert EmailMessage.select().where(EmailMessage.kind == "verify_email").count() == 0
