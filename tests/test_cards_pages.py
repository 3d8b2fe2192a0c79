"""The staff card list and card page: what they show, and a bounded number of queries."""
from models import Interaction, ServiceRecord
from tests import factories
from tests.sql import messages as count_queries  # counts lines: other tests import it too


def _card_queries(client, customer):
    """The SQL statements one card page runs (after a first visit has planned its queries)."""
    client.get(f"/staff/cards/{customer.public_id}")
    with count_queries() as seen:
        page = client.get(f"/staff/cards/{customer.public_id}").get_data(as_text=True)
    return page, [q for q in seen if "SELECT" in q or "INSERT" in q or "UPDATE" in q]


def test_card_page_shows_the_card_in_a_fixed_number_of_queries(client, staff_login):
    staff = staff_login(role="agent")
    customer, _ = factories.make_customer(name="张伟", mobile="13800138000", company="华为",
                                          city="深圳", province="广东",
                                          notes="<script>alert(1)</script>")
    for n in range(30):
        factories.make_purchase(customer, amount=f"{n + 1}00.00", product=f"商品{n}")
        Interaction.create(customer=customer, channel="phone", staff=staff, subject=f"回访{n}")
        ServiceRecord.create(customer=customer, service_type="repair", staff=staff,
                             description=f"维修{n}")
    page, queries = _card_queries(client, customer)
    assert "张伟" in page and "+86 138 0013 8000" in page and "商品29" in page
    assert "回访29" in page and "维修29" in page and staff.name in page
    assert "¥46,500.00" in page  # the total of 30 purchases, kept on the card
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    # The card's own 8 (card with tier, owner and portal sign-in; purchases, services,
    # interactions; contacts; tags; open tasks; preferences), the session, the nav badge, and
    # the custom-field and tier panels.
    assert len(queries) <= 13, queries
    for n in range(30, 80):  # more records, same queries: nothing is loaded per row
        factories.make_purchase(customer, amount="1.00", product=f"商品{n}")
        Interaction.create(customer=customer, channel="phone", staff=staff, subject=f"回访{n}")
    page, more = _card_queries(client, customer)
    assert len(more) == len(queries) and "回访79" in page and "回访29" not in page


def test_record_tabs_load_each_kind_as_a_table(client, staff_login):
    staff_login(role="viewer")
    customer, _ = factories.make_customer()
    factories.make_purchase(customer, product="<b>礼盒</b>", payment_method="alipay")
    tab = client.get(f"/staff/cards/{customer.public_id}/purchase/",
                     headers={"HX-Request": "true", "Accept-Language": "en"})
    text = tab.get_data(as_text=True)
    assert tab.status_code == 200 and "<html" not in text and "Alipay" in text
    assert "&lt;b&gt;礼盒" in text and "/edit" not in text  # a viewer gets no edit links
    page = client.get(f"/staff/cards/{customer.public_id}/purchase/").get_data(as_text=True)
    assert "<html" in page and "&lt;b&gt;礼盒" in page
    assert client.get(f"/staff/cards/{customer.public_id}/refund/").status_code == 404


def test_list_page_is_paginated_with_a_bounded_number_of_queries(client, staff_login):
    staff_login(role="viewer")
    for n in range(55):
        factories.make_customer(name=f"客户{n:02d}", account=False)
    with count_queries() as queries:
        first = client.get("/staff/cards/", headers={"Accept-Language": "en"})
    text = first.get_data(as_text=True)
    assert text.count('href="/staff/cards/') - text.count('href="/staff/cards/?') >= 50
    assert "Page 1 of 2" in text and "55 cards" in text
    assert len(queries) <= 6, queries
    second = client.get("/staff/cards/?page=2").get_data(as_text=True)
    assert "客户00" in second  # oldest last


def test_unknown_card_is_404(client, staff_login):
    staff_login()
    assert client.get("/staff/cards/nope").status_code == 404
