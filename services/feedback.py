"""Customer feedback: submitted in the portal (one row per form, however often it is posted),
answered by staff, and the answer emailed to the customer."""
import datetime

from babel import dates
from peewee import JOIN, IntegrityError

import models
from models import ContactPoint, Feedback, PortalAccount, Purchase, ServiceRecord
from services import N_, DomainError, audit, links, mail, runtime
from services.text import clean_text

CATEGORIES = ("product", "service", "delivery", "staff", "suggestion", "other")
STATUSES = ("new", "in_progress", "replied", "resolved", "closed")
MESSAGE_MAX = 2000
REPLY_MAX = 4000
KEY_MAX = 64  # the idempotency_key column
QUOTE_CHARS = 200  # how much of the customer's message the reply email quotes


def clean_category(category):
    """The category if it is one of ours; else a DomainError at the field."""
    if category not in CATEGORIES:
        raise DomainError(N_("Choose a topic."), "category")
    return category


def clean_rating(rating):
    """None (no rating) or a whole number from 1 to 5."""
    if rating is None:
        return None
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise DomainError(N_("Choose a rating from 1 to 5, or none."), "rating")
    return rating


def clean_message(message, field="message", limit=MESSAGE_MAX):
    """The stripped text: required, at most ``limit`` characters, no NUL bytes."""
    return clean_text(message, field, limit, multiline=True, required=N_("Write your message."))


def _own(model, customer, public_id):
    """The customer's own live record with ``public_id``; someone else's is "not found" too."""
    if not public_id:
        return None
    public_id = str(public_id)
    # A NUL byte would make PostgreSQL refuse the query itself; such an id cannot exist anyway.
    row = None if "\x00" in public_id else model.get_or_none(
        model.public_id == public_id, model.customer == customer, model.deleted_at.is_null())
    if row is None:
        raise DomainError(N_("We could not find that purchase or service visit."), "about")
    return row


def _clean_key(idempotency_key):
    key = (idempotency_key or "").strip() or None
    # Never truncate (two keys would become one); NUL would make PostgreSQL refuse the query.
    if key is not None and (len(key) > KEY_MAX or "\x00" in key):
        raise DomainError(N_("This form has expired. Please send it again."))
    return key


def _existing(customer, idempotency_key):
    """The row an earlier post of the same form created, if it was this customer's."""
    if not idempotency_key:
        return None
    row = Feedback.get_or_none(Feedback.idempotency_key == idempotency_key)
    if row is not None and row.customer_id != customer.id:
        raise DomainError(N_("This form has expired. Please send it again."))
    return row


def submit_feedback(customer, actor, category, rating, message, purchase_public_id=None,
                    service_public_id=None, idempotency_key=None):
    """Record a customer's feedback; posting the same form twice (same key) gives one row."""
    category, rating = clean_category(category), clean_rating(rating)
    message = clean_message(message)
    key = _clean_key(idempotency_key)
    purchase = _own(Purchase, customer, purchase_public_id)
    service = _own(ServiceRecord, customer, service_public_id)
    earlier = _existing(customer, key)
    if earlier is not None:
        return earlier
    try:
        with models.atomic():
            row = Feedback.create(customer=customer, category=category, rating=rating,
                                  message=message, purchase=purchase, service_record=service,
                                  idempotency_key=key)
            audit.record(actor, "feedback.create", "feedback", row.public_id,
                         customer_id=customer.id,
                         after={"category": category, "rating": rating,
                                "purchase": purchase and purchase.public_id,
                                "service_record": service and service.public_id})
    except IntegrityError:
        # A concurrent post of the same form committed first: that row is the answer.
        earlier = _existing(customer, key)
        if earlier is None:
            raise
        return earlier
    return row


def reply_to_feedback(feedback, staff_actor, text, status="resolved"):
    """Answer a customer's feedback (staff); the reply is shown in the portal and emailed."""
    text = clean_message(text, "reply", REPLY_MAX)
    if status not in STATUSES:
        raise DomainError(N_("Choose a status."), "status")
    with models.atomic():
        before = {"status": feedback.status, "reply": feedback.reply}
        feedback.reply, feedback.status = text, status
        feedback.replied_at = models.utcnow()
        feedback.replied_by = staff_actor.id
        feedback.save()
        audit.record(staff_actor, "feedback.reply", "feedback", feedback.public_id,
                     customer_id=feedback.customer_id, before=before,
                     after={"status": status, "reply": text})
        _email_reply(feedback)
    return feedback


