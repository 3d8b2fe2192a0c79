"""Reading customer cards: the portal's own-card overview and the back office's list and card."""
from peewee import JOIN

from models import (ContactPoint, Customer, CustomerTag, CustomField, CustomFieldValue,
                    Interaction, PortalAccount, Purchase, ServiceRecord, StaffUser, Tag, Task,
                    Tier)

RECENT = 50


def portal_overview(customer_id):
    """What a customer sees first about their own card."""
    customer = (Customer.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER)
                .where(Customer.id == customer_id, Customer.erased_at.is_null()).get())
    purchases = list(_live(Purchase, customer).order_by(Purchase.occurred_at.desc()).limit(5))
    return {
        "customer": customer,
        "contacts": list(customer.contacts.order_by(ContactPoint.is_primary.desc(),
                                                    ContactPoint.kind)),
        "recent_purchases": purchases,
        "purchase_count": _live(Purchase, customer).count(),
        "service_count": _live(ServiceRecord, customer).count(),
    }


def list_query():
    """Cards for the staff list, newest activity first (the page paginates it), and the query
    that counts them (no join, no order: it reads only the erased_at index)."""
    rows = (Customer.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER)
            .where(Customer.erased_at.is_null())
            .order_by(Customer.updated_at.desc(), Customer.id.desc()))
    return rows, Customer.select(Customer.id).where(Customer.erased_at.is_null())


def get_card(public_id):
    """A card by its public id, or None (erased cards are gone from the back office)."""
    return (Customer.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER)
            .where(Customer.public_id == public_id, Customer.erased_at.is_null()).first())


def card_detail(customer):
    """Everything the card page shows, in a fixed number of queries. Record rows come back as
    named tuples: the page only reads them, and building 200 model instances per card would
    cost more than the queries themselves."""
    tags = (Tag.select().join(CustomerTag).where(CustomerTag.customer == customer)
            .order_by(Tag.name))
    return {
        "customer": customer,
        "account": PortalAccount.get_or_none(PortalAccount.customer == customer),
        "contacts": list(customer.contacts.order_by(ContactPoint.is_primary.desc(),
                                                    ContactPoint.kind)),
        "tags": list(tags),
        "purchases": list(_live(Purchase, customer)
                          .order_by(Purchase.occurred_at.desc()).limit(RECENT).namedtuples()),
        "services": list(_with_staff(ServiceRecord, customer)
                         .order_by(ServiceRecord.occurred_at.desc()).limit(RECENT)
                         .namedtuples()),
        "interactions": list(_with_staff(Interaction, customer)
                             .order_by(Interaction.occurred_at.desc()).limit(RECENT)
                             .namedtuples()),
        "tasks": list(Task.select().where(Task.customer == customer, Task.done_at.is_null())
                      .order_by(Task.due_date).namedtuples()),
        # The card's preferences (not sensitive ones: they are stored encrypted), each row
        # with its field joined for the label, kind and choices.
        "preferences": list(CustomFieldValue.select(CustomFieldValue, CustomField)
                            .join(CustomField)
                            .where(CustomFieldValue.customer == customer,
                                   CustomField.section == "preference",
                                   CustomField.active == True,  # noqa: E712
                                   CustomField.sensitive == False)  # noqa: E712
                            .order_by(CustomField.position, CustomField.id).limit(RECENT)),
    }


def _live(model, customer):
    return model.select().where(model.customer == customer, model.deleted_at.is_null())




def _with_staff(model, customer):
    """Records with the name of the staff member who made them (``staff_name``), joined."""
    return (model.select(model, StaffUser.name.alias("staff_name"))
            .join(StaffUser, JOIN.LEFT_OUTER)
            .where(model.customer == customer, model.deleted_at.is_null()))
