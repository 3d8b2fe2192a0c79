"""Reading customer cards: the portal's own-card overview and the back office's card (the list
is services.card_list)."""
from peewee import JOIN, fn

from models import (
    ContactPoint,
    Customer,
    CustomerTag,
    CustomField,
    CustomFieldValue,
    Interaction,
    PortalAccount,
    Purchase,
    ServiceRecord,
    StaffUser,
    Tag,
    Task,
    Tier,
    TierChange,
)
from services import custom_fields
from services.prepared import Prepared

RECENT = 50
TIER_CHANGES = 10  # as services.tiers.card_history


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


def _card_query(public_id):
    # Owner and portal sign-in as scalar subqueries, not joins: a joined StaffUser would replace
    # ``customer.owner`` (and its id) with a partial row.
    owner_name = StaffUser.select(StaffUser.name).where(StaffUser.id == Customer.owner)
    owner_public_id = StaffUser.select(StaffUser.public_id).where(
        StaffUser.id == Customer.owner)
    account = PortalAccount.select(PortalAccount.email).where(
        PortalAccount.customer == Customer.id)
    claimed = PortalAccount.select(PortalAccount.id).where(
        PortalAccount.customer == Customer.id, PortalAccount.password_hash.is_null(False))
    return (Customer.select(Customer, Tier, owner_name.alias("owner_name"),
                            owner_public_id.alias("owner_public_id"),
                            account.alias("account_email"),
                            fn.EXISTS(claimed).alias("account_claimed"))
            .join(Tier, JOIN.LEFT_OUTER)
            .where(Customer.public_id == public_id, Customer.erased_at.is_null()).limit(1))


CARD = Prepared(_card_query, Prepared.TEXT)
TIERS = Prepared(lambda: Tier.select(Tier.code, Tier.name_zh, Tier.name_en)
                 .order_by(Tier.rank.desc(), Tier.id))


def get_card(public_id):
    """A card by its public id with its tier, its owner (``owner_name``, ``owner_public_id``)
    and its portal sign-in (``account_email``, ``account_claimed``), or None (erased cards are
    gone from the back office)."""
    return CARD.first(public_id)


def tier_choices():
    """(code, name_zh, name_en) of every tier, highest rank first (as ``tiers.ranked``)."""
    return TIERS.rows()


def _records(model, *columns, with_staff=True):
    """The card's latest live records of ``model``: only the ``columns`` the page shows."""
    def build(customer_id):
        fields = [model.public_id, model.occurred_at, *columns]
        query = (model.select(*fields, StaffUser.name.alias("staff_name"))
                 .join(StaffUser, JOIN.LEFT_OUTER) if with_staff else model.select(*fields))
        return (query.where(model.customer == customer_id, model.deleted_at.is_null())
                .order_by(model.occurred_at.desc(), model.id.desc()).limit(RECENT))
    return Prepared(build, Prepared.ID)


PURCHASES = _records(Purchase, Purchase.product, Purchase.quantity, Purchase.unit_price,
                     Purchase.amount, Purchase.currency, Purchase.payment_method,
                     Purchase.order_status, Purchase.channel, with_staff=False)
SERVICES = _records(ServiceRecord, ServiceRecord.service_type, ServiceRecord.description,
                    ServiceRecord.result, ServiceRecord.satisfaction)
INTERACTIONS = _records(Interaction, Interaction.channel, Interaction.direction,
                        Interaction.subject, Interaction.request, Interaction.resolution,
                        Interaction.outcome, Interaction.next_follow_up,
                        Interaction.visible_to_customer)
CONTACTS = Prepared(lambda customer_id: ContactPoint.select(
    ContactPoint.kind, ContactPoint.value, ContactPoint.normalized, ContactPoint.is_primary)
    .where(ContactPoint.customer == customer_id)
    .order_by(ContactPoint.is_primary.desc(), ContactPoint.kind, ContactPoint.id), Prepared.ID)
