"""Signed, purpose-bound, expiring links (invitation, sign-in, reset, survey, unsubscribe...).

The link carries only a random token id, signed with the app secret and a salt per purpose; its
purpose, customer, expiry and single use live in a LinkToken row. A link for one purpose never
opens another, carries no personal data, and acting on it is race-safe: the row is marked used by
one conditional UPDATE, so two clicks act once.
"""
import datetime

from itsdangerous import BadSignature, URLSafeSerializer

import models
from models import LinkToken
from services import N_, DomainError, runtime

# How long each kind of link stays valid.
LIFETIMES = {
    "invite": datetime.timedelta(days=7),
    "login": datetime.timedelta(minutes=15),
    "reset": datetime.timedelta(hours=1),
    "optin": datetime.timedelta(days=7),  # double opt-in for email marketing
    # In every marketing email; not single use, and honoured for years: an old email's
    # unsubscribe link must still work.
    "unsubscribe": datetime.timedelta(days=3650),
    "verify_email": datetime.timedelta(hours=24),
    "signup": datetime.timedelta(hours=24),
    "confirm_details": datetime.timedelta(days=14),
    # A survey invitation; services.surveys sets each link's expiry to its invitation's.
    "survey": datetime.timedelta(days=14),
}


class LinkError(DomainError):
    """The link is not valid, has expired, or was used already (``reason``)."""

    MESSAGES = {
        "invalid": N_("This link is not valid. Check that you copied all of it."),
        "expired": N_("This link has expired. Ask for a new one."),
        "used": N_("This link has already been used. Ask for a new one if you need it."),
    }

    def __init__(self, reason):
        super().__init__(self.MESSAGES[reason])
        self.reason = reason


def _serializer(purpose):
    return URLSafeSerializer(runtime.get("SECRET_KEY"), salt=f"cards-link-{purpose}")


def issue(purpose, customer, data=None, lifetime=None):
    """Create a link token for ``customer``; return the signed string for the URL."""
    expires = models.utcnow() + (lifetime or LIFETIMES[purpose])
    row = LinkToken.create(purpose=purpose, customer=customer, data=data, expires_at=expires)
    return _serializer(purpose).dumps(row.jti)


def sign(purpose, row):
    """The signed string of an existing LinkToken (the same link again, e.g. a reminder)."""
    return _serializer(purpose).dumps(row.jti)


def _load(purpose, token):
    try:
        jti = _serializer(purpose).loads(token or "")
    except BadSignature as exc:
        raise LinkError("invalid") from exc
    row = LinkToken.get_or_none(LinkToken.jti == jti, LinkToken.purpose == purpose)
    if row is None:
        raise LinkError("invalid")
    return row


def peek(purpose, token):
    """The valid, unused LinkToken behind ``token``, without using it (GET pages, scanners)."""
    row = _load(purpose, token)
    if row.used_at is not None:
        raise LinkError("used")
    if row.expires_at <= models.utcnow():
        raise LinkError("expired")
    return row


def consume(purpose, token):
    """Use the link once: the LinkToken row, or LinkError. Call inside the acting transaction."""
    row = peek(purpose, token)
    now = models.utcnow()
    used = (LinkToken.update(used_at=now)
            .where(LinkToken.id == row.id, LinkToken.used_at.is_null(),
                   LinkToken.expires_at > now).execute())
    if used != 1:  # another request used it between our read and our write
        raise LinkError("used")
    row.used_at = now
    return row


def retire(purpose, customer):
    """Void a customer's unused links of one purpose (a newer one replaces them)."""
    (LinkToken.update(used_at=models.utcnow())
     .where(LinkToken.purpose == purpose, LinkToken.customer == customer,
            LinkToken.used_at.is_null()).execute())


def portal_url(path):
    """An absolute portal URL for emailed links (PORTAL_URL + path)."""
    return runtime.get("PORTAL_URL").rstrip("/") + path
