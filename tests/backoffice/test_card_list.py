"""The staff card list: filters, sort, pagination, saved views and bulk actions."""
import datetime
import re

import models
from models import (
    AuditEvent,
    ConsentEvent,
    Customer,
    CustomerTag,
    CustomField,
    CustomFieldValue,
)
from services import audit
from services.demo.reference import ensure_purposes, ensure_tiers
from tests import factories
from tests.conftest import csrf_from

EN = {"Accept-Language": "en"}


def names(client, query=""):
    """Names of the cards the list shows, in order."""
    body = client.get("/staff/cards/results" + query, headers=EN).get_data(as_text=True)
    return re.findall(r'<a href="/staff/cards/[^"]+">([^<]+)</a>', body)


def post(client, path, data):
    token = csrf_from(client, "/staff/cards/")
    return client.post(path, data={"csrf_token": token, **data}, headers=EN)


def _card(name, **fields):
    return factories.make_customer(name=name, account=False, **fields)[0]


def test_filters_narrow_the_list(client, staff_login):
    tiers, _ = ensure_tiers()
    gold = next(t for t in tiers.values() if t.rank == max(x.rank for x in tiers.values()))
    me = staff_login(role="agent")
    other = factories.make_staff()
    a = _card("张伟", city="上海", province="上海", source="wechat", industry="retail",
              status="active", tier=gold.id, owner=me.id)
    b = _card("李雷", city="北京", province="北京", source="walk_in", status="lost",
              owner=other.id)
    c = _card("王芳", city="上海", province="上海", source="wechat")
    now = models.utcnow()
    Customer.update(last_purchase_at=now - datetime.timedelta(days=400),
                    last_contact_at=now - datetime.timedelta(days=3)).where(
        Customer.id == a.id).execute()
    Customer.update(last_purchase_at=now - datetime.timedelta(days=10)).where(
        Customer.id == b.id).execute()
    assert set(names(client, "?city=上海")) == {"张伟", "王芳"}
    assert names(client, "?city=上海&source=wechat&industry=retail") == ["张伟"]
    assert names(client, "?status=lost") == ["李雷"]
    assert names(client, f"?tier={gold.code}") == ["张伟"]
    default = next(t for t in tiers.values() if t.is_default)  # new cards start there
    assert set(names(client, f"?tier={default.code}")) == {"李雷", "王芳"}
    Customer.update(tier=None).where(Customer.id == b.id).execute()
    assert names(client, "?tier=none") == ["李雷"]
    assert names(client, "?owner=me") == ["张伟"]
    assert names(client, f"?owner={other.public_id}") == ["李雷"]
    assert names(client, "?owner=none") == ["王芳"]
    today = datetime.date.today()
    since = (today - datetime.timedelta(days=30)).isoformat()
    assert names(client, f"?purchase_from={since}") == ["李雷"]
    assert names(client, f"?purchase_to={since}") == ["张伟"]
    assert names(client, f"?contact_from={since}&contact_to={today.isoformat()}") == ["张伟"]
    assert names(client, "?purchase_from=not-a-date") == []
    CustomerTag.create(customer=c, tag=models.Tag.create(name="VIP"))
    assert names(client, "?tag=VIP") == ["王芳"]
    assert names(client, "?tag=VIP&city=北京") == []


def test_consent_filter_reads_the_latest_event_under_the_current_policy(client, staff_login):
    purposes, _ = ensure_purposes(models.utcnow())
    email = purposes["email_marketing"]
    staff_login(role="marketer")
    yes, withdrawn = _card("甲"), _card("丙")
    _card("乙")
    t0 = models.utcnow() - datetime.timedelta(hours=2)
    for customer, grants in ((yes, [True]), (withdrawn, [True, False])):
        for i, granted in enumerate(grants):
            ConsentEvent.create(customer=customer, purpose=email, granted=granted,
                                policy_version=1, source="staff", actor_kind="system",
                                created_at=t0 + datetime.timedelta(minutes=i))
    assert names(client, "?consent=email_marketing&consent_state=granted") == ["甲"]
    assert set(names(client, "?consent=email_marketing&consent_state=not")) == {"乙", "丙"}
    email.current_version = 2  # a new policy version: the old grant no longer counts
    email.save()
    assert names(client, "?consent=email_marketing&consent_state=granted") == []


