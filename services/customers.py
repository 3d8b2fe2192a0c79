"""Creating customer cards (staff, import, demo, self-registration all come through here)."""
import models
from models import ContactPoint, Customer
from services import N_, DomainError, audit, tiers
from services.contacts import normalize_email, normalize_phone
from services.names import pinyin_keys

CARD_FIELDS = ("kind", "name", "alt_name", "gender", "birthday", "birthday_lunar", "company",
               "job_title", "industry", "company_size", "country", "province", "city",
               "district", "address", "postal_code", "source", "status", "owner", "notes",
               "special_requirements", "preferred_language", "tier")


def _contact_rows(email=None, mobile=None, wechat=None, region="CN"):
    rows = []
    if email:
        rows.append(("email", email.strip(), normalize_email(email)))
    if mobile:
        rows.append(("mobile", mobile.strip(), normalize_phone(mobile, region)))
    if wechat:
        rows.append(("wechat", wechat.strip(), wechat.strip().lower()))
    return rows


def create_customer(actor, email=None, mobile=None, wechat=None, **fields):
    """A new card with its primary contact points; validated, audited, one transaction."""
    unknown = set(fields) - set(CARD_FIELDS)
    if unknown:
        raise TypeError(f"not card fields: {sorted(unknown)}")
    name = (fields.get("name") or "").strip()
    if not name:
        raise DomainError(N_("Enter the customer's name."), "name")
    if len(name) > 200:
        raise DomainError(N_("The name is too long (200 characters at most)."), "name")
    contacts = _contact_rows(email, mobile, wechat, fields.get("country") or "CN")
    fields["name"] = name
    fields["name_pinyin"], fields["name_initials"] = pinyin_keys(name)
    by_kind = {kind: normalized for kind, _, normalized in contacts}
    with models.atomic():
        customer = Customer.create(primary_email=by_kind.get("email"),
                                   primary_mobile=by_kind.get("mobile"), **fields)
        for kind, value, normalized in contacts:
            ContactPoint.create(customer=customer, kind=kind, value=value, normalized=normalized,
                                is_primary=True)
        audit.record(actor, "customer.create", "customer", customer.public_id,
                     customer_id=customer.id,
                     after={"name": name, **{k: v for k, v in by_kind.items()}})
        # A new card starts in the tier the rules give it (the default tier, usually), with
        # the reason in its tier history, instead of "no tier" until the nightly pass.
        if "tier" not in fields:
            tiers.card_created(customer.id)
    return customer
