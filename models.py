"""The whole domain model of Customer Cards, the database proxy and its bind helpers.

No Flask here: the apps and the CLI bind the proxy from ``DATABASE_URL`` and the services use the
models. Times are naive UTC (``utcnow``); money is ``Decimal``; rows that appear in URLs carry a
random ``public_id`` so that ids are never sequential.
"""
import datetime
import secrets
import threading
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

from peewee import (SQL, BooleanField, CharField, DatabaseProxy, DateField, DateTimeField,
                    DecimalField, ForeignKeyField, Index, IntegerField, JSONField, Model,
                    PostgresqlDatabase, TextField)
from playhouse.db_url import parse as parse_url
from playhouse.pool import PooledPostgresqlDatabase, PooledSqliteDatabase

db = DatabaseProxy()


def utcnow():
    """Current time as naive UTC, the form every timestamp column stores."""
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def new_public_id():
    """A random, URL-safe id (72 bits) for rows that appear in URLs."""
    return secrets.token_urlsafe(9)


def new_token():
    """A random single-use token id (128 bits)."""
    return secrets.token_urlsafe(16)


SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
    "cache_size": -32000,
}


# Connections are pooled: a request takes one and gives it back at teardown, so SQLite keeps its
# page cache and prepared statements, and PostgreSQL skips the connection handshake.
# "timeout": how long a request waits for a free connection when all are in use.
POOL_OPTIONS = {"max_connections": 32, "stale_timeout": 300, "timeout": 10}


def make_database(url):
    """Open (lazily) the database a ``DATABASE_URL`` names: a SQLite file or PostgreSQL."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        path = url[len("sqlite:///"):]
        if not path or path == ":memory:":
            raise ValueError("use a SQLite file, not :memory: (each connection would be empty)")
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        # IMMEDIATE: read-then-write transactions take the write lock up front instead of
        # failing with "database is locked" when two writers meet.
        return PooledSqliteDatabase(path, pragmas=SQLITE_PRAGMAS, lock_type="IMMEDIATE",
                                    check_same_thread=False, **POOL_OPTIONS)
    if scheme in ("postgres", "postgresql"):
        return PooledPostgresqlDatabase(**parse_url(url), **POOL_OPTIONS)
    raise ValueError(f"DATABASE_URL must start with sqlite:/// or postgres://, not {scheme!r}")



def bind(url):
    """Point the proxy at the database ``url`` names (once per URL) and return it."""
    current = db.obj
    if current is not None and getattr(current, "cc_url", None) == url:
        return current
    if current is not None:
        if not current.is_closed():
            current.close()
        current.close_all()
    database = make_database(url)
    database.cc_url = url
    db.initialize(database)
    return database


def is_postgres():
    return isinstance(db.obj, PostgresqlDatabase)


_after_commit = threading.local()


@contextmanager
def atomic():
    """``db.atomic()`` that also runs ``on_commit`` callbacks once the outermost block commits."""
    outermost = not db.in_transaction()
    if outermost:
        _after_commit.callbacks = []
    try:
        with db.atomic() as txn:
            yield txn
    except BaseException:
        if outermost:
            _after_commit.callbacks = []
        raise
    if outermost:
        callbacks, _after_commit.callbacks = _after_commit.callbacks, []
        for callback in callbacks:
            callback()


def on_commit(callback):
    """Run ``callback`` after the current transaction commits (at once outside one)."""
    if db.in_transaction() and getattr(_after_commit, "callbacks", None) is not None:
        _after_commit.callbacks.append(callback)
    else:
        callback()


class BaseModel(Model):
    class Meta:
        database = db
        legacy_table_names = False


class MoneyField(DecimalField):
    """Exact decimal with two places, read back with both places (SQLite would drop them)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 14)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("auto_round", True)
        super().__init__(**kwargs)

    def python_value(self, value):
        value = super().python_value(value)
        return None if value is None else value.quantize(Decimal("0.01"))




# --- staff ------------------------------------------------------------------------------------

class SealedCharField(CharField):
    """A short secret kept encrypted at rest (a Fernet token of services/crypto.py): Python code
    reads and writes the clear value, the column only ever holds the ciphertext. The keys live
    in the settings, which only the services read, hence the import at first use. A value no
    configured key opens raises (fail closed: a 2FA secret must never read as "none")."""

    def db_value(self, value):
        if value is None:
            return None
        from services import crypto
        return crypto.encrypt(value)

    def python_value(self, value):
        if value is None:
            return None
        from services import crypto
        return crypto.decrypt(value)


STAFF_ROLES = ("admin", "manager", "agent", "marketer", "viewer")


