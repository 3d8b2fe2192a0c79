"""The review queue: customers' changes to fields under the *review* policy, decided by staff
(accept, edit then accept, or reject with a reason); the customer is told either way."""
import datetime

from peewee import JOIN

import models
from models import ChangeRequest, Customer, PortalAccount, Tier
from services import N_, DomainError, audit, links, mail, preferences, profile
from services.preferences import PENDING_PREFIX


def pending_query():
    """Pending change requests with their cards, oldest first (the page paginates it)."""
    return (ChangeRequest.select(ChangeRequest, Customer, Tier).join(Customer)
            .join(Tier, JOIN.LEFT_OUTER)
            .where(ChangeRequest.status == "pending").order_by(ChangeRequest.created_at))


def get(public_id):
    return (ChangeRequest.select(ChangeRequest, Customer).join(Customer)
            .where(ChangeRequest.public_id == public_id).first())


def _pending_for_update(request):
    fresh = ChangeRequest.get_by_id(request.id)
    if fresh.status != "pending":
        raise DomainError(N_("This change request was already decided."))
    return fresh


def _card_values(changes):
    values = {f: v for f, v in changes.items() if not f.startswith(PENDING_PREFIX)}
    if isinstance(values.get("birthday"), str):  # stored as the solar date, ISO
        values["birthday"] = datetime.date.fromisoformat(values["birthday"])
    return values


def accept(request, actor, edits=None):
    """Apply the requested values, or the staff member's ``edits`` of card fields (validated by
    the same rules as the portal); tell the customer."""
    with models.atomic():
        request = _pending_for_update(request)
        customer = Customer.get_by_id(request.customer_id)
        final = {f: change["new"] for f, change in request.changes.items()}
        edits = {f: v for f, v in (edits or {}).items() if f in final and f != "birthday"
                 and not f.startswith(PENDING_PREFIX)}
        if edits:
            final.update(profile.clean({**profile.current_values(customer), **edits},
                                       list(edits)))
        profile.apply_changes(customer, _card_values(final))
        preferences.save_values(customer, {f[len(PENDING_PREFIX):]: v for f, v in final.items()
                                           if f.startswith(PENDING_PREFIX)})
        decided = {f: {"old": c["old"], "new": audit.jsonable(final[f])}
                   for f, c in request.changes.items()}
        _decide(request, "accepted", actor, changes=decided)
        audit.record(actor, "change_request.accept", "change_request", request.public_id,
                     customer_id=customer.id, before={f: c["old"] for f, c in decided.items()},
                     after={f: c["new"] for f, c in decided.items()})
        _tell_customer(customer, "change_accepted.txt")


def reject(request, actor, reason):
    """Keep the card as it is; the reason goes to the customer."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(N_("Tell the customer why."), "reason")
    if len(reason) > 1000:
        raise DomainError(N_("This is too long (%(max)d characters at most)."), "reason",
                          max=1000)
    with models.atomic():
        request = _pending_for_update(request)
        _decide(request, "rejected", actor, reason=reason)
        audit.record(actor, "change_request.reject", "change_request", request.public_id,
                     customer_id=request.customer_id, after={"reason": reason})
        _tell_customer(Customer.get_by_id(request.customer_id), "change_rejected.txt",
                       reason=reason)


def _decide(request, status, actor, **fields):
    ChangeRequest.update(status=status, decided_by=actor.id, decided_at=models.utcnow(),
                         **fields).where(ChangeRequest.id == request.id).execute()


def _tell_customer(customer, template, **context):
    account = PortalAccount.get_or_none(PortalAccount.customer == customer)
    address = account.email if account else customer.primary_email
    if address:
        mail.send_template("notice", template, customer, address,
                           url=links.portal_url("/details/"), **context)


def preference_fields(requests):
    """{key: CustomField} of the preferences the requests touch, for their labels."""
    keys = {f[len(PENDING_PREFIX):] for r in requests for f in r.changes
            if f.startswith(PENDING_PREFIX)}
    return preferences.fields_by_key(keys)
