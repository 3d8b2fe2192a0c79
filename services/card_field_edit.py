"""The staff edit of a card's custom fields and ID number (version-checked, audited with
sensitive values masked), finding a card by its ID number, and revealing a sensitive value."""
import models
from models import Customer
from services import N_, DomainError, audit, crypto
from services.access import can
from services.custom_fields import ID_NUMBER, card_fields, display_value
from services.field_values import clean, clear_values, for_audit, save_values
from services.profile import FieldErrors

KEEP = object()  # "leave the stored ID number as it is"


def current_id_number(customer):
    return crypto.decrypt(customer.id_number_enc) if customer.id_number_enc else None


def update_card_fields(customer, submitted, actor, role, version=None):
    """A staff edit of the card's custom fields and ID number.

    ``submitted`` maps key -> raw value (the form sends every field the role sees; a key not
    submitted is left alone, one the role does not see is ignored). A sensitive field left
    blank keeps its value; ``submitted["clear"]`` (keys) removes values.
    Refuses a stale ``version`` (someone saved the card meanwhile). Returns the changed keys.
    """
    fields, cleaned, id_number = _clean_card_edit(dict(submitted), role)
    with models.atomic():
        _check_version(customer, version)
        before = clear_values(customer, list(fields.values()))
        changed = {k: v for k, v in cleaned.items() if v != before.get(k)}
        stored_id = Customer.select(Customer.id_number_enc).where(
            Customer.id == customer.id).scalar()
        before[ID_NUMBER] = crypto.decrypt(stored_id) if stored_id else None
        if id_number is not KEEP and id_number != before[ID_NUMBER]:
            changed[ID_NUMBER] = id_number
        if not changed:
            return []
        save_values(customer, fields, {k: v for k, v in changed.items() if k in fields})
        columns = {"updated_at": models.utcnow(), "version": Customer.version + 1}
        if ID_NUMBER in changed:
            columns.update(id_number_enc=id_number and crypto.encrypt(id_number),
                           id_number_hmac=id_number and crypto.lookup_hash(id_number))
        Customer.update(**columns).where(Customer.id == customer.id).execute()
        fields_of = {**fields, ID_NUMBER: None}
        audit.record(actor, "customer.fields", "customer", customer.public_id,
                     customer_id=customer.id,
                     before={k: for_audit(fields_of[k], before.get(k)) for k in changed},
                     after={k: for_audit(fields_of[k], v) for k, v in changed.items()})
    return sorted(changed)


def _clean_card_edit(submitted, role):
    """({key: CustomField} touched, {key: cleaned value}, ID number or KEEP), or FieldErrors
    naming every wrong field."""
    clear = set(submitted.pop("clear", None) or ())
    fields = {f.key: f for f in card_fields(role) if f.key in submitted or f.key in clear}
    for key in [k for k, f in fields.items() if f.sensitive and k not in clear
                and submitted.get(k) in (None, "", [])]:
        fields.pop(key)  # a blank sensitive input keeps the value (it is never shown)
    errors, cleaned = {}, {}
    try:
        cleaned = clean({k: f for k, f in fields.items() if k not in clear}, submitted)
    except FieldErrors as exc:
        errors.update(exc.errors)
    cleaned.update({k: None for k in clear if k in fields})
    id_number = _clean_id(submitted.get(ID_NUMBER), ID_NUMBER in clear, errors)
    if errors:
        raise FieldErrors(errors)
    return fields, cleaned, id_number


def _clean_id(raw, clear, errors):
    """The new ID number, None to remove it, or KEEP the current one."""
    if clear:
        return None
    if raw in (None, ""):
        return KEEP
    try:
        return crypto.clean_id_number(raw)
    except DomainError as exc:
        errors[ID_NUMBER] = (exc.message, exc.params)
        return KEEP


def _check_version(customer, version):
    if models.is_postgres():
        list(Customer.select(Customer.id).where(Customer.id == customer.id).for_update())
    if version is None:
        return
    current = Customer.select(Customer.version).where(Customer.id == customer.id).scalar()
    if str(current) != str(version):
        raise DomainError(N_("Someone else saved this card while you were editing it. "
                             "Reload the card and make your change again."))


def find_by_id_number(raw):
    """The live card with this ID number (exact match through the lookup hash), or None."""
    number = crypto.clean_id_number(raw)
    return Customer.get_or_none(Customer.id_number_hmac == crypto.lookup_hash(number),
                                Customer.erased_at.is_null())


# --- revealing ------------------------------------------------------------------------------------

def reveal(customer, key, actor, role):
    """The clear value of a sensitive field on the card, for a role that may reveal it; the
    reveal is audited. Raises DomainError if there is nothing to reveal."""
    if not can(role, "sensitive.reveal"):
        raise DomainError(N_("Your role may not reveal sensitive values."))
    if key == ID_NUMBER:
        field, value = None, current_id_number(customer)
    else:
        field = next((f for f in card_fields(role) if f.key == key and f.sensitive), None)
        value = clear_values(customer, [field]).get(key) if field else None
    if value in (None, "", []):
        raise DomainError(N_("There is no value to reveal."))
    audit.record(actor, "sensitive.reveal", "customer", customer.public_id,
                 customer_id=customer.id, after={"field": key})
    return display_value(field, value) if field else value