class StaffUser(BaseModel):
    """A member of staff who signs in to the back office; ``role`` is a row of the matrix."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    email = CharField(max_length=254, unique=True)  # normalised
    name = CharField(max_length=100)
    password_hash = CharField(max_length=255)
    role = CharField(max_length=16, default="agent")
    is_active = BooleanField(default=True)
    preferred_language = CharField(max_length=5, null=True)
    totp_secret = SealedCharField(max_length=255, null=True)  # encrypted at rest
    recovery_codes = JSONField(null=True)  # hashes of unused recovery codes
    totp_enabled_at = DateTimeField(null=True)  # 2FA on; a secret without it is mid-enrolment
    totp_last_step = IntegerField(null=True)  # last accepted time step: no code replays
    password_changed_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


# --- tiers and the card -----------------------------------------------------------------------

class Tier(BaseModel):
    """A customer tier with the rule that earns it (spend and orders over a rolling window)."""
    code = CharField(max_length=32, unique=True)
    name_zh = CharField(max_length=64)
    name_en = CharField(max_length=64)
    rank = IntegerField(default=0)  # higher is better
    colour = CharField(max_length=16, default="#6c757d")
    benefits = TextField(default="")
    min_spend = MoneyField(null=True)
    min_orders = IntegerField(null=True)
    window_days = IntegerField(default=365)
    min_tenure_days = IntegerField(null=True)
    is_default = BooleanField(default=False)
    created_at = DateTimeField(default=utcnow)


CUSTOMER_STATUSES = ("prospect", "active", "dormant", "lost")


class Customer(BaseModel):
    """The customer profile card (客户资料卡)."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    kind = CharField(max_length=10, default="person")  # person / company
    name = CharField(max_length=200)
    alt_name = CharField(max_length=200, null=True)  # optional Chinese or English name
    name_pinyin = CharField(max_length=600, default="", index=True)  # for search and sort
    name_initials = CharField(max_length=100, default="", index=True)
    gender = CharField(max_length=10, null=True)
    birthday = DateField(null=True)  # the solar date of birth
    birthday_lunar = BooleanField(default=False)  # celebrated on the lunar-calendar date
    birthday_leap_month = BooleanField(default=False)
    company = CharField(max_length=200, null=True)
    job_title = CharField(max_length=100, null=True)
    industry = CharField(max_length=64, null=True, index=True)
    company_size = CharField(max_length=32, null=True)
    country = CharField(max_length=2, default="CN")
    province = CharField(max_length=64, null=True)
    city = CharField(max_length=64, null=True, index=True)
    district = CharField(max_length=64, null=True)
    address = TextField(null=True)  # street for China, free lines elsewhere
    postal_code = CharField(max_length=16, null=True)
    source = CharField(max_length=32, null=True, index=True)
    status = CharField(max_length=16, default="prospect", index=True)
    tier = ForeignKeyField(Tier, backref="customers", null=True, on_delete="SET NULL")
    tier_override_reason = TextField(null=True)
    tier_override_until = DateTimeField(null=True)
    tier_overridden = BooleanField(default=False)
    owner = ForeignKeyField(StaffUser, backref="customers", null=True, on_delete="SET NULL")
    notes = TextField(default="")
    special_requirements = TextField(default="")
    preferred_language = CharField(max_length=5, null=True)
    id_number_enc = TextField(null=True)  # 身份证: ciphertext only, never clear text
    id_number_hmac = CharField(max_length=64, null=True, index=True)  # lookup without decrypting
    primary_email = CharField(max_length=254, null=True, index=True)  # copy of the primary contact
    primary_mobile = CharField(max_length=20, null=True, index=True)  # E.164 copy
    total_spend = MoneyField(default=Decimal("0"), index=True)  # the list sorts by it
    purchase_count = IntegerField(default=0)
    last_purchase_at = DateTimeField(null=True, index=True)
    last_contact_at = DateTimeField(null=True, index=True)
    last_verified_at = DateTimeField(null=True)
    version = IntegerField(default=1)  # optimistic locking
    created_at = DateTimeField(default=utcnow, index=True)
    updated_at = DateTimeField(default=utcnow, index=True)
    erased_at = DateTimeField(null=True)

    class Meta:
        # (erased_at, updated_at): the card list (live cards, newest first) and its count read
        # this one index, whatever the planner's statistics say.
        # (id, erased_at, name_pinyin): a broad search sorted by name reads its hits' names
        # from this narrow index instead of the wide rows (services.card_list_sorted.broad_rows).
        indexes = ((("tier", "status"), False), (("province", "city"), False),
                   (("erased_at", "updated_at"), False),
                   (("id", "erased_at", "name_pinyin"), False))


CONTACT_KINDS = ("email", "mobile", "phone", "wechat", "social")


class ContactPoint(BaseModel):
    """A way to reach a customer: raw as entered, normalised (E.164, lower-case email) for lookups."""
    customer = ForeignKeyField(Customer, backref="contacts", on_delete="CASCADE")
    kind = CharField(max_length=10)
    value = CharField(max_length=254)
    normalized = CharField(max_length=254)
    label = CharField(max_length=32, null=True)
    is_primary = BooleanField(default=False)
    verified_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("kind", "normalized"), False), (("customer", "kind", "normalized"), True))


