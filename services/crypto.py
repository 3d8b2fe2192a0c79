"""Sensitive values at rest: encryption with key rotation (MultiFernet), an HMAC for exact
lookups without decrypting, masking for display, and the 身份证 (ID number) rules.

Keys come from the settings (``FIELD_ENCRYPTION_KEYS``: comma-separated Fernet keys, the first
one encrypts, all of them decrypt; ``FIELD_HMAC_KEY`` for lookups), never from the database.
Without them a development key is derived from ``SECRET_KEY``; production refuses to guess.
"""
import base64
import datetime
import hashlib
import hmac
import json
import re
import unicodedata

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from config import ConfigError
from services import N_, DomainError, runtime

ENC_KEY = "enc"  # a stored sensitive value is {"enc": "<Fernet token>"}
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID18_RE = re.compile(r"\d{17}[\dX]")
ID15_RE = re.compile(r"\d{15}")

_cache = {}


class UnreadableValue(Exception):
    """A ciphertext that none of the configured keys opens (a key was removed too early)."""


def _derive(secret, purpose):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                info=f"customer-cards {purpose}".encode()).derive(secret.encode("utf-8"))


def _settings():
    runtime.get("SECRET_KEY")  # configures the settings on first use (CLI, scripts)
    return {name: runtime.settings.get(name)
            for name in ("FIELD_ENCRYPTION_KEYS", "FIELD_HMAC_KEY", "SECRET_KEY", "ENV")}


def _keys():
    """(MultiFernet, hmac key) for the current settings, built once per settings value."""
    settings = _settings()
    cache_key = tuple(sorted((k, str(v)) for k, v in settings.items()))
    if _cache.get("key") != cache_key:
        _cache.update(key=cache_key, value=_build(settings))
    return _cache["value"]


def _build(settings):
    production = settings["ENV"] == "production"
    raw = [k.strip() for k in (settings["FIELD_ENCRYPTION_KEYS"] or "").split(",") if k.strip()]
    if not raw:
        if production:
            raise ConfigError("FIELD_ENCRYPTION_KEYS must be set when CC_ENV=production")
        raw = [base64.urlsafe_b64encode(_derive(settings["SECRET_KEY"], "field encryption"))
               .decode()]
    try:
        fernet = MultiFernet([Fernet(key) for key in raw])
    except ValueError as exc:
        raise ConfigError("FIELD_ENCRYPTION_KEYS holds a key that is not a Fernet key "
                          "(print one with `cards rotate-keys --new-key`)") from exc
    hmac_secret = settings["FIELD_HMAC_KEY"]
    if not hmac_secret and production:
        raise ConfigError("FIELD_HMAC_KEY must be set when CC_ENV=production")
    return fernet, _derive(hmac_secret or settings["SECRET_KEY"], "field lookup")


def new_key():
    """A fresh Fernet key to put first in FIELD_ENCRYPTION_KEYS."""
    return Fernet.generate_key().decode()


def encrypt(text):
    """Ciphertext (a Fernet token, ASCII) of ``text`` under the newest key."""
    return _keys()[0].encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token):
    """The clear text of a token made under any configured key."""
    try:
        return _keys()[0].decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise UnreadableValue("no configured key opens this value") from exc


def rotate(token):
    """The same value encrypted under the newest key."""
    try:
        return _keys()[0].rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise UnreadableValue("no configured key opens this value") from exc


def lookup_hash(text):
    """The HMAC-SHA256 (hex) used to find a value by exact match without decrypting."""
    return hmac.new(_keys()[1], text.encode("utf-8"), hashlib.sha256).hexdigest()


# --- any JSON value (sensitive custom fields) ----------------------------------------------------

def seal(value):
    """A JSON value as stored for a sensitive field: {"enc": token}; None stays None."""
    if value is None:
        return None
    return {ENC_KEY: encrypt(json.dumps(value, ensure_ascii=False))}


def is_sealed(stored):
    return isinstance(stored, dict) and isinstance(stored.get(ENC_KEY), str)


def unseal(stored):
    """The clear JSON value of a stored one (sealed or, for a field not yet sensitive, clear)."""
    if is_sealed(stored):
        return json.loads(decrypt(stored[ENC_KEY]))
    return stored


# --- masking -------------------------------------------------------------------------------------

def mask(value):
    """A value as lists and the card show it: the ends kept, the middle starred
    (an 18-character ID number becomes 110***********1234)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, list):
        value = ",".join(str(v) for v in value)
    text = str(value)
    if len(text) <= 2:
        return "*" * len(text)
    if len(text) <= 7:
        return text[0] + "*" * (len(text) - 2) + text[-1]
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


# --- the ID number (居民身份证号码) ---------------------------------------------------------------

def id_checksum(first17):
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS)) % 11]


def clean_id_number(raw):
    """The 18-character ID number from what was typed (spaces, full-width digits, lower-case x
    allowed; a 15-digit first-generation number is converted), or DomainError."""
    text = unicodedata.normalize("NFKC", str(raw or "")).replace(" ", "").replace("-", "")
    text = text.upper()
    if not text:
        return None
    if ID15_RE.fullmatch(text):
        body = text[:6] + "19" + text[6:]
        text = body + id_checksum(body)
    if not ID18_RE.fullmatch(text):
        raise DomainError(N_("An ID number has 18 characters: 17 digits and a digit or X."),
                          "id_number")
    try:
        born = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise DomainError(N_("This ID number holds a date of birth that does not exist."),
                          "id_number") from exc
    if not datetime.date(1900, 1, 1) <= born <= datetime.date.today():
        raise DomainError(N_("This ID number holds a date of birth that does not exist."),
                          "id_number")
    if id_checksum(text[:17]) != text[17]:
        raise DomainError(N_("This ID number's check digit is wrong: please check it."),
                          "id_number")
    return text
