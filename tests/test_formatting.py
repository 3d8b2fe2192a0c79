"""The fast template formatters agree with Babel, per locale, in the business's time zone."""
import datetime
from decimal import Decimal

import pytest
from babel import numbers

from webcore import formatting


@pytest.fixture(params=["zh", "en"])
def locale_ctx(app, request):
    with app.portal.test_request_context("/", headers={"Accept-Language": request.param}):
        yield request.param


@pytest.mark.parametrize("amount", ["0", "1", "12.5", "-12345.5", "1234567.891", "999999999.99"])
@pytest.mark.parametrize("currency", ["CNY", "USD", "EUR", "JPY"])
def test_money_matches_babel(locale_ctx, amount, currency):
    value = Decimal(amount)
    assert formatting.money(value, currency) == numbers.format_currency(
        value, currency, locale=locale_ctx)


def test_numbers_and_dates(locale_ctx):
    assert formatting.number(1234567) == "1,234,567"
    assert formatting.number(Decimal("3.500")) == "3.5"
    # 20:00 UTC on 1 January is already 2 January in Shanghai
    evening = datetime.datetime(2026, 1, 1, 20, 0)
    expected = {"zh": "2026年1月2日", "en": "Jan 2, 2026"}[locale_ctx]
    assert formatting.date(evening) == expected
    assert "04:00" in formatting.datetime_(evening, "short") or "4:00" in formatting.datetime_(
        evening, "short")
    assert formatting.date(None) == "" and formatting.money(None, "CNY") == ""


def test_phone_formatting():
    assert formatting.phone("+8613800138000") == "+86 138 0013 8000"
    assert formatting.phone("not a number") == "not a number"