class Tag(BaseModel):
    name = CharField(max_length=64, unique=True)
    colour = CharField(max_length=16, default="#6c757d")


class CustomerTag(BaseModel):
    customer = ForeignKeyField(Customer, backref="tag_links", on_delete="CASCADE")
    tag = ForeignKeyField(Tag, backref="customer_links", on_delete="CASCADE")

    class Meta:
        indexes = ((("customer", "tag"), True), (("tag", "customer"), False))


class PortalAccount(BaseModel):
    """A customer's sign-in to the portal; no password until the invitation is claimed."""
    customer = ForeignKeyField(Customer, backref="accounts", unique=True, on_delete="CASCADE")
    email = CharField(max_length=254, unique=True)  # normalised sign-in email
    password_hash = CharField(max_length=255, null=True)
    email_verified_at = DateTimeField(null=True)
    is_active = BooleanField(default=True)
    password_changed_at = DateTimeField(default=utcnow)
    last_login_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


class UserSession(BaseModel):
    """A signed-in session, server side: deleting the row ends it wherever its cookie is."""
    token_hash = CharField(max_length=64, unique=True)  # sha256 of the cookie token
    staff = ForeignKeyField(StaffUser, backref="sessions", null=True, on_delete="CASCADE")
    account = ForeignKeyField(PortalAccount, backref="sessions", null=True, on_delete="CASCADE")
    created_at = DateTimeField(default=utcnow)
    last_seen_at = DateTimeField(default=utcnow)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)


class LinkToken(BaseModel):
    """The database half of a signed emailed link: its purpose, expiry and single use."""
    jti = CharField(max_length=32, unique=True, default=new_token)
    purpose = CharField(max_length=32)
    customer = ForeignKeyField(Customer, backref="link_tokens", null=True, on_delete="CASCADE")
    staff = ForeignKeyField(StaffUser, backref="link_tokens", null=True, on_delete="CASCADE")
    data = JSONField(null=True)  # e.g. the new email awaiting confirmation; never in the link
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    used_at = DateTimeField(null=True)


# --- data dictionary: custom fields and preferences -------------------------------------------

FIELD_KINDS = ("text", "number", "date", "choice", "multi_choice", "bool")
PORTAL_POLICIES = ("hidden", "locked", "review", "auto")


class CustomField(BaseModel):
    """An admin-defined field. Section ``preference`` holds the structured preferences
    (styles, sizes, brands, channels, quiet hours, special needs); ``card`` holds the rest."""
    key = CharField(max_length=64, unique=True)
    section = CharField(max_length=16, default="card")
    label_zh = CharField(max_length=100)
    label_en = CharField(max_length=100)
    kind = CharField(max_length=16, default="text")
    choices = JSONField(null=True)  # [{"value": ..., "zh": ..., "en": ...}]
    required = BooleanField(default=False)
    pattern = CharField(max_length=255, null=True)
    help_zh = TextField(default="")
    help_en = TextField(default="")
    sensitive = BooleanField(default=False)
    visible_roles = JSONField(null=True)  # None: every role
    portal_policy = CharField(max_length=8, default="hidden")
    position = IntegerField(default=0)
    active = BooleanField(default=True)
    created_at = DateTimeField(default=utcnow)


class CustomFieldValue(BaseModel):
    customer = ForeignKeyField(Customer, backref="field_values", on_delete="CASCADE")
    field = ForeignKeyField(CustomField, backref="values", on_delete="CASCADE")
    value = JSONField(null=True)  # sensitive fields hold ciphertext here
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "field"), True), (("field", "customer"), False))


# --- consent ----------------------------------------------------------------------------------

class ConsentPurpose(BaseModel):
    """A purpose the customer may consent to, with its current policy version."""
    code = CharField(max_length=32, unique=True)
    name_zh = CharField(max_length=100)
    name_en = CharField(max_length=100)
    is_marketing = BooleanField(default=False)
    is_sensitive = BooleanField(default=False)  # PIPL: separate consent
    double_opt_in = BooleanField(default=False)
    current_version = IntegerField(default=1)
    position = IntegerField(default=0)
    active = BooleanField(default=True)


class ConsentPolicy(BaseModel):
    """One version of a purpose's policy text; a new version asks customers again."""
    purpose = ForeignKeyField(ConsentPurpose, backref="policies", on_delete="CASCADE")
    version = IntegerField()
    text_zh = TextField()
    text_en = TextField()
    published_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("purpose", "version"), True),)


