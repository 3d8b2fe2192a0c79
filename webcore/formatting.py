"""Fast per-locale formatting for templates: money, numbers, dates, times, phone numbers.

Flask-Babel's filters look up the locale and time zone and re-read CLDR data on every call; a
card page formats a few hundred values, so that cost dominated its render. Here the locale and
zone are looked up once per request, number shapes once per locale, and dates are cached.
"""
import datetime
from decimal import Decimal
from functools import lru_cache

import phonenumbers
from babel import dates, numbers
from flask import g
from flask_babel import get_locale, get_timezone

_UTC = datetime.UTC
_CENT = Decimal("0.01")


def _context():
    """(locale code, tz name) of this request, computed once."""
    ctx = g.get("_cc_format")
    if ctx is None:
        ctx = g._cc_format = (str(get_locale() or "zh"), str(get_timezone()))
    return ctx


@lru_cache(maxsize=128)
def _currency_shape(currency, locale):
    """(prefix, suffix, group, decimal) of a currency amount in a locale, e.g. ("¥", "", ",", ".")."""
    sample = numbers.format_currency(Decimal("1234567.89"), currency, locale=locale)
    start, end = sample.find("1"), sample.rfind("9")
    if start < 0 or end < 0 or numbers.get_currency_precision(currency) != 2:
        return None
    return sample[:start], sample[end + 1:], sample[start + 1], sample[end - 2]


def money(amount, currency):
    return _money(amount, currency, _context()[0])


def _money(amount, currency, locale):
    if amount is None:
        return ""
    shape = _currency_shape(currency, locale)
    value = Decimal(amount)
    if shape is None:
        return numbers.format_currency(value, currency, locale=locale)
    prefix, suffix, group, point = shape
    value = value.quantize(_CENT)
    digits = f"{abs(value):,.2f}".replace(",", "\0").replace(".", point).replace("\0", group)
    return ("-" if value < 0 else "") + prefix + digits + suffix


@lru_cache(maxsize=16)
def _number_symbols(locale):
    return numbers.get_group_symbol(locale), numbers.get_decimal_symbol(locale)


def number(value):
    return _number(value, _context()[0])


def _number(value, locale):
    if value is None:
        return ""
    group, point = _number_symbols(locale)
    if isinstance(value, int) or (isinstance(value, Decimal) and value == value.to_integral()):
        return f"{int(value):,}".replace(",", group)
    text = f"{Decimal(value).normalize():,f}"
    return text.replace(",", "\0").replace(".", point).replace("\0", group)


def _local(value, tz):
    """A naive UTC datetime moved into the business's zone."""
    return value.replace(tzinfo=_UTC).astimezone(dates.get_timezone(tz))


@lru_cache(maxsize=8192)
def _date(value, fmt, locale, tz):
    if isinstance(value, datetime.datetime):
        value = _local(value, tz).date()
    return dates.format_date(value, fmt, locale=locale)


@lru_cache(maxsize=8192)
def _datetime(value, fmt, locale, tz):
    return dates.format_datetime(_local(value, tz), fmt, tzinfo=dates.get_timezone(tz),
                                 locale=locale)


def date(value, fmt="medium"):
    """A date, or the local date of a UTC datetime."""
    return "" if value is None else _date(value, fmt, *_context())


def datetime_(value, fmt="medium"):
    """A UTC datetime shown in the business's time zone."""
    if value is None:
        return ""
    return _datetime(value.replace(second=0, microsecond=0), fmt, *_context())


@lru_cache(maxsize=4096)
def phone(value):
    """An E.164 number as people write it: +86 138 0013 8000; anything else as it is."""
    try:
        parsed = phonenumbers.parse(value or "", None)
    except phonenumbers.NumberParseException:
        return value or ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


class Formatter:
    """``money``, ``number`` and ``datetime_`` bound to this request's locale and zone, looked
    up once: for a loop that formats a few hundred values."""

    def __init__(self):
        self.locale, self.tz = _context()

    def money(self, amount, currency):
        return _money(amount, currency, self.locale)

    def number(self, value):
        return _number(value, self.locale)

    def datetime_(self, value, fmt="medium"):
        if value is None:
            return ""
        return _datetime(value.replace(second=0, microsecond=0), fmt, self.locale, self.tz)
