"""The demo business, built in one transaction by seed_demo()."""
import datetime
import random

import models
from models import (
    AuditEvent,
    Campaign,
    CampaignRecipient,
    ConsentEvent,
    ConsentPolicy,
    ConsentPurpose,
    ContactPoint,
    Customer,
    CustomerTag,
    CustomField,
    CustomFieldValue,
    Feedback,
    Interaction,
    PortalAccount,
    Purchase,
    ServiceRecord,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyInvite,
    SurveyQuestion,
    SurveyResponse,
    Tag,
    Task,
    Tier,
    TierChange,
)
from services import N_, DomainError, accounts, audit
from services.actors import Actor
from services.demo.common import (
    DEMO_CUSTOMER_LOGINS,
    DEMO_PASSWORD,
    DEMO_STAFF,
    SHANGHAI,
    SYSTEM,
    is_empty,
)
from services.demo.marketing import Marketing
from services.demo.profiles import Profiles
from services.demo.records import Records
from services.demo.reference import (
    ensure_fields,
    ensure_purposes,
    ensure_tags,
    ensure_tiers,
)


class DemoBusiness(Profiles, Records, Marketing):
    """Builds the demo data set in one transaction; ``run()`` returns the row counts."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.now = models.utcnow().replace(microsecond=0)
        self.today = (self.now + SHANGHAI).date()
        self.used_emails = {email for _, email in DEMO_CUSTOMER_LOGINS}
        self.cards = []  # one dict per customer: the card and what was planned for it

    # time helpers
    def at_days_ago(self, days):
        """A moment ``days`` (float) ago, moved into shop hours 10:00-21:00 Shanghai time."""
        moment = self.now - datetime.timedelta(days=days)
        local_day = (moment + SHANGHAI).date()
        local = datetime.datetime.combine(local_day, datetime.time(10)) + datetime.timedelta(
            seconds=self.rng.randrange(11 * 3600))
        return min(local - SHANGHAI, self.now - datetime.timedelta(minutes=5))

    def between(self, start, end):
        span = max(0.0, (end - start).total_seconds())
        return (start + datetime.timedelta(seconds=self.rng.random() * span)).replace(
            microsecond=0)

    # ------------------------------------------------------------------------------------------
    def run(self):
        with models.atomic():
            if not is_empty():
                raise DomainError(N_("Demo data can only be loaded into an empty database."))
            self.reference()
            self.make_customers()
            self.records()
            self.survey_and_campaign()
            counts = self.counts()
            audit.record(SYSTEM, "demo.seed", "database", None, after=counts)
        counts["audit_events"] += 1
        return counts

    def reference(self):
        self.staff = {}
        for role, email, name, language in DEMO_STAFF:
            staff = accounts.create_staff(email, name, DEMO_PASSWORD, role, SYSTEM)
            accounts.set_preferred_language(staff, language)
            self.staff[role] = staff
        self.admin = Actor.for_staff(self.staff["admin"])
        tiers, created = ensure_tiers()
        for tier in created:
            audit.record(self.admin, "tier.create", "tier", tier.id,
                         after={"code": tier.code, "rank": tier.rank,
                                "min_spend": tier.min_spend, "min_orders": tier.min_orders,
                                "window_days": tier.window_days})
        self.tiers = tiers
        self.purposes, created = ensure_purposes(self.now)
        for purpose in created:
            audit.record(self.admin, "consent_purpose.create", "consent_purpose", purpose.id,
                         after={"code": purpose.code, "version": 1})
        self.fields, created = ensure_fields()
        for field in created:
            audit.record(self.admin, "custom_field.create", "custom_field", field.id,
                         after={"key": field.key, "kind": field.kind, "section": field.section})
        self.tags = ensure_tags()

    # --- customers ------------------------------------------------------------------------------

    def counts(self):
        kinds = (("staff", StaffUser), ("tiers", Tier), ("consent_purposes", ConsentPurpose),
                 ("consent_policies", ConsentPolicy), ("custom_fields", CustomField),
                 ("customers", Customer), ("contact_points", ContactPoint),
                 ("portal_accounts", PortalAccount), ("tags", Tag),
                 ("customer_tags", CustomerTag), ("field_values", CustomFieldValue),
                 ("purchases", Purchase), ("service_records", ServiceRecord),
                 ("interactions", Interaction), ("tasks", Task), ("feedback", Feedback),
                 ("consent_events", ConsentEvent), ("tier_changes", TierChange),
                 ("surveys", Survey), ("survey_questions", SurveyQuestion),
                 ("campaigns", Campaign), ("campaign_recipients", CampaignRecipient),
                 ("survey_invites", SurveyInvite), ("survey_responses", SurveyResponse),
                 ("survey_answers", SurveyAnswer))
        counts = {name: model.select().count() for name, model in kinds}
        counts["audit_events"] = AuditEvent.select().count()
        return counts


def seed_demo(seed=2026):
    """Load the demo business into an empty database, in one transaction; returns row counts.

    Refuses (DomainError) when the database already has staff users or customers. Cards are
    created through the card and account services (so each card has its audit event); records
    that have no service yet are inserted in bulk.
    """
    return DemoBusiness(seed).run()