class ConsentEvent(BaseModel):
    """Append-only consent ledger; the current state is the latest event per purpose."""
    customer = ForeignKeyField(Customer, backref="consent_events", on_delete="CASCADE")
    purpose = ForeignKeyField(ConsentPurpose, backref="events", on_delete="RESTRICT")
    granted = BooleanField()
    policy_version = IntegerField()
    source = CharField(max_length=16)  # portal / staff / import / link / unsubscribe / survey
    actor_kind = CharField(max_length=16)
    actor_id = IntegerField(null=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "purpose", "created_at"), False),)


class ChangeRequest(BaseModel):
    """Customer edits to fields under the *review* policy, waiting for staff."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, backref="change_requests", on_delete="CASCADE")
    changes = JSONField()  # {field: {"old": ..., "new": ...}}
    status = CharField(max_length=16, default="pending", index=True)
    reason = TextField(null=True)
    decided_by = ForeignKeyField(StaffUser, null=True, backref="decided_changes",
                                 on_delete="SET NULL")
    decided_at = DateTimeField(null=True)
    created_at = DateTimeField(default=utcnow)


# --- segments, surveys, campaigns -------------------------------------------------------------

class Segment(BaseModel):
    """A saved filter (dynamic) or a hand-picked list (static)."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    name = CharField(max_length=100)
    description = TextField(default="")
    kind = CharField(max_length=8, default="dynamic")
    filters = JSONField(default=dict)
    created_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)


class SegmentMember(BaseModel):
    segment = ForeignKeyField(Segment, backref="members", on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="+", on_delete="CASCADE")
    added_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("segment", "customer"), True),)


class Survey(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    title_zh = CharField(max_length=200)
    title_en = CharField(max_length=200)
    intro_zh = TextField(default="")
    intro_en = TextField(default="")
    status = CharField(max_length=16, default="draft")  # draft / open / closed
    public_token = CharField(max_length=32, null=True, unique=True)  # anonymous link
    task_on_detractor = BooleanField(default=True)
    invite_days = IntegerField(default=14)  # how long a personal link stays valid
    reminder_days = IntegerField(null=True)
    created_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)


QUESTION_KINDS = ("nps", "rating", "single_choice", "multi_choice", "short_text", "long_text")


class SurveyQuestion(BaseModel):
    survey = ForeignKeyField(Survey, backref="questions", on_delete="CASCADE")
    position = IntegerField(default=0)
    kind = CharField(max_length=16)
    text_zh = TextField()
    text_en = TextField()
    required = BooleanField(default=True)
    choices = JSONField(null=True)
    maps_to = CharField(max_length=64, null=True)  # "pref:style", "consent:wechat", ...

    class Meta:
        indexes = ((("survey", "position"), False),)


class Campaign(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    name = CharField(max_length=200)
    goal = TextField(default="")
    segment = ForeignKeyField(Segment, null=True, backref="campaigns", on_delete="SET NULL")
    channel = CharField(max_length=16, default="email")
    subject_zh = CharField(max_length=200, default="")
    subject_en = CharField(max_length=200, default="")
    body_zh = TextField(default="")
    body_en = TextField(default="")
    survey = ForeignKeyField(Survey, null=True, backref="campaigns", on_delete="SET NULL")
    status = CharField(max_length=16, default="draft", index=True)
    is_transactional = BooleanField(default=False)
    scheduled_at = DateTimeField(null=True)
    rate_per_minute = IntegerField(null=True)
    attribution_days = IntegerField(default=30)
    created_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    started_at = DateTimeField(null=True)
    finished_at = DateTimeField(null=True)
    track_opens = BooleanField(default=False)  # a 1x1 image in an HTML part records opens
    updated_at = DateTimeField(default=utcnow)
    # The worker that sends holds the campaign until this time (renewed as it goes); a worker
    # that died lets it lapse and the next one resumes where it stopped.
    lease_until = DateTimeField(null=True)
    last_error = TextField(null=True)  # why a scheduled start did not happen


class CampaignRecipient(BaseModel):
    """One row per campaign and customer: the guarantee of exactly one message each."""
    campaign = ForeignKeyField(Campaign, backref="recipients", on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="campaign_rows", on_delete="CASCADE")
    email = CharField(max_length=254, null=True)
    status = CharField(max_length=16, default="queued")  # queued/sent/failed/skipped_*
    message_id = CharField(max_length=255, null=True, unique=True)
    attempts = IntegerField(default=0)
    last_error = TextField(null=True)
    sent_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)
    tier = ForeignKeyField(Tier, null=True, backref="+", on_delete="SET NULL")  # when queued
    next_attempt_at = DateTimeField(null=True)  # after a 4xx: not before this time

    class Meta:
        indexes = ((("campaign", "customer"), True), (("campaign", "status"), False))


# --- records on the card ----------------------------------------------------------------------

