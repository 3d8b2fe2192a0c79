"""How customers get into the portal: invitation and claim, one-time sign-in links, password
reset. Requests for a link answer the same whether or not the address is known."""
from werkzeug.security import generate_password_hash

import models
from models import ContactPoint, PortalAccount
from services import N_, DomainError, accounts, audit, customers, links, mail, sessions
from services.actors import Actor
from services.contacts import normalize_email


def _primary_email(customer):
    contact = (ContactPoint.select().where(ContactPoint.customer == customer,
                                           ContactPoint.kind == "email")
               .order_by(ContactPoint.is_primary.desc()).first())
    if contact is None:
        raise DomainError(N_("This card has no email address to send the invitation to."))
    return contact.normalized


def invite(customer, actor):
    """Email a customer a link to set their portal password (again, if not claimed yet)."""
    with models.atomic():
        account = PortalAccount.get_or_none(PortalAccount.customer == customer)
        if account is not None and account.password_hash:
            raise DomainError(N_("This customer already uses the portal."))
        if account is None:
            account = accounts.create_portal_account(customer, _primary_email(customer))
        links.retire("invite", customer)
        token = links.issue("invite", customer)
        mail.send_template("invite", "invite.txt", customer, account.email,
                           url=links.portal_url(f"/claim/{token}"))
        audit.record(actor, "portal.invite", "portal_account", account.id,
                     customer_id=customer.id, after={"email": account.email})
    return account


def claim(token, password, ip=None, user_agent=None):
    """Set the password from an invitation link; the email is verified by the click."""
    accounts.check_password_strength(password)
    with models.atomic():
        row = links.consume("invite", token)
        account = PortalAccount.get(PortalAccount.customer == row.customer_id)
        now = models.utcnow()
        account.password_hash = generate_password_hash(password)
        account.password_changed_at = now
        account.email_verified_at = account.email_verified_at or now
        account.save()
        audit.record(Actor("link", row.customer_id, "invite link", ip, user_agent),
                     "portal.claim", "portal_account", account.id, customer_id=row.customer_id)
    return account


def link_account(purpose, token):
    """The portal account a link is for, without using the link (GET pages); else LinkError."""
    row = links.peek(purpose, token)
    return PortalAccount.get(PortalAccount.customer == row.customer_id)


def _active_account(email):
    try:
        email = normalize_email(email)
    except DomainError:
        return None
    return PortalAccount.get_or_none(PortalAccount.email == email, PortalAccount.is_active == True)  # noqa: E712,E501


def request_login_link(email):
    """Email a one-time sign-in link if the address has an active account; silent otherwise."""
    with models.atomic():
        account = _active_account(email)
        if account is None or not account.password_hash:
            return
        token = links.issue("login", account.customer)
        mail.send_template("login_link", "login_link.txt", account.customer, account.email,
                           url=links.portal_url(f"/login/link/{token}"))


def use_login_link(token, ip=None, user_agent=None):
    """Use a sign-in link once; return the account to sign in."""
    with models.atomic():
        row = links.consume("login", token)
        account = PortalAccount.get(PortalAccount.customer == row.customer_id)
        if not account.is_active:
            raise links.LinkError("invalid")
        account.email_verified_at = account.email_verified_at or models.utcnow()
        account.save()
        audit.record(Actor("link", row.customer_id, "sign-in link", ip, user_agent),
                     "portal.login_link", "portal_account", account.id,
                     customer_id=row.customer_id)
    return account


def request_password_reset(email):
    """Email a reset link if the address has an active account; silent otherwise."""
    with models.atomic():
        account = _active_account(email)
        if account is None:
            return
        links.retire("reset", account.customer)
        token = links.issue("reset", account.customer)
        mail.send_template("password_reset", "password_reset.txt", account.customer,
                           account.email, url=links.portal_url(f"/reset/{token}"))


def reset_password(token, password, ip=None, user_agent=None):
    """Set a new password from a reset link: every session ends, the address is told."""
    accounts.check_password_strength(password)
    with models.atomic():
        row = links.consume("reset", token)
        account = PortalAccount.get(PortalAccount.customer == row.customer_id)
        account.password_hash = generate_password_hash(password)
        account.password_changed_at = models.utcnow()
        account.save()
        sessions.end_all(account)
        audit.record(Actor("link", row.customer_id, "reset link", ip, user_agent),
                     "password.reset", "portal_account", account.id,
                     customer_id=row.customer_id)
        accounts.notify_password_changed(account)
    return account


def register(name, email, password, language="zh", ip=None, user_agent=None):
    """Self-registration: a prospect card and an account that opens when the emailed link is
    confirmed. For an address already in use, the owner is told instead (same answer)."""
    email = normalize_email(email)
    accounts.check_password_strength(password)
    actor = Actor("customer", None, email, ip, user_agent)
    with models.atomic():
        existing = PortalAccount.get_or_none(PortalAccount.email == email)
        if existing is not None:
            mail.send_template("notice", "signup_exists.txt", existing.customer, email,
                               url=links.portal_url("/reset"))
            return
        card = customers.create_customer(actor, name=name, email=email, status="prospect",
                                         source="self_registration",
                                         preferred_language=language)
        account = accounts.create_portal_account(card, email, password)
        PortalAccount.update(is_active=False).where(PortalAccount.id == account.id).execute()
        token = links.issue("signup", card)
        mail.send_template("signup", "signup.txt", card, email,
                           url=links.portal_url(f"/register/confirm/{token}"))


def confirm_registration(token, ip=None, user_agent=None):
    """Open the self-registered account: the email is proven by the link."""
    with models.atomic():
        row = links.consume("signup", token)
        account = PortalAccount.get(PortalAccount.customer == row.customer_id)
        PortalAccount.update(is_active=True, email_verified_at=models.utcnow()).where(
            PortalAccount.id == account.id).execute()
        audit.record(Actor("link", row.customer_id, "sign-up link", ip, user_agent),
                     "portal.signup", "portal_account", account.id,
                     customer_id=row.customer_id)
    return PortalAccount.get_by_id(account.id)
