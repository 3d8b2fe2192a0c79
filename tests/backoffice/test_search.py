"""The search box: on every back-office page, as you type (the htmx fragment) and as a plain
GET form; results show what staff need and escape what customers typed."""
from tests import factories

EN = {"Accept-Language": "en"}


def test_the_search_box_is_on_every_page_and_finds_a_card(client, staff_login):
    factories.make_customer(name="张伟", mobile="13812345678", company="星河贸易",
                            account=False)
    factories.make_customer(name="李雷", mobile="13900001111", account=False)
    staff_login(role="viewer")
    dashboard = client.get("/staff/", headers=EN).get_data(as_text=True)
    assert 'action="/staff/cards/"' in dashboard and 'name="q"' in dashboard
    page = client.get("/staff/cards/?q=张伟", headers=EN).get_data(as_text=True)
    assert "张伟" in page and "李雷" not in page and "星河贸易" in page
    assert "138 1234 5678" in page  # staff see the full mobile
    assert "1 card" in page


def test_the_fragment_answers_as_you_type(client, staff_login):
    factories.make_customer(name="张伟", mobile="13812345678", account=False)
    factories.make_customer(name="李雷", mobile="13900001111", account=False)
    staff_login(role="agent")
    page = client.get("/staff/cards/", headers=EN).get_data(as_text=True)
    assert 'hx-get="/staff/cards/results"' in page
    assert 'hx-trigger="input changed delay:250ms, search"' in page
    response = client.get("/staff/cards/results?q=1111", headers={**EN, "HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert "李雷" in body and "张伟" not in body
    assert response.headers["HX-Push-Url"] == "/staff/cards/?q=1111"
    for query in ("zw", "zhangwei", "5678", "张"):
        body = client.get(f"/staff/cards/results?q={query}").get_data(as_text=True)
        assert "张伟" in body and "李雷" not in body, query


def test_results_escape_what_customers_typed(client, staff_login):
    factories.make_customer(name="<script>alert(1)</script>", company="<b>Evil</b>",
                            account=False)
    staff_login()
    body = client.get("/staff/cards/results?q=script").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "&lt;b&gt;Evil" in body
    page = client.get("/staff/cards/?q=<script>").get_data(as_text=True)
    assert 'value="&lt;script&gt;"' in page


def test_odd_queries_never_fail(client, staff_login):
    factories.make_customer(name="张伟", account=False)
    staff_login()
    for query in ('"', "%", "_", "\\", "a\x00b", "x" * 500, "AND OR NOT", "*", "(", "NEAR(a b)",
                  "column:x", "\u202e"):
        assert client.get("/staff/cards/results", query_string={"q": query}).status_code == 200