class Purchase(BaseModel):
    """A transaction (purchase). Named Purchase so it never reads as a database transaction."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, backref="purchases", on_delete="CASCADE")
    occurred_at = DateTimeField(default=utcnow)
    product = CharField(max_length=200)
    sku = CharField(max_length=64, null=True)
    quantity = DecimalField(max_digits=12, decimal_places=3, default=Decimal("1"))
    unit_price = MoneyField(default=Decimal("0"))
    amount = MoneyField()
    currency = CharField(max_length=3, default="CNY")
    payment_method = CharField(max_length=32, null=True)
    order_status = CharField(max_length=16, default="completed")
    channel = CharField(max_length=32, null=True)
    campaign = ForeignKeyField(Campaign, null=True, backref="purchases",
                               on_delete="SET NULL")
    external_ref = CharField(max_length=64, null=True, unique=True)  # idempotent import
    created_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    deleted_at = DateTimeField(null=True)
    delete_reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "occurred_at"), False), (("occurred_at",), False))


class ServiceRecord(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, backref="service_records", on_delete="CASCADE")
    occurred_at = DateTimeField(default=utcnow)
    service_type = CharField(max_length=32)  # install / repair / consult / treatment ...
    staff = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    description = TextField(default="")
    result = TextField(default="")
    satisfaction = IntegerField(null=True)  # 1-5
    deleted_at = DateTimeField(null=True)
    delete_reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow)
    updated_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "occurred_at"), False),)


class Interaction(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, backref="interactions", on_delete="CASCADE")
    occurred_at = DateTimeField(default=utcnow)
    channel = CharField(max_length=16)  # phone / email / wechat / visit / chat
    direction = CharField(max_length=8, default="inbound")
    staff = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    subject = CharField(max_length=200, default="")
    request = TextField(default="")
    resolution = TextField(default="")
    outcome = CharField(max_length=32, null=True)
    next_follow_up = DateField(null=True)
    visible_to_customer = BooleanField(default=False)
    deleted_at = DateTimeField(null=True)
    delete_reason = TextField(null=True)
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "occurred_at"), False),)


class Task(BaseModel):
    """A follow-up: from an interaction, a birthday, stale data, a feedback or a survey answer."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, null=True, backref="tasks", on_delete="CASCADE")
    kind = CharField(max_length=16, default="follow_up")
    title = CharField(max_length=200)
    notes = TextField(default="")
    due_date = DateField(index=True)
    assignee = ForeignKeyField(StaffUser, null=True, backref="tasks", on_delete="SET NULL")
    interaction = ForeignKeyField(Interaction, null=True, backref="tasks", on_delete="SET NULL")
    done_at = DateTimeField(null=True)
    done_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("assignee", "done_at", "due_date"), False),)


class Feedback(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, backref="feedback", on_delete="CASCADE")
    category = CharField(max_length=32)
    rating = IntegerField(null=True)  # 1-5
    message = TextField()
    purchase = ForeignKeyField(Purchase, null=True, backref="feedback", on_delete="SET NULL")
    service_record = ForeignKeyField(ServiceRecord, null=True, backref="feedback",
                                     on_delete="SET NULL")
    status = CharField(max_length=16, default="new", index=True)
    assignee = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    reply = TextField(null=True)
    replied_at = DateTimeField(null=True)
    replied_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    idempotency_key = CharField(max_length=64, null=True, unique=True)  # double submit -> one row
    created_at = DateTimeField(default=utcnow, index=True)


class TierChange(BaseModel):
    """Tier history, with the reason in words."""
    customer = ForeignKeyField(Customer, backref="tier_changes", on_delete="CASCADE")
    from_tier = ForeignKeyField(Tier, null=True, backref="+", on_delete="SET NULL")
    to_tier = ForeignKeyField(Tier, null=True, backref="+", on_delete="SET NULL")
    reason = TextField()
    source = CharField(max_length=16, default="rule")  # rule / override / expiry
    changed_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("customer", "created_at"), False),)


class SurveyInvite(BaseModel):
    """A personal survey link: one per survey and customer."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    survey = ForeignKeyField(Survey, backref="invites", on_delete="CASCADE")
    customer = ForeignKeyField(Customer, backref="survey_invites", on_delete="CASCADE")
    campaign = ForeignKeyField(Campaign, null=True, backref="invites", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    expires_at = DateTimeField()
    sent_at = DateTimeField(null=True)
    opened_at = DateTimeField(null=True)
    reminded_at = DateTimeField(null=True)
    responded_at = DateTimeField(null=True)

    class Meta:
        indexes = ((("survey", "customer"), True),)


class SurveyResponse(BaseModel):
    """A submitted survey; the unique invite column makes a second answer impossible."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    survey = ForeignKeyField(Survey, backref="responses", on_delete="CASCADE")
    invite = ForeignKeyField(SurveyInvite, null=True, unique=True, backref="responses",
                             on_delete="CASCADE")
    customer = ForeignKeyField(Customer, null=True, backref="survey_responses",
                               on_delete="SET NULL")
    locale = CharField(max_length=5, default="zh")
    submitted_at = DateTimeField(default=utcnow)