def test_custom_field_equality(client, staff_login):
    staff_login()
    size = CustomField.create(key="size", label_zh="尺码", label_en="Size", kind="choice",
                              choices=[{"value": "M", "zh": "中", "en": "M"},
                                       {"value": "L", "zh": "大", "en": "L"}])
    vegan = CustomField.create(key="vegan", label_zh="素食", label_en="Vegan", kind="bool")
    note = CustomField.create(key="nick", label_zh="昵称", label_en="Nickname", kind="text")
    a, b = _card("张伟"), _card("李雷")
    CustomFieldValue.create(customer=a, field=size, value="M")
    CustomFieldValue.create(customer=b, field=size, value="L")
    CustomFieldValue.create(customer=a, field=vegan, value=True)
    CustomFieldValue.create(customer=b, field=note, value="小李")
    assert names(client, "?cf_size=M") == ["张伟"]
    assert names(client, "?cf_vegan=yes") == ["张伟"]
    assert names(client, "?cf_vegan=yes&cf_size=L") == []
    assert names(client, "?cf_nick=小李") == ["李雷"]
    assert names(client, "?cf_unknown=1") == []
    page = client.get("/staff/cards/", headers=EN).get_data(as_text=True)
    assert 'name="cf_size"' in page and 'name="cf_vegan"' in page


def test_sort_and_pagination(client, staff_login):
    staff_login()
    for i, name in enumerate(["赵六", "Alice", "王芳", "张伟"]):
        card = _card(name)
        Customer.update(total_spend=i * 100).where(Customer.id == card.id).execute()
    assert names(client, "?sort=name") == ["Alice", "王芳", "张伟", "赵六"]  # pinyin order
    assert names(client, "?sort=spend") == ["张伟", "王芳", "Alice", "赵六"]
    assert names(client, "?sort=newest") == ["张伟", "王芳", "Alice", "赵六"]
    for n in range(50):
        _card(f"测试{n:02d}")
    first = client.get("/staff/cards/?sort=name", headers=EN).get_data(as_text=True)
    assert "54 cards" in first and "page=2" in first and "sort=name" in first
    assert len(names(client, "?sort=name&page=2")) == 4


def test_saved_views_are_per_user(client, staff_login):
    staff = staff_login()
    _card("张伟", city="上海")
    _card("李雷", city="北京")
    response = post(client, "/staff/cards/views", {"view_name": "上海客户", "city": "上海",
                                                   "tag": "VIP", "bogus": "x"})
    assert response.headers["Location"] == "/staff/cards/?city=%E4%B8%8A%E6%B5%B7&tag=VIP"
    view = models.SavedView.get()
    assert view.staff_id == staff.id and view.query == [["city", "上海"], ["tag", "VIP"]]
    page = client.get("/staff/cards/", headers=EN).get_data(as_text=True)
    assert "上海客户" in page
    opened = client.get(f"/staff/cards/views/{view.id}")
    assert opened.headers["Location"] == "/staff/cards/?city=%E4%B8%8A%E6%B5%B7&tag=VIP"
    assert post(client, "/staff/cards/views", {"view_name": ""}).status_code == 302
    assert models.SavedView.select().count() == 1  # a nameless view is refused
    # another member neither sees nor deletes it
    staff_login()
    assert "上海客户" not in client.get("/staff/cards/").get_data(as_text=True)
    assert client.get(f"/staff/cards/views/{view.id}").status_code == 404
    assert post(client, f"/staff/cards/views/{view.id}/delete", {}).status_code == 404
    assert models.SavedView.select().count() == 1


def test_deleting_my_view(client, staff_login):
    staff_login()
    post(client, "/staff/cards/views", {"view_name": "<b>mine</b>", "status": "active"})
    view = models.SavedView.get()
    assert "&lt;b&gt;mine&lt;/b&gt;" in client.get("/staff/cards/").get_data(as_text=True)
    response = post(client, f"/staff/cards/views/{view.id}/delete", {})
    assert response.headers["Location"] == "/staff/cards/"
    assert models.SavedView.select().count() == 0


