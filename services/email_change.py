"""Changing the sign-in email: a link to the new address confirms it; only then does the change
take effect, and the old address is told. The sign-in email changes no other way."""
from peewee import IntegrityError
from werkzeug.security import check_password_hash

import models
from models import ContactPoint, Customer, PortalAccount
from services import N_, DomainError, audit, links, mail
from services.actors import Actor
from services.contacts import normalize_email


def request_change(account, new_email, password, actor):
    """Email a confirmation link to ``new_email``. Returns the normalised address.

    If another account already uses the address, nothing is sent, but the answer is the same:
    the customer learns nothing about other customers' addresses.
    """
    if not account.password_hash or not check_password_hash(account.password_hash,
                                                            password or ""):
        raise DomainError(N_("The current password is not correct."), "password")
    email = normalize_email(new_email)
    if email == account.email:
        raise DomainError(N_("This is already your sign-in email."), "email")
    with models.atomic():
        if PortalAccount.select().where(PortalAccount.email == email).exists():
            return email
        links.retire("verify_email", account.customer)
        token = links.issue("verify_email", account.customer, data={"email": email})
        mail.send_template("verify_email", "verify_email.txt", account.customer, email,
                           url=links.portal_url(f"/email/confirm/{token}"), email=email)
        audit.record(actor, "email_change.request", "portal_account", account.id,
                     customer_id=account.customer_id, after={"requested": email})
    return email


def pending_address(token):
    """The new address a confirmation link is for (LinkError if it cannot be used)."""
    return links.peek("verify_email", token).data["email"]


def confirm(token, ip=None, user_agent=None):
    """Make the change: sign-in email, the card's primary email; tell the old address."""
    try:
        with models.atomic():
            row = links.consume("verify_email", token)
            account = PortalAccount.get(PortalAccount.customer == row.customer_id)
            old, new = account.email, row.data["email"]
            PortalAccount.update(email=new, email_verified_at=models.utcnow()).where(
                PortalAccount.id == account.id).execute()
            _replace_primary_email(account.customer, new)
            audit.record(Actor("link", row.customer_id, "email confirmation link", ip,
                               user_agent), "email_change.confirm", "portal_account",
                         account.id, customer_id=row.customer_id, before={"email": old},
                         after={"email": new})
            mail.send_template("notice", "email_changed.txt", account.customer, old,
                               old_email=old, new_email=new,
                               url=links.portal_url("/reset"))
    except IntegrityError as exc:  # the address was taken while the link waited
        raise DomainError(N_("This email address is already used by another account.")) \
            from exc
    return new


def _replace_primary_email(customer, email):
    ContactPoint.update(is_primary=False).where(ContactPoint.customer == customer,
                                                ContactPoint.kind == "email").execute()
    existing = ContactPoint.get_or_none(ContactPoint.customer == customer,
                                        ContactPoint.kind == "email",
                                        ContactPoint.normalized == email)
    if existing:
        existing.is_primary, existing.verified_at = True, models.utcnow()
        existing.save()
    else:
        ContactPoint.create(customer=customer, kind="email", value=email, normalized=email,
                            is_primary=True, verified_at=models.utcnow())
    Customer.update(primary_email=email, updated_at=models.utcnow(),
                    version=Customer.version + 1).where(Customer.id == customer.id).execute()