class SurveyAnswer(BaseModel):
    response = ForeignKeyField(SurveyResponse, backref="answers", on_delete="CASCADE")
    question = ForeignKeyField(SurveyQuestion, backref="answers", on_delete="CASCADE")
    value = JSONField(null=True)
    number = IntegerField(null=True)  # NPS / rating, for aggregation in SQL

    class Meta:
        indexes = ((("response", "question"), True), (("question", "number"), False))


# --- mail, audit, jobs ------------------------------------------------------------------------

class EmailMessage(BaseModel):
    """Every email the system sends; in the dev outbox mode this *is* the delivery."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    message_id = CharField(max_length=255, unique=True)
    kind = CharField(max_length=32)  # login_link / survey / campaign / notice ...
    customer = ForeignKeyField(Customer, null=True, backref="emails", on_delete="SET NULL")
    to_addr = CharField(max_length=254)
    subject = CharField(max_length=255)
    body_text = TextField()
    body_html = TextField(null=True)
    headers = JSONField(default=dict)
    transport = CharField(max_length=8, default="outbox")
    status = CharField(max_length=16, default="queued")
    error = TextField(null=True)
    created_at = DateTimeField(default=utcnow, index=True)
    sent_at = DateTimeField(null=True)


class AuditEvent(BaseModel):
    """Append-only audit trail, hash-chained (each row's hash covers the previous one)."""
    actor_kind = CharField(max_length=16)  # staff / customer / system / link
    actor_id = IntegerField(null=True)
    actor_label = CharField(max_length=200, default="")
    action = CharField(max_length=64)
    entity = CharField(max_length=32)
    entity_id = CharField(max_length=32, null=True)
    customer_id = IntegerField(null=True)  # plain id: the trail outlives the card
    before = JSONField(null=True)
    after = JSONField(null=True)
    ip = CharField(max_length=64, null=True)
    user_agent = CharField(max_length=255, null=True)
    created_at = DateTimeField(default=utcnow, index=True)
    prev_hash = CharField(max_length=64, default="")
    hash = CharField(max_length=64, default="")

    class Meta:
        # (action, id) and (actor_id, id): the audit log's filters, newest first (migration 0006).
        indexes = ((("customer_id", "created_at"), False), (("entity", "entity_id"), False),
                   (("action", "id"), False), (("actor_id", "id"), False))


class ImportJob(BaseModel):
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    filename = CharField(max_length=255)
    encoding = CharField(max_length=32, null=True)
    status = CharField(max_length=16, default="uploaded")
    dry_run = BooleanField(default=True)
    mapping = JSONField(null=True)
    report = JSONField(null=True)  # counts and per-row errors
    rows_total = IntegerField(default=0)
    rows_ok = IntegerField(default=0)
    rows_failed = IntegerField(default=0)
    created_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    finished_at = DateTimeField(null=True)
    undone_at = DateTimeField(null=True)


class MergeRecord(BaseModel):
    """A duplicate merge, with the snapshot that makes it undoable."""
    survivor = ForeignKeyField(Customer, backref="merges", on_delete="CASCADE")
    merged_public_id = CharField(max_length=16)
    snapshot = JSONField()
    merged_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    created_at = DateTimeField(default=utcnow)
    undone_at = DateTimeField(null=True)


class DataRequest(BaseModel):
    """A customer's request to download or erase their data, with its status and deadline."""
    public_id = CharField(max_length=16, unique=True, default=new_public_id)
    customer = ForeignKeyField(Customer, null=True, backref="data_requests", on_delete="SET NULL")
    kind = CharField(max_length=8)  # export / erasure
    status = CharField(max_length=16, default="requested", index=True)
    requested_at = DateTimeField(default=utcnow)
    confirmed_at = DateTimeField(null=True)
    due_at = DateTimeField()
    completed_at = DateTimeField(null=True)
    handled_by = ForeignKeyField(StaffUser, null=True, backref="+", on_delete="SET NULL")
    notes = TextField(default="")


# --- card search: the index, and the staff's saved list views ---------------------------------

# What a card is found by, as SQL over ``customer c``: lower-case name, alternative name, pinyin,
# initials, company and every contact point's normalised value (E.164 phone, email, WeChat id),
# one per line so that no match spans two of them.
_SEARCH_BODY = (
    "lower(c.name) || {nl} || lower(coalesce(c.alt_name, '')) || {nl} || c.name_pinyin"
    " || {nl} || c.name_initials || {nl} || lower(coalesce(c.company, '')) || {nl}"
    " || coalesce((SELECT {agg}(lower(p.normalized), {nl}) FROM contact_point p"
    " WHERE p.customer_id = c.id), '')")
# The short keys: every 1- and 2-character piece of the name, alternative name and initials,
# for 1-2 character queries (张伟, zw) that a trigram index cannot answer.
_SEARCH_SHORT = ("substr(lower(c.name), 1, 20) || {nl} || substr(lower(coalesce(c.alt_name, "
                 "'')), 1, 20) || {nl} || substr(c.name_initials, 1, 20)")
SEARCH_SHORT_MAX = 62  # characters of _SEARCH_SHORT that get short keys
_SQLITE_POSITIONS = "'[" + ",".join(str(i) for i in range(1, SEARCH_SHORT_MAX + 1)) + "]'"
# SQLite: one FTS5 trigram table (rowid = customer id). A short key is the piece after one
# (two for a single character) \x01 marks, so that it is a 3-character token of its own.
_SQLITE_FILL = (
    "INSERT INTO customer_search (rowid, customer_id, body, short)"
    f" SELECT c.id, c.id, {_SEARCH_BODY.format(agg='group_concat', nl='char(10)')},"
    " (SELECT group_concat(char(1) || substr(s.k, j.value, 2) || char(10) || char(1, 1)"
    f" || substr(s.k, j.value, 1), char(10)) FROM json_each({_SQLITE_POSITIONS}) j,"
    f" (SELECT {_SEARCH_SHORT.format(nl='char(10)')} AS k) s WHERE j.value <= length(s.k))"
    " FROM customer c WHERE {cond} AND c.erased_at IS NULL")
_SQLITE_REFRESH = ("DELETE FROM customer_search WHERE rowid = {id}; "
                   + _SQLITE_FILL.format(cond="c.id = {id}") + ";")
SQLITE_SEARCH_DDL = [
    ("CREATE VIRTUAL TABLE IF NOT EXISTS customer_search USING fts5("
     "customer_id UNINDEXED, body, short, tokenize = 'trigram')"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_ai AFTER INSERT ON customer BEGIN "
     + _SQLITE_REFRESH.format(id="NEW.id") + " END"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_au AFTER UPDATE OF name, alt_name, name_pinyin,"
     " name_initials, company, erased_at ON customer BEGIN "
     + _SQLITE_REFRESH.format(id="NEW.id") + " END"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_ad AFTER DELETE ON customer BEGIN "
     "DELETE FROM customer_search WHERE rowid = OLD.id; END"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_pi AFTER INSERT ON contact_point BEGIN "
     + _SQLITE_REFRESH.format(id="NEW.customer_id") + " END"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_pu AFTER UPDATE OF customer_id, normalized"
     " ON contact_point BEGIN " + _SQLITE_REFRESH.format(id="OLD.customer_id")
     + _SQLITE_REFRESH.format(id="NEW.customer_id") + " END"),
    ("CREATE TRIGGER IF NOT EXISTS customer_search_pd AFTER DELETE ON contact_point BEGIN "
     + _SQLITE_REFRESH.format(id="OLD.customer_id") + " END"),
]
# PostgreSQL: a table with a pg_trgm GIN index on the body, and the short keys as a
# space-separated list with a GIN index on its array.
_PG_FILL = (
    "INSERT INTO customer_search (customer_id, body, short)"
    f" SELECT c.id, {_SEARCH_BODY.format(agg='string_agg', nl='chr(10)')},"
    f" cc_search_short({_SEARCH_SHORT.format(nl='chr(10)')})"
    " FROM customer c WHERE {cond} AND c.erased_at IS NULL")
PG_SEARCH_DDL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    ("CREATE TABLE IF NOT EXISTS customer_search (customer_id INTEGER NOT NULL PRIMARY KEY,"
     " body TEXT NOT NULL, short TEXT NOT NULL)"),
    ("CREATE INDEX IF NOT EXISTS customer_search_body ON customer_search"
     " USING gin (body gin_trgm_ops)"),
    ("CREATE INDEX IF NOT EXISTS customer_search_short ON customer_search"
     " USING gin (string_to_array(short, ' '))"),
    ("CREATE OR REPLACE FUNCTION cc_search_short(k text) RETURNS text LANGUAGE sql IMMUTABLE AS $$"
     " SELECT coalesce(string_agg(DISTINCT g, ' '), '') FROM (SELECT substr(k, i, n) AS g"
     " FROM generate_series(1, char_length(k)) i, (VALUES (1), (2)) v(n)"
     " WHERE i + n - 1 <= char_length(k)) x WHERE g !~ '\\s' $$"),
    ("CREATE OR REPLACE FUNCTION cc_search_refresh(cid integer) RETURNS void LANGUAGE sql AS $$"
     " DELETE FROM customer_search WHERE customer_id = cid; "
     + _PG_FILL.format(cond="c.id = cid") + " $$"),
    ("CREATE OR REPLACE FUNCTION cc_search_customer() RETURNS trigger LANGUAGE plpgsql AS $$"
     " BEGIN IF TG_OP = 'DELETE' THEN DELETE FROM customer_search WHERE customer_id = OLD.id;"
     " ELSE PERFORM cc_search_refresh(NEW.id); END IF; RETURN NULL; END $$"),
    ("CREATE OR REPLACE FUNCTION cc_search_contact() RETURNS trigger LANGUAGE plpgsql AS $$"
     " BEGIN IF TG_OP <> 'INSERT' THEN PERFORM cc_search_refresh(OLD.customer_id); END IF;"
     " IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND NEW.customer_id <> OLD.customer_id) THEN"
     " PERFORM cc_search_refresh(NEW.customer_id); END IF; RETURN NULL; END $$"),
    ("CREATE OR REPLACE TRIGGER customer_search_c AFTER INSERT OR DELETE OR UPDATE OF name,"
     " alt_name, name_pinyin, name_initials, company, erased_at ON customer"
     " FOR EACH ROW EXECUTE FUNCTION cc_search_customer()"),
    ("CREATE OR REPLACE TRIGGER customer_search_p AFTER INSERT OR DELETE OR UPDATE OF"
     " customer_id, normalized ON contact_point FOR EACH ROW EXECUTE FUNCTION cc_search_contact()"),
]
SEARCH_TRIGGERS = {"sqlite": [("customer_search_" + t, None) for t in
                              ("ai", "au", "ad", "pi", "pu", "pd")],
                   "postgres": [("customer_search_c", "customer"),
                                ("customer_search_p", "contact_point")]}


