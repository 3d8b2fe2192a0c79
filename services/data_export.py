"""A customer's own data as one ZIP (right of access, GDPR art. 15 / PIPL art. 45).

``card.json`` holds the card itself; one CSV per kind of record holds the rest. CSVs are UTF-8
with a BOM (Excel opens them in Chinese), formula-safe and free of control characters
(``consent.safe_cell``). Everything is read for one customer id only; internal columns (the ID
number's ciphertext and lookup hash, staff-only notes, optimistic-lock counters) never leave.
The ZIP is built in memory: one customer's data is small.
"""
import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal
from functools import lru_cache

from babel.support import Translations
from peewee import JOIN

import config
from models import (
    ConsentEvent,
    ConsentPurpose,
    ContactPoint,
    Customer,
    CustomField,
    CustomFieldValue,
    EmailMessage,
    Feedback,
    Interaction,
    Purchase,
    ServiceRecord,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
    Tier,
)
from services import N_, consent

# Customer columns that are internal or secret: never in an export.
INTERNAL_COLUMNS = frozenset({
    "id", "id_number_enc", "id_number_hmac", "version", "owner", "tier", "notes",
    "tier_override_reason", "name_pinyin", "name_initials", "erased_at",
})
HELD_ENCRYPTED = N_("Held encrypted; not included in this download. Ask us if you need it.")
NOT_HELD = None

PURCHASE_HEADER = (N_("Time (UTC)"), N_("Product"), N_("SKU"), N_("Quantity"),
                   N_("Unit price"), N_("Amount"), N_("Currency"), N_("Payment method"),
                   N_("Order status"), N_("Channel"), N_("Reference"))
SERVICE_HEADER = (N_("Time (UTC)"), N_("Service"), N_("Served by"), N_("Description"),
                  N_("Result"), N_("Satisfaction (1-5)"), N_("Reference"))
INTERACTION_HEADER = (N_("Time (UTC)"), N_("Channel"), N_("Direction"), N_("Subject"),
                      N_("Request"), N_("Resolution"), N_("Outcome"), N_("Reference"))
FEEDBACK_HEADER = (N_("Time (UTC)"), N_("Category"), N_("Rating (1-5)"), N_("Message"),
                   N_("Status"), N_("Our reply"), N_("Replied at (UTC)"), N_("Reference"))
SURVEY_HEADER = (N_("Submitted (UTC)"), N_("Survey"), N_("Question"), N_("Answer"))
EMAIL_HEADER = (N_("Time (UTC)"), N_("Subject"), N_("To"), N_("Kind"))

README = N_("This is a copy of the personal data %(business)s holds about you, prepared on "
            "%(date)s (UTC). card.json holds your card; each CSV file holds one kind of record "
            "and opens in Excel. Times are in UTC. Your ID number is stored only encrypted and "
            "is not included.")


@lru_cache(maxsize=4)
def _catalogue(lang):
    return Translations.load(str(config.BASE_DIR / "translations"), [lang])


def _lang(lang):
    return lang if lang in ("zh", "en") else "zh"