def test_bulk_actions_on_ticked_rows(client, staff_login):
    agent = staff_login(role="agent")
    a, b, c = _card("张伟"), _card("李雷"), _card("王芳")
    response = post(client, "/staff/cards/bulk", {"action": "status", "status_value": "active",
                                                  "scope": "selected",
                                                  "ids": [a.public_id, b.public_id]})
    assert response.status_code == 302
    assert {x.status for x in Customer.select().where(Customer.id.in_([a.id, b.id]))} == {
        "active"}
    assert Customer.get_by_id(c.id).status == "prospect"
    assert Customer.get_by_id(a.id).version == a.version + 1
    events = list(AuditEvent.select().where(AuditEvent.action == "customer.bulk_status"))
    assert len(events) == 2 and {e.customer_id for e in events} == {a.id, b.id}
    assert events[0].before == {"status": "prospect"} and events[0].after == {"status": "active"}
    post(client, "/staff/cards/bulk", {"action": "owner", "owner_value": agent.public_id,
                                       "scope": "selected", "ids": [c.public_id]})
    assert Customer.get_by_id(c.id).owner_id == agent.id
    post(client, "/staff/cards/bulk", {"action": "tag", "tag_value": "回访", "scope": "selected",
                                       "ids": [a.public_id, c.public_id]})
    assert CustomerTag.select().count() == 2
    assert audit.verify_chain() == (True, None)
    bad = post(client, "/staff/cards/bulk", {"action": "status", "status_value": "bogus",
                                             "scope": "selected", "ids": [a.public_id]})
    assert bad.status_code == 302 and Customer.get_by_id(a.id).status == "active"


def test_bulk_on_all_matching_asks_first_then_applies_in_one_go(client, staff_login):
    staff_login(role="manager")
    for n in range(12):
        _card(f"上海{n}", city="上海")
    beijing = _card("李雷", city="北京")
    data = {"action": "tag", "tag_value": "上海会员", "scope": "all", "city": "上海"}
    confirm = post(client, "/staff/cards/bulk", data)
    body = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "12 cards" in body and 'name="confirmed" value="12"' in body
    assert CustomerTag.select().count() == 0  # nothing yet
    done = post(client, "/staff/cards/bulk", {**data, "confirmed": "12"})
    assert done.headers["Location"].startswith("/staff/cards/?city=")
    assert CustomerTag.select().count() == 12
    assert not CustomerTag.select().where(CustomerTag.customer == beijing).exists()
    assert AuditEvent.select().where(AuditEvent.action == "customer.bulk_tag").count() == 12
    again = post(client, "/staff/cards/bulk", {**data, "confirmed": "12"})
    assert again.status_code == 302 and CustomerTag.select().count() == 12  # already tagged
    # a stale confirmation (the count changed) asks again
    _card("上海新", city="上海")
    stale = post(client, "/staff/cards/bulk", {**data, "confirmed": "12"})
    assert stale.status_code == 200 and "13 cards" in stale.get_data(as_text=True)


def test_viewers_cannot_bulk_edit(client, staff_login):
    staff_login(role="viewer")
    a = _card("张伟")
    page = client.get("/staff/cards/").get_data(as_text=True)
    assert "bulk-form" not in page
    response = client.post("/staff/cards/bulk", data={
        "csrf_token": csrf_from(client, "/staff/cards/"), "action": "status",
        "status_value": "lost", "scope": "selected", "ids": [a.public_id]})
    assert response.status_code == 403 and Customer.get_by_id(a.id).status == "prospect"


def test_bulk_without_csrf_is_refused(client, staff_login):
    staff_login(role="agent")
    a = _card("张伟")
    response = client.post("/staff/cards/bulk", data={
        "action": "status", "status_value": "lost", "scope": "selected", "ids": [a.public_id]})
    assert response.status_code == 400 and Customer.get_by_id(a.id).status == "prospect"