def search_ddl(database=None):
    """The statements that create the search index and the triggers that keep it right."""
    database = database or db.obj
    database = getattr(database, "obj", database)  # a proxy: the database it points at
    return PG_SEARCH_DDL if isinstance(database, PostgresqlDatabase) else SQLITE_SEARCH_DDL


def search_fill_sql(database=None, into=None):
    """INSERT ... SELECT that indexes the live cards with first < id <= last (the two
    parameters) in bulk; ``into`` another table with the same columns (SQLite: rowid first)."""
    if search_ddl(database) is PG_SEARCH_DDL:
        sql = _PG_FILL.format(cond="c.id > %s AND c.id <= %s")
    else:
        sql = _SQLITE_FILL.format(cond="c.id > ? AND c.id <= ?")
    return sql if into is None else sql.replace("INTO customer_search", f"INTO {into}", 1)


class _PostgresOnly(list):
    """Index declarations that exist on PostgreSQL only (SQLite's FTS5 table has none)."""

    def __iter__(self):
        return super().__iter__() if is_postgres() else iter(())


class CustomerSearch(BaseModel):
    """The search index of live cards, kept by database triggers whoever writes: on SQLite an
    FTS5 trigram table, on PostgreSQL a table with pg_trgm and array GIN indexes. Read it
    through ``services.search``; never write it from Python."""
    customer_id = IntegerField(primary_key=True)
    body = TextField()
    short = TextField()

    @classmethod
    def create_table(cls, safe=True, **options):
        # The triggers name the card and contact tables: make sure they are there first.
        Customer.create_table(safe=True)
        ContactPoint.create_table(safe=True)
        for statement in search_ddl(cls._meta.database):
            cls._meta.database.execute_sql(statement)

    @classmethod
    def drop_table(cls, safe=True, drop_sequences=True, **options):
        cls._meta.database.execute_sql("DROP TABLE IF EXISTS customer_search")