def _utc(value):
    """A stored naive-UTC time (or date) as ISO 8601 text; None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value.isoformat()


def _plain(value):
    if isinstance(value, (datetime.datetime, datetime.date)):
        return _utc(value)
    if isinstance(value, Decimal):
        return str(value)
    return value


def _csv(header, rows, gettext):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([gettext(title) for title in header])
    for row in rows:
        writer.writerow([consent.safe_cell(_plain(value)) for value in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# --- card.json ----------------------------------------------------------------------------------

def _card_columns(customer):
    data = {}
    for name in Customer._meta.sorted_field_names:
        if name in INTERNAL_COLUMNS:
            continue
        data[name] = _plain(getattr(customer, name))
    return data


def _tier(customer, lang):
    if customer.tier_id is None:
        return None
    tier = Tier.get_by_id(customer.tier_id)
    return {"code": tier.code, "name": getattr(tier, f"name_{lang}"),
            "benefits": tier.benefits or ""}


def _contacts(customer_id):
    return [{"kind": c.kind, "value": c.value, "label": c.label, "is_primary": c.is_primary,
             "verified_at": _utc(c.verified_at), "added_at": _utc(c.created_at)}
            for c in ContactPoint.select().where(ContactPoint.customer == customer_id)
            .order_by(ContactPoint.kind, ContactPoint.is_primary.desc(), ContactPoint.id)]


def _custom_fields(customer_id, lang, gettext):
    rows = (CustomFieldValue.select(CustomFieldValue, CustomField).join(CustomField)
            .where(CustomFieldValue.customer == customer_id)
            .order_by(CustomField.section, CustomField.position, CustomField.id))
    values = []
    for row in rows:
        field = row.field
        values.append({
            "key": field.key, "label": getattr(field, f"label_{lang}"), "section": field.section,
            # a sensitive field stores ciphertext: never export it, say it is held
            "value": gettext(HELD_ENCRYPTED) if field.sensitive else _plain(row.value),
            "updated_at": _utc(row.updated_at)})
    return values


def _consent_events(customer_id):
    return (ConsentEvent.select(ConsentEvent, ConsentPurpose).join(ConsentPurpose)
            .where(ConsentEvent.customer == customer_id)
            .order_by(ConsentEvent.created_at, ConsentEvent.id))


def _consents(customer_id, lang, gettext):
    return [{"time": _utc(e.created_at), "purpose": e.purpose.code,
             "purpose_name": getattr(e.purpose, f"name_{lang}"),
             "action": "granted" if e.granted else "withdrawn",
             "policy_version": e.policy_version,
             "source": gettext(consent.SOURCE_LABELS.get(e.source, e.source)), "ip": e.ip}
            for e in _consent_events(customer_id)]


def card_json(customer, lang):
    gettext = _catalogue(lang).gettext
    card = _card_columns(customer)
    card["id_number"] = gettext(HELD_ENCRYPTED) if customer.id_number_enc else NOT_HELD
    document = {
        "card": card,
        "tier": _tier(customer, lang),
        "contact_points": _contacts(customer.id),
        "preferences_and_custom_fields": _custom_fields(customer.id, lang, gettext),
        "consent_history": _consents(customer.id, lang, gettext),
    }
    return json.dumps(document, ensure_ascii=False, indent=2, default=str).encode("utf-8")


# --- the CSV files ------------------------------------------------------------------------------

def _purchases(customer_id):
    for p in (Purchase.select().where(Purchase.customer == customer_id,
                                      Purchase.deleted_at.is_null())
              .order_by(Purchase.occurred_at, Purchase.id)):
        yield (p.occurred_at, p.product, p.sku, p.quantity, p.unit_price, p.amount, p.currency,
               p.payment_method, p.order_status, p.channel, p.public_id)


def _service_records(customer_id):
    rows = (ServiceRecord.select(ServiceRecord, StaffUser.name.alias("staff_name"))
            .join(StaffUser, JOIN.LEFT_OUTER)
            .where(ServiceRecord.customer == customer_id, ServiceRecord.deleted_at.is_null())
            .order_by(ServiceRecord.occurred_at, ServiceRecord.id).namedtuples())
    for r in rows:
        yield (r.occurred_at, r.service_type, r.staff_name, r.description, r.result,
               r.satisfaction, r.public_id)


def _interactions(customer_id):
    # Only what staff marked as shown to the customer; internal notes stay internal.
    for i in (Interaction.select().where(Interaction.customer == customer_id,
                                         Interaction.visible_to_customer == True,
                                         Interaction.deleted_at.is_null())
              .order_by(Interaction.occurred_at, Interaction.id)):
        yield (i.occurred_at, i.channel, i.direction, i.subject, i.request, i.resolution,
               i.outcome, i.public_id)


def _feedback(customer_id):
    for f in (Feedback.select().where(Feedback.customer == customer_id)
              .order_by(Feedback.created_at, Feedback.id)):
        yield (f.created_at, f.category, f.rating, f.message, f.status, f.reply, f.replied_at,
               f.public_id)


def _answer_text(question, value, lang):
    """An answer as the customer saw it: choice codes become their labels."""
    if value is None:
        return ""
    labels = {str(c.get("value")): c.get(lang) or c.get("value")
              for c in (question.choices or []) if isinstance(c, dict)}
    if isinstance(value, list):
        return "; ".join(str(labels.get(str(v), v)) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return labels.get(str(value), value)


def _survey_answers(customer_id, lang):
    rows = (SurveyAnswer.select(SurveyAnswer, SurveyQuestion, SurveyResponse, Survey)
            .join(SurveyQuestion).switch(SurveyAnswer).join(SurveyResponse).join(Survey)
            .where(SurveyResponse.customer == customer_id)
            .order_by(SurveyResponse.submitted_at, SurveyResponse.id, SurveyQuestion.position,
                      SurveyQuestion.id))
    for a in rows:
        yield (a.response.submitted_at, getattr(a.response.survey, f"title_{lang}"),
               getattr(a.question, f"text_{lang}"), _answer_text(a.question, a.value, lang))


def _emails(customer_id):
    for m in (EmailMessage.select(EmailMessage.created_at, EmailMessage.subject,
                                  EmailMessage.to_addr, EmailMessage.kind)
              .where(EmailMessage.customer == customer_id)
              .order_by(EmailMessage.created_at, EmailMessage.id)):
        yield (m.created_at, m.subject, m.to_addr, m.kind)


def files(customer, lang):
    """{name: bytes} of everything in the download, for ``customer`` only."""
    lang = _lang(lang)
    gettext = _catalogue(lang).gettext
    cid = customer.id
    return {
        "card.json": card_json(customer, lang),
        "purchases.csv": _csv(PURCHASE_HEADER, _purchases(cid), gettext),
        "service_records.csv": _csv(SERVICE_HEADER, _service_records(cid), gettext),
        "interactions.csv": _csv(INTERACTION_HEADER, _interactions(cid), gettext),
        "feedback.csv": _csv(FEEDBACK_HEADER, _feedback(cid), gettext),
        "survey_answers.csv": _csv(SURVEY_HEADER, _survey_answers(cid, lang), gettext),
        "consent_history.csv": consent.history_csv(cid, lang),
        "emails.csv": _csv(EMAIL_HEADER, _emails(cid), gettext),
    }


def build_zip(customer, lang, business="", now=None):
    """(filename, ZIP bytes, names of the files in it) for ``customer``."""
    lang = _lang(lang)
    now = now or datetime.datetime.now(datetime.UTC)
    contents = files(customer, lang)
    readme = _catalogue(lang).gettext(README) % {"business": business,
                                                 "date": now.strftime("%Y-%m-%d")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        stamp = now.timetuple()[:6]
        archive.writestr(zipfile.ZipInfo("README.txt", stamp),
                         ("\ufeff" + readme + "\n").encode("utf-8"), zipfile.ZIP_DEFLATED)
        for name, body in contents.items():
            archive.writestr(zipfile.ZipInfo(name, stamp), body, zipfile.ZIP_DEFLATED)
    filename = f"customer-card-{customer.public_id}-{now.strftime('%Y%m%d')}.zip"
    return filename, buffer.getvalue(), ["README.txt", *contents]
