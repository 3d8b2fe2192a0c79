"""Normalising contact points: email addresses and phone numbers (+86 first)."""
import unicodedata

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from services import N_, DomainError


def normalize_email(raw, field="email"):
    """The canonical form of an email address, or a DomainError saying what is wrong with it.

    Chinese (SMTPUTF8) local parts are refused at input: many mail servers in the path still
    reject them, and a card whose address cannot receive mail is worse than a clear message.
    """
    value = unicodedata.normalize("NFKC", (raw or "")).strip()
    if not value:
        raise DomainError(N_("Enter an email address."), field)
    if len(value) > 254:
        raise DomainError(N_("This email address is too long."), field)
    try:
        info = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise DomainError(N_("This is not a valid email address."), field) from exc
    return info.normalized.lower()


def normalize_phone(raw, region="CN", field="mobile"):
    """E.164 form of a phone number. Accepts full-width digits, spaces, dashes, +86 and 0086."""
    value = unicodedata.normalize("NFKC", (raw or "")).strip()
    if not value:
        raise DomainError(N_("Enter a phone number."), field)
    if len(value) > 32:
        raise DomainError(N_("This phone number is too long."), field)
    if value.startswith("00"):
        value = "+" + value[2:]
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise DomainError(N_("This is not a valid phone number."), field) from exc
    if not phonenumbers.is_valid_number(number):
        raise DomainError(N_("This is not a valid phone number."), field)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