# Named, so that schema diffs pair them with the indexes search_ddl() creates (set after the
# class is made: Meta would copy the list once, before any database is bound).
CustomerSearch._meta.indexes = _PostgresOnly([
    Index("customer_search_body", "customer_search", [SQL("body")]),
    Index("customer_search_short", "customer_search", [SQL("string_to_array(short, ' ')")])])


class SavedView(BaseModel):
    """A staff member's named card-list filter (the list's query string, as a dict)."""
    staff = ForeignKeyField(StaffUser, backref="saved_views", on_delete="CASCADE")
    name = CharField(max_length=100)
    query = JSONField()
    created_at = DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("staff", "name"), True),)


ALL_MODELS = [
    StaffUser, Tier, Customer, ContactPoint, Tag, CustomerTag, PortalAccount, UserSession,
    LinkToken, CustomField, CustomFieldValue, ConsentPurpose, ConsentPolicy, ConsentEvent,
    ChangeRequest, Purchase, ServiceRecord, Interaction, Task, Feedback, TierChange, Segment,
    SegmentMember, Survey, SurveyQuestion, Campaign, CampaignRecipient, SurveyInvite,
    SurveyResponse, SurveyAnswer, EmailMessage, AuditEvent, ImportJob, MergeRecord, DataRequest,
    CustomerSearch, SavedView,
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