TAGS = Prepared(lambda customer_id: Tag.select(Tag.name, Tag.colour).join(CustomerTag)
                .where(CustomerTag.customer == customer_id).order_by(Tag.name), Prepared.ID)
TASKS = Prepared(lambda customer_id: Task.select(
    Task.public_id, Task.title, Task.due_date, StaffUser.name.alias("assignee_name"))
    .join(StaffUser, JOIN.LEFT_OUTER, on=(Task.assignee == StaffUser.id))
    .where(Task.customer == customer_id, Task.done_at.is_null())
    .order_by(Task.due_date, Task.id).limit(RECENT), Prepared.ID)
# The card's preferences (not sensitive ones: they are stored encrypted), each with its
# field's label, kind and choices.
PREFERENCES = Prepared(lambda customer_id: CustomFieldValue.select(
    CustomFieldValue.value, CustomField.key, CustomField.label_zh, CustomField.label_en,
    CustomField.kind, CustomField.choices).join(CustomField)
    .where(CustomFieldValue.customer == customer_id, CustomField.section == "preference",
           CustomField.active == True, CustomField.sensitive == False)
    .order_by(CustomField.position, CustomField.id).limit(RECENT), Prepared.ID)
ACTIVE_STAFF = Prepared(lambda: StaffUser.select(StaffUser.public_id, StaffUser.name)
                        .where(StaffUser.is_active == True).order_by(StaffUser.name))
# The card's tier changes, newest first, with both tiers and who changed it: the query of
# services.tiers.card_history (tests check they agree), prepared.
_FROM_TIER, _TO_TIER = Tier.alias("from_tier"), Tier.alias("to_tier")
TIER_HISTORY = Prepared(lambda customer_id: TierChange.select(
    TierChange, _FROM_TIER, _TO_TIER, StaffUser)
    .join_from(TierChange, _FROM_TIER, JOIN.LEFT_OUTER,
               on=(TierChange.from_tier == _FROM_TIER.id), attr="from_tier")
    .join_from(TierChange, _TO_TIER, JOIN.LEFT_OUTER,
               on=(TierChange.to_tier == _TO_TIER.id), attr="to_tier")
    .join_from(TierChange, StaffUser, JOIN.LEFT_OUTER,
               on=(TierChange.changed_by == StaffUser.id), attr="changed_by")
    .where(TierChange.customer == customer_id)
    .order_by(TierChange.created_at.desc(), TierChange.id.desc()).limit(TIER_CHANGES),
    Prepared.ID)


def active_staff():
    """(public_id, name) of every active member of staff, by name: the assignee lists."""
    return ACTIVE_STAFF.rows()


def record_rows(kind, customer):
    """The card's latest records of one kind (``purchase``, ``service``, ``interaction``)."""
    return {"purchase": PURCHASES, "service": SERVICES,
            "interaction": INTERACTIONS}[kind].rows(customer.id)


def card_detail(customer, role):
    """Everything the card page shows, in a fixed number of queries, rows as named tuples.
    ``timeline`` merges the latest records of the three kinds, newest first, as (kind, row);
    ``counts`` says how many of each it holds."""
    records = {kind: record_rows(kind, customer)
               for kind in ("purchase", "service", "interaction")}
    timeline = sorted(((kind, row) for kind, rows in records.items() for row in rows),
                      key=lambda item: item[1].occurred_at, reverse=True)
    return {
        "customer": customer,
        "contacts": CONTACTS.rows(customer.id),
        "tags": TAGS.rows(customer.id),
        "timeline": timeline,
        "counts": {kind: len(rows) for kind, rows in records.items()},
        "tasks": TASKS.rows(customer.id),
        "preferences": PREFERENCES.rows(customer.id),
        "custom_fields": custom_fields.card_values(customer, role),
        "tier_history": TIER_HISTORY.objects(customer.id),
    }


def _live(model, customer):
    return model.select().where(model.customer == customer, model.deleted_at.is_null())
