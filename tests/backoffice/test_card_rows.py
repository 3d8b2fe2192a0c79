"""The card list's rows (backoffice.card_rows, built in Python): every column as the list
shows it, escaped; the tick box only for staff who may edit."""
import datetime
import re
from decimal import Decimal

from models import Customer
from services.demo.reference import ensure_tiers
from tests import factories

EN = {"Accept-Language": "en"}
HOSTILE = '<script>alert("x")</script>&\''


def _row(body, public_id):
    rows = re.findall(r"<tr>.*?</tr>", body.split("<tbody>")[1], re.S)
    found = [row for row in rows if f"/staff/cards/{public_id}\"" in row]
    assert len(found) == 1, rows
    return found[0]


def test_every_column_shown_and_escaped(client, staff_login, db):
    ensure_tiers()
    staff_login(role="agent")
    card, _ = factories.make_customer(name=HOSTILE, mobile="13812345678",
                                      email="row@example.com", alt_name=HOSTILE,
                                      company=HOSTILE, city=HOSTILE)
    Customer.update(total_spend=Decimal("12345.6"), status="dormant",
                    last_contact_at=datetime.datetime(2026, 3, 4, 12, 0)).where(
        Customer.id == card.id).execute()
    body = client.get("/staff/cards/results", headers=EN).get_data(as_text=True)
    row = _row(body, card.public_id)
    escaped = "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;&amp;&#39;"
    assert "<script>" not in row
    assert row.count(escaped) == 5  # name (link and tick-box label), alias, company, city
    assert f'aria-label="Select {escaped}"' in row
    assert f'value="{card.public_id}"' in row
    assert "+86 138 1234 5678" in row and "row@example.com" in row
    assert "¥12,345.60</td>" in row and "Mar 4, 2026" in row
    assert 'status-dormant"></span> Dormant' in row
    tier = Customer.get_by_id(card.id).tier
    if tier is not None:
        assert f'data-tier="{tier.code}">{tier.name_en}</span>' in row


def test_viewers_get_no_tick_box_and_chinese_labels(client, staff_login, db):
    staff_login(role="viewer")
    card, _ = factories.make_customer(name="张三")
    body = client.get("/staff/cards/results", headers={"Accept-Language": "zh"}).get_data(
        as_text=True)
    row = _row(body, card.public_id)
    assert 'type="checkbox"' not in row
    assert ">张三</a>" in row and "潜在客户" in row  # status "prospect" in Chinese
