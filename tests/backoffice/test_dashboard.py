"""The staff dashboard: the size of the book and the newest cards, read without a scan of
every card (SQLite before its first nightly ANALYZE included)."""
import datetime
import re

import models
from models import Customer
from tests import factories
from tests.sql import sqlite_plan, statements

EN = {"Accept-Language": "en"}


def test_the_dashboard_counts_live_cards_and_lists_the_newest(client, staff_login):
    staff_login(role="agent")
    made = [factories.make_customer(name=f"客户{n}", account=False)[0] for n in range(10)]
    for n, card in enumerate(made):
        Customer.update(created_at=datetime.datetime(2025, 1, 1 + n)).where(
            Customer.id == card.id).execute()
    Customer.update(erased_at=datetime.datetime(2025, 2, 1)).where(
        Customer.id == made[-1].id).execute()
    page = client.get("/staff/", headers=EN).get_data(as_text=True)
    newest = re.findall(r"客户\d", page)
    assert newest[:8] == [f"客户{n}" for n in range(8, 0, -1)]  # the erased one is not shown
    assert "客户9" not in page and re.search(r">\s*9\s*<", page)  # nine live cards


def test_sqlite_reads_the_newest_cards_along_their_index(client, staff_login):
    """Without statistics SQLite would read every live card through the erased_at index and
    sort them by date (100k cards: 190 ms); the query walks the created_at index instead."""
    staff_login(role="agent")
    factories.make_customer(name="张伟", account=False)
    with statements() as seen:
        assert client.get("/staff/", headers=EN).status_code == 200
    sql, params = next(m for m in seen if 'ORDER BY "t1"."created_at" DESC' in m[0])
    if models.is_postgres():
        return  # PostgreSQL's autovacuum keeps statistics; its plan is its own
    plan = sqlite_plan(sql, params)
    assert "TEMP B-TREE" not in plan and "customer_created_at" in plan, plan