def test_a_search_with_filters_stops_counting_at_the_cap(client, staff_login, monkeypatch):
    from backoffice import cards as cards_view
    from services import card_list
    staff_login()
    for suffix in "一二三四五":
        _card("张伟" + suffix, city="上海", province="上海")
    _card("张伟六", city="北京", province="北京")
    monkeypatch.setattr(card_list, "COUNT_CAP", 2)
    monkeypatch.setattr(cards_view, "PER_PAGE", 1)
    first = client.get("/staff/cards/results?q=张伟&city=上海", headers=EN).get_data(as_text=True)
    assert "2+ cards" in first and "Page 1 · 2+ in all" in first
    assert "all the 2+ cards the filter finds" in first
    assert re.search(r'href="/staff/cards/\?[^"]*page=2', first)  # a next page
    zh = client.get("/staff/cards/results?q=张伟&city=上海",
                    headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert re.search(r'id="card-count">[^<]*2\+', zh)
    third = client.get("/staff/cards/results?q=张伟&city=上海&page=3",
                       headers=EN).get_data(as_text=True)  # counts on as far as this page
    assert "3+ cards" in third and re.search(r'href="/staff/cards/\?[^"]*page=4', third)
    last = client.get("/staff/cards/results?q=张伟&city=上海&page=5",
                      headers=EN).get_data(as_text=True)  # the end: the exact count again
    assert "5 cards" in last and "Page 5 of 5 · 5 in all" in last and "page=6" not in last
    seen = set()
    for page in range(1, 6):
        shown = names(client, f"?q=张伟&city=上海&page={page}")
        assert len(shown) == 1
        seen.update(shown)
    assert seen == {"张伟" + s for s in "一二三四五"}  # paging walks every card once


def test_a_search_alone_counts_its_hits_up_to_the_search_cap(client, staff_login, monkeypatch):
    from backoffice import cards as cards_view
    from services import card_list
    staff_login()
    for suffix in "一二三四":
        _card("张伟" + suffix)
    _card("王芳")
    body = client.get("/staff/cards/results?q=张伟", headers=EN).get_data(as_text=True)
    assert "4 cards" in body and "+ cards" not in body
    monkeypatch.setattr(card_list, "SEARCH_CAP", 3)  # more hits than that: not counted
    monkeypatch.setattr(card_list, "COUNT_CAP", 2)
    monkeypatch.setattr(cards_view, "PER_PAGE", 1)
    body = client.get("/staff/cards/results?q=张伟", headers=EN).get_data(as_text=True)
    assert "3+ cards" in body
    assert {n for p in range(1, 5) for n in names(client, f"?q=张伟&page={p}")} == {
        "张伟" + s for s in "一二三四"}
    assert "1 card" in client.get("/staff/cards/results?q=王芳",
                                  headers=EN).get_data(as_text=True)


def test_rows_link_to_their_cards_and_escape_names(client, staff_login):
    staff_login(role="agent")
    card = _card('<b>"x"</b>', mobile="13812345678")
    body = client.get("/staff/cards/results", headers=EN).get_data(as_text=True)
    assert (f'<a href="/staff/cards/{card.public_id}">&lt;b&gt;&#34;x&#34;&lt;/b&gt;</a>'
            in body)
    assert 'aria-label="Select &lt;b&gt;&#34;x&#34;&lt;/b&gt;"' in body
    assert "<b>" not in body.split("<tbody>")[1]


def test_a_place_is_found_however_its_suffix_was_typed(client, staff_login):
    """上海 finds cards stored as 上海市 and 上海, and 上海市 finds both too; 广东 finds 广东省;
    a city whose name ends like a suffix (广州) keeps its own name; other names are exact."""
    staff_login(role="agent")
    _card("张伟", city="上海市", province="上海市")
    _card("王芳", city="上海", province="上海")
    _card("李娜", city="广州市", province="广东省")
    _card("Emma Wilson", city="Toronto", province="Ontario")
    for typed in ("上海", "上海市", "上海 ", "上海市 "):
        assert sorted(names(client, f"?city={typed}")) == ["张伟", "王芳"], typed
    assert names(client, "?province=广东") == ["李娜"]
    assert names(client, "?city=广州") == ["李娜"] == names(client, "?city=广州市")
    assert names(client, "?city=Toronto") == ["Emma Wilson"]
    assert names(client, "?city=Toron") == []  # not a prefix search
    zh = client.get("/staff/cards/?city=上海", headers={"Accept-Language": "zh"})
    assert 'value="上海"' in zh.get_data(as_text=True)  # the filter shows what was typed
    assert 'placeholder="如 上海 或 上海市"' in zh.get_data(as_text=True)  # and says it finds both
    assert 'placeholder="e.g. 广东 or 广东省"' in client.get("/staff/cards/", headers=EN).get_data(
        as_text=True)
