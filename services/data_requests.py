"""Customers' data requests: download my data (at once) and erase my data (confirmed by an
emailed link, then carried out by staff by the deadline), and the back office's queue of them.

Every request is a DataRequest row with an audit event. Download links ("download", one hour)
and erasure confirmation links ("erasure", 7 days) are signed, single-use links bound to the
customer; a link only acts for the customer signed in with it.
"""
import datetime

from peewee import JOIN, Case

import models
from models import Customer, DataRequest, PortalAccount
from services import N_, DomainError, audit, data_export, links, mail, runtime

DOWNLOAD_LIFETIME = datetime.timedelta(hours=1)
ERASURE_LINK_LIFETIME = datetime.timedelta(days=7)
ERASURE_DEADLINE = datetime.timedelta(days=30)
OPEN = ("requested", "confirmed", "in_progress")
STATUS_LABELS = {"requested": N_("Requested"), "confirmed": N_("Confirmed"),
                 "in_progress": N_("In progress"), "done": N_("Done"),
                 "rejected": N_("Rejected"), "cancelled": N_("Cancelled")}
KIND_LABELS = {"export": N_("Download"), "erasure": N_("Erasure")}


def _for(purpose, token, customer_id):
    """The link behind ``token`` if it belongs to ``customer_id``; else the same "invalid"."""
    row = links.peek(purpose, token)
    if row.customer_id != customer_id:
        raise links.LinkError("invalid")
    return row


# --- download my data ---------------------------------------------------------------------------

def prepare_download(customer, actor):
    """Record an export request and return the token of its one-hour, single-use link."""
    with models.atomic():
        now = models.utcnow()
        request = DataRequest.create(customer=customer, kind="export", status="done",
                                     requested_at=now, due_at=now, completed_at=now)
        links.retire("download", customer)  # only the newest download link works
        token = links.issue("download", customer, data={"request": request.public_id},
                            lifetime=DOWNLOAD_LIFETIME)
        audit.record(actor, "data.export_prepared", "data_request", request.public_id,
                     customer_id=customer.id, after={"kind": "export"})
    return token


def check_download(token, customer_id):
    """The valid download link for this customer, without using it (GET pages)."""
    return _for("download", token, customer_id)


def download(token, customer, actor, lang):
    """Use the link once and return (filename, ZIP bytes); audited. A failure uses nothing."""
    with models.atomic():
        _for("download", token, customer.id)
        row = links.consume("download", token)
        filename, body, names = data_export.build_zip(
            customer, lang, business=runtime.get("BUSINESS_NAME"))
        audit.record(actor, "data.export", "data_request", (row.data or {}).get("request"),
                     customer_id=customer.id,
                     after={"files": names, "bytes": len(body), "filename": filename})
    return filename, body


# --- erase my data ------------------------------------------------------------------------------

def open_erasure(customer_id):
    """The customer's open erasure request, or None."""
    return (DataRequest.select()
            .where(DataRequest.customer == customer_id, DataRequest.kind == "erasure",
                   DataRequest.status.in_(OPEN))
            .order_by(DataRequest.id.desc()).first())


def request_erasure(customer, actor):
    """Email a confirmation link to the sign-in address; return (None, email), or
    (the open request, None) when one is already open (nothing is sent then)."""
    with models.atomic():
        existing = open_erasure(customer.id)
        if existing is not None:
            return existing, None
        address = (PortalAccount.select(PortalAccount.email)
                   .where(PortalAccount.customer == customer).scalar()) or customer.primary_email
        if not address:
            raise DomainError(N_("Your card has no email address. Add one first."))
        links.retire("erasure", customer)  # only the newest link confirms
        token = links.issue("erasure", customer, data={"email": address},
                            lifetime=ERASURE_LINK_LIFETIME)
        mail.send_template("erasure_confirm", "erasure_confirm.txt", customer, address,
                           url=links.portal_url(f"/my-data/erase/{token}"),
                           days=ERASURE_DEADLINE.days)
        audit.record(actor, "data.erasure_link_sent", "customer", customer.public_id,
                     customer_id=customer.id, after={"email": address})
    return None, address


def check_erasure(token, customer_id):
    """The valid erasure link for this customer, without using it (GET pages)."""
    return _for("erasure", token, customer_id)


def confirm_erasure(token, customer, actor):
    """Use the link once: the confirmed DataRequest, due in 30 days (or the open one)."""
    with models.atomic():
        _for("erasure", token, customer.id)
        links.consume("erasure", token)
        existing = open_erasure(customer.id)
        if existing is not None:
            return existing
        now = models.utcnow()
        request = DataRequest.create(customer=customer, kind="erasure", status="confirmed",
                                     requested_at=now, confirmed_at=now,
                                     due_at=now + ERASURE_DEADLINE)
        audit.record(actor, "data.erasure_confirmed", "data_request", request.public_id,
                     customer_id=customer.id,
                     after={"kind": "erasure", "status": "confirmed",
                            "due_at": request.due_at.isoformat()})
    return request


# --- the back office's queue --------------------------------------------------------------------

def queue():
    """(rows, count query): open requests first, then by due date; with the customer joined."""
    closed = Case(None, [(DataRequest.status.in_(OPEN), 0)], 1)
    rows = (DataRequest.select(DataRequest, Customer.name, Customer.public_id)
            .join(Customer, JOIN.LEFT_OUTER)
            .order_by(closed, DataRequest.due_at, DataRequest.id))
    return rows, DataRequest.select(DataRequest.id)


def is_overdue(request, now=None):
    return request.status in OPEN and request.due_at < (now or models.utcnow())
