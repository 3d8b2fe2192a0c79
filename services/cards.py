"""Reading customer cards: the portal's own-card overview and the back office's card (the list
is services.card_list)."""
import datetime
from collections import namedtuple

from peewee import JOIN, DateField, DateTimeField, Field, fn

import models
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
)
from services import custom_fields, tiers

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


_CARD_SQL = {}  # kind of database -> (query, SQL, params, the slot of the public id)


def get_card(public_id):
    """A card by its public id with its tier, its owner (``owner_name``, ``owner_public_id``)
    and its portal sign-in (``account_email``, ``account_claimed``), or None (erased cards are
    gone from the back office). The SQL is built once per kind of database (see _Prepared)."""
    database = models.db.obj
    plan = _CARD_SQL.get(type(database))
    if plan is None:
        query = _card_query(_Prepared.SENTINEL_TEXT)
        sql, params = query.sql()
        plan = _CARD_SQL[type(database)] = (query, sql, tuple(params),
                                            params.index(_Prepared.SENTINEL_TEXT))
    query, sql, template, slot = plan
    params = list(template)
    params[slot] = public_id
    return next(iter(query._get_cursor_wrapper(database.execute_sql(sql, params))), None)


class _Prepared:
    """A fixed query about one card, its SQL built once per kind of database and then run with
    the card's id. Peewee rebuilds the same SQL string, and a namedtuple class, on every call:
    on the card page that cost more than running the queries."""

    _SENTINEL = -918273645  # stands for the card's id while the SQL is generated
    SENTINEL_TEXT = "\x01public-id\x01"  # and for a public id

    def __init__(self, build):
        self.build = build  # customer id -> peewee Select
        self.plans = {}

    def rows(self, customer_id=None):
        database = models.db.obj
        plan = self.plans.get(type(database))
        if plan is None:
            plan = self.plans[type(database)] = self._plan(database)
        sql, template, slots, converters, row_type = plan
        params = list(template)  # a copy: other threads run the same plan
        for slot in slots:
            params[slot] = customer_id
        cursor = database.execute_sql(sql, params)
        return [row_type(*[value if convert is None else convert(value)
                           for convert, value in zip(converters, row)]) for row in cursor]

    def _plan(self, database):
        query = self.build(self._SENTINEL)
        sql, params = query.sql()
        slots = [i for i, value in enumerate(params) if value == self._SENTINEL]
        names, converters = [], []
        for node in query._returning:  # a model field, or an alias of one
            field = node.unwrap()
            names.append(node._alias if node.is_alias() else field.name)
            converters.append(_FAST.get(type(field), field.python_value)
                              if isinstance(field, Field) else None)
        return sql, tuple(params), slots, converters, namedtuple("Row", names)


def _datetime(value):
    """SQLite's text timestamps read with fromisoformat (peewee tries strptime formats in
    turn, the slowest part of reading 150 records); PostgreSQL's come back as datetimes."""
    if isinstance(value, str):
        try:
            return datetime.datetime.fromisoformat(value)
        except ValueError:
            return DateTimeField().python_value(value)
    return value


def _date(value):
    if isinstance(value, str):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return DateField().python_value(value)
    return value


_FAST = {DateTimeField: _datetime, DateField: _date}


def _records(model, *columns, with_staff=True):
    """The card's latest live records of ``model``: only the ``columns`` the page shows."""
    def build(customer_id):
        fields = [model.public_id, model.occurred_at, *columns]
        query = (model.select(*fields, StaffUser.name.alias("staff_name"))
                 .join(StaffUser, JOIN.LEFT_OUTER) if with_staff else model.select(*fields))
        return (query.where(model.customer == customer_id, model.deleted_at.is_null())
                .order_by(model.occurred_at.desc(), model.id.desc()).limit(RECENT))
    return _Prepared(build)


PURCHASES = _records(Purchase, Purchase.product, Purchase.quantity, Purchase.unit_price,
                     Purchase.amount, Purchase.currency, Purchase.payment_method,
                     Purchase.order_status, Purchase.channel, with_staff=False)
SERVICES = _records(ServiceRecord, ServiceRecord.service_type, ServiceRecord.description,
                    ServiceRecord.result, ServiceRecord.satisfaction)
INTERACTIONS = _records(Interaction, Interaction.channel, Interaction.direction,
                        Interaction.subject, Interaction.request, Interaction.resolution,
                        Interaction.outcome, Interaction.next_follow_up,
                        Interaction.visible_to_customer)
CONTACTS = _Prepared(lambda customer_id: ContactPoint.select(
    ContactPoint.kind, ContactPoint.value, ContactPoint.normalized, ContactPoint.is_primary)
    .where(ContactPoint.customer == customer_id)
    .order_by(ContactPoint.is_primary.desc(), ContactPoint.kind, ContactPoint.id))
TAGS = _Prepared(lambda customer_id: Tag.select(Tag.name, Tag.colour).join(CustomerTag)
                 .where(CustomerTag.customer == customer_id).order_by(Tag.name))
TASKS = _Prepared(lambda customer_id: Task.select(
    Task.public_id, Task.title, Task.due_date, StaffUser.name.alias("assignee_name"))
    .join(StaffUser, JOIN.LEFT_OUTER, on=(Task.assignee == StaffUser.id))
    .where(Task.customer == customer_id, Task.done_at.is_null())
    .order_by(Task.due_date, Task.id).limit(RECENT))
# The card's preferences (not sensitive ones: they are stored encrypted), each with its
# field's label, kind and choices.
PREFERENCES = _Prepared(lambda customer_id: CustomFieldValue.select(
    CustomFieldValue.value, CustomField.key, CustomField.label_zh, CustomField.label_en,
    CustomField.kind, CustomField.choices).join(CustomField)
    .where(CustomFieldValue.customer == customer_id, CustomField.section == "preference",
           CustomField.active == True, CustomField.sensitive == False)
    .order_by(CustomField.position, CustomField.id).limit(RECENT))
ACTIVE_STAFF = _Prepared(lambda _: StaffUser.select(StaffUser.public_id, StaffUser.name)
                         .where(StaffUser.is_active == True).order_by(StaffUser.name))


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
        "tier_history": tiers.card_history(customer),
    }


def _live(model, customer):
    return model.select().where(model.customer == customer, model.deleted_at.is_null())
