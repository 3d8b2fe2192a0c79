"""Display labels for the codes stored in the database (statuses, channels, kinds).

``label(group, code)`` in templates; a code without a label (free text typed by staff) is shown
as it is.
"""
import weakref

from flask_babel import get_locale

from webcore import i18n
from webcore.i18n import lazy_gettext as _l

LABELS = {
    "contact": {"email": _l("Email"), "mobile": _l("Mobile"), "phone": _l("Phone"),
                "wechat": _l("WeChat"), "social": _l("Social")},
    "status": {"prospect": _l("Prospect"), "active": _l("Active"), "dormant": _l("Dormant"),
               "lost": _l("Lost")},
    "channel": {"phone": _l("Phone"), "email": _l("Email"), "wechat": _l("WeChat"),
                "visit": _l("Visit"), "chat": _l("Online chat")},
    "sales_channel": {"store": _l("In store"), "online": _l("Online shop"),
                      "wechat_mall": _l("WeChat mall")},
    "payment": {"cash": _l("Cash"), "credit card": _l("Credit card"),
                "wechat_pay": _l("WeChat Pay"), "alipay": _l("Alipay"),
                "unionpay": _l("UnionPay")},
    "service_type": {"install": _l("Installation"), "repair": _l("Repair"),
                     "consult": _l("Consultation"), "treatment": _l("Treatment"),
                     "maintenance": _l("Maintenance")},
    "card_field": {"name": _l("Full name"), "alt_name": _l("Other name"),
                   "mobile": _l("Mobile"), "phone": _l("Other phone"), "wechat": _l("WeChat ID"),
                   "company": _l("Company"), "job_title": _l("Job title"),
                   "birthday": _l("Birthday"), "birthday_lunar": _l("Lunar birthday"),
                   "country": _l("Country or region"), "province": _l("Province"),
                   "city": _l("City"), "district": _l("District"),
                   "address": _l("Street address"), "postal_code": _l("Postal code"),
                   "preferred_language": _l("Language")},
    "mail_status": {"queued": _l("Queued"), "sent": _l("Sent"), "failed": _l("Failed")},
    # the customer card (edit form and records)
    "customer_kind": {"person": _l("Person"), "company": _l("Company")},
    "gender": {"male": _l("Male"), "female": _l("Female"), "other": _l("Other")},
    "order_status": {"completed": _l("Completed"), "pending": _l("Pending"),
                     "cancelled": _l("Cancelled"), "refunded": _l("Refunded")},
    "direction": {"inbound": _l("Inbound"), "outbound": _l("Outbound")},
    "outcome": {"resolved": _l("Resolved"), "pending": _l("Waiting"),
                "escalated": _l("Escalated"), "sale": _l("Sale"),
                "no_answer": _l("No answer")},
    "record_kind": {"purchase": _l("Purchase"), "service": _l("Service record"),
                    "interaction": _l("Interaction")},
    "mail_kind": {"notice": _l("Notice"), "login_link": _l("Sign-in link"),
                  "survey": _l("Survey"), "campaign": _l("Campaign"),
                  "invite": _l("Invitation"), "password_reset": _l("Password reset"),
                  "verify_email": _l("Email confirmation"), "optin": _l("Opt-in confirmation"),
                  "feedback_reply": _l("Feedback reply"),
                  "survey_reminder": _l("Survey reminder"),
                  "campaign_test": _l("Campaign test")},
    # email campaigns (services/campaigns.py) and their recipients
    "campaign_status": {"draft": _l("Draft"), "scheduled": _l("Scheduled"),
                        "sending": _l("Sending"), "paused": _l("Paused"),
                        "finished": _l("Finished"), "cancelled": _l("Cancelled")},
    "recipient_status": {"queued": _l("Waiting"), "sending": _l("Sending now"),
                         "sent": _l("Sent"), "failed": _l("Failed"),
                         "skipped_consent": _l("Skipped: no email-marketing consent"),
                         "skipped_erased": _l("Skipped: card erased"),
                         "skipped_no_email": _l("Skipped: no email address"),
                         "cancelled": _l("Cancelled"),
                         "skipped": _l("Skipped (any reason)"), "waiting": _l("Waiting")},
}


def label(group, code):
    """The translated label of ``code`` in ``group``, or the code itself. Translated once per
    catalogue: a list page labels hundreds of codes, each a gettext through Flask-Babel."""
    if code is None:
        return ""
    text = LABELS.get(group, {}).get(code)
    if text is None:
        return code
    translations = i18n.translations()
    cache = _LABEL_TEXTS.get(translations)
    if cache is None:
        cache = _LABEL_TEXTS[translations] = {}
    key = (group, code)
    found = cache.get(key)
    if found is None:
        found = cache[key] = str(text)
    return found


_LABEL_TEXTS = weakref.WeakKeyDictionary()  # translations object -> {(group, code): text}


_TRANSLATED = {}


class _Translated(dict):
    """Labels of one group; a code without a label (free text typed by staff) is itself."""

    def __missing__(self, code):
        return code


def translated(groups):
    """{group: {code: translated label}} for the current locale, built once per locale: a page
    that labels a few hundred codes looks each up in a dict instead of calling gettext."""
    locale = str(get_locale() or "zh")
    out = {}
    for group in groups:
        key = (locale, group)
        if key not in _TRANSLATED:
            _TRANSLATED[key] = _Translated((code, str(text))
                                           for code, text in LABELS[group].items())
        out[group] = _TRANSLATED[key]
    return out


def field_name(key, pref_fields):
    """The label of a card field, or of a preference ("pref:<key>", label from its CustomField
    in ``pref_fields``), as change requests name them."""
    if not key.startswith("pref:"):
        return label("card_field", key)
    field = pref_fields.get(key[len("pref:"):])
    if field is None:
        return key[len("pref:"):]
    return getattr(field, f"label_{str(get_locale() or 'zh')[:2]}", None) or field.label_zh