def _email_reply(feedback):
    customer = feedback.customer
    to_addr = _customer_email(customer)
    if to_addr is None:  # no address: the reply still shows in the portal
        return None
    lang = customer.preferred_language if customer.preferred_language in ("zh", "en") else "zh"
    quote = feedback.message if len(feedback.message) <= QUOTE_CHARS else (
        feedback.message[:QUOTE_CHARS].rstrip() + "…")
    local = feedback.created_at.replace(tzinfo=datetime.timezone.utc).astimezone(
        dates.get_timezone(runtime.get("BABEL_DEFAULT_TIMEZONE")))
    sent_on = dates.format_date(local.date(), "long", locale=lang)
    return mail.send_template("feedback_reply", "feedback_reply.txt", customer, to_addr,
                              quote=quote, reply=feedback.reply, sent_on=sent_on,
                              url=links.portal_url("/feedback/"))


def _customer_email(customer):
    """Where the customer reads mail: the portal sign-in, else the card's primary email."""
    account = PortalAccount.get_or_none(PortalAccount.customer == customer)
    if account is not None:
        return account.email
    contact = (ContactPoint.select().where(ContactPoint.customer == customer,
                                           ContactPoint.kind == "email")
               .order_by(ContactPoint.is_primary.desc()).first())
    return contact.normalized if contact else None


def customer_feedback(customer):
    """A customer's feedback, newest first, with the purchase or visit it is about (joined)."""
    return (Feedback.select(Feedback, Purchase, ServiceRecord)
            .join_from(Feedback, Purchase, JOIN.LEFT_OUTER)
            .join_from(Feedback, ServiceRecord, JOIN.LEFT_OUTER)
            .where(Feedback.customer == customer)
            .order_by(Feedback.created_at.desc(), Feedback.id.desc()))


def recent_records(customer, limit=20):
    """The customer's latest purchases and service visits, for the "about" choice."""
    purchases = (Purchase.select(Purchase.public_id, Purchase.product, Purchase.occurred_at)
                 .where(Purchase.customer == customer, Purchase.deleted_at.is_null())
                 .order_by(Purchase.occurred_at.desc()).limit(limit).namedtuples())
    services = (ServiceRecord.select(ServiceRecord.public_id, ServiceRecord.service_type,
                                     ServiceRecord.occurred_at)
                .where(ServiceRecord.customer == customer, ServiceRecord.deleted_at.is_null())
                .order_by(ServiceRecord.occurred_at.desc()).limit(limit).namedtuples())
    return list(purchases), list(services)


# --- the staff inbox ---------------------------------------------------------------------------

def inbox_query(status=None, assignee=None):
    """The back office's feedback inbox, newest first: (query, count_query). ``status`` keeps
    one status; ``assignee`` (a StaffUser) keeps what is assigned to them."""
    customer, staff = models.Customer, models.StaffUser
    conditions = []
    if status is not None:
        conditions.append(Feedback.status == status)
    if assignee is not None:
        conditions.append(Feedback.assignee == assignee)
    rows = (Feedback.select(Feedback, customer, staff)
            .join_from(Feedback, customer)
            .join_from(Feedback, staff, JOIN.LEFT_OUTER, on=(Feedback.assignee == staff.id))
            .order_by(Feedback.created_at.desc(), Feedback.id.desc()))
    count = Feedback.select()
    if conditions:
        rows, count = rows.where(*conditions), count.where(*conditions)
    return rows, count


def assign(feedback, staff, actor):
    """Give the feedback to an active staff member (None: to nobody); audited."""
    if staff is not None and not staff.is_active:
        raise DomainError(N_("Choose an active staff member."), "assignee")
    with models.atomic():
        before = feedback.assignee.public_id if feedback.assignee_id else None
        feedback.assignee = staff
        feedback.save(only=[Feedback.assignee])
        audit.record(actor, "feedback.assign", "feedback", feedback.public_id,
                     customer_id=feedback.customer_id, before={"assignee": before},
                     after={"assignee": staff.public_id if staff is not None else None})
    return feedback


def set_status(feedback, status, actor):
    """Move the feedback to ``status`` (one of STATUSES); audited."""
    if status not in STATUSES:
        raise DomainError(N_("Choose a status."), "status")
    with models.atomic():
        before = feedback.status
        feedback.status = status
        feedback.save(only=[Feedback.status])
        audit.record(actor, "feedback.status", "feedback", feedback.public_id,
                     customer_id=feedback.customer_id, before={"status": before},
                     after={"status": status})
    return feedback
