"""Static lists from the card and from the card list: the card's "Add to list" control (add,
"already in this list", remove), the list page's bulk "add to the list" on ticked rows and on
every card a search finds (confirmed with the count), idempotent double adds, one audit event
per card added, and cards.edit required (viewers and marketers get 403, nothing changes)."""
import re

import pytest

from models import AuditEvent, Segment, SegmentMember
from services import segments, static_lists
from tests import factories
from tests.conftest import csrf_from

EN = {"Accept-Language": "en"}
HX = {**EN, "HX-Request": "true"}


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def lists(db):
    return {"vip": segments.create_segment(factories.SYSTEM, None, "VIP 贵宾", "", "static"),
            "evil": segments.create_segment(factories.SYSTEM, None,
                                            "<script>alert(1)</script>", "", "static"),
            "dynamic": segments.create_segment(factories.SYSTEM, None, "Shanghai", "",
                                               "dynamic", [("city", "上海")])}


@pytest.fixture
def people(db):
    return [factories.make_customer(name=name, city=city, account=False)[0]
            for name, city in (("张伟", "上海"), ("张伟明", "北京"), ("李雷", "上海"))]


def members(segment):
    return sorted(m.customer.name for m in SegmentMember.select().where(
        SegmentMember.segment == segment.id))


def post(client, path, data, headers=EN):
    token = csrf_from(client, "/staff/cards/")
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def test_the_card_page_loads_the_control(client, staff_login, lists, people):
    staff_login(role="agent")
    card = people[0]
    page = html(client.get(f"/staff/cards/{card.public_id}", headers=EN))
    assert f'hx-get="/staff/segments/card/{card.public_id}"' in page
    control = html(client.get(f"/staff/segments/card/{card.public_id}", headers=HX))
    assert "Add to list" in control and "Not in any list." in control
    assert f'value="{lists["vip"].public_id}"' in control
    assert lists["dynamic"].public_id not in control  # only static lists
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in control and "<script>alert" not in control
    whole = client.get(f"/staff/segments/card/{card.public_id}", headers=EN)  # without JS
    assert whole.status_code == 200 and "<html" in html(whole) and "Add to list" in html(whole)


def test_add_already_and_remove_from_the_card(client, staff_login, lists, people):
    staff_login(role="agent")
    card, vip = people[0], lists["vip"]
    path = f"/staff/segments/card/{card.public_id}"
    response = post(client, path + "/add", {"segment": vip.public_id}, HX)
    assert response.status_code == 200
    body = html(response)
    assert "Added to the list VIP 贵宾." in body
    assert re.search(r'card-list-item">\s*<span[^>]*>VIP 贵宾</span>', body)
    assert "(already in this list)" in body
    assert members(vip) == ["张伟"]
    event = AuditEvent.get(AuditEvent.action == "segment.add")
    assert event.customer_id == card.id and event.after["how"] == "card"

    again = html(post(client, path + "/add", {"segment": vip.public_id}, HX))
    assert "Already in this list: VIP 贵宾." in again
    assert members(vip) == ["张伟"]
    assert AuditEvent.select().where(AuditEvent.action == "segment.add").count() == 1

    removed = html(post(client, path + "/remove", {"segment": vip.public_id}, HX))
    assert "Removed from the list VIP 贵宾." in removed and "Not in any list." in removed
    assert members(vip) == []
    assert AuditEvent.get(AuditEvent.action == "segment.remove").customer_id == card.id


def test_without_js_the_forms_post_and_come_back_to_the_card(client, staff_login, lists,
                                                             people):
    staff_login(role="manager")
    card = people[1]
    response = post(client, f"/staff/segments/card/{card.public_id}/add",
                    {"segment": lists["vip"].public_id})
    assert response.headers["Location"] == f"/staff/cards/{card.public_id}"
    assert "Added to the list VIP 贵宾." in html(client.get(response.headers["Location"],
                                                            headers=EN))
    assert members(lists["vip"]) == ["张伟明"]


def test_a_dynamic_or_unknown_list_is_refused_at_the_control(client, staff_login, lists,
                                                            people):
    staff_login(role="agent")
    path = f"/staff/segments/card/{people[0].public_id}/add"
    for value in (lists["dynamic"].public_id, "nosuchlist", ""):
        response = post(client, path, {"segment": value})
        assert response.status_code == 400 and "Choose a static list." in html(response)
        hx = post(client, path, {"segment": value}, HX)
        assert hx.status_code == 200 and 'id="card-list-error"' in html(hx)
    assert SegmentMember.select().count() == 0  # the dynamic segment's members untouched too
    assert client.get("/staff/segments/card/nosuchcard", headers=EN).status_code == 404


@pytest.mark.parametrize("role", ["viewer", "marketer"])
def test_roles_without_cards_edit_cannot_change_lists(client, staff_login, lists, people,
                                                     role):
    staff_login(role=role)
    card, vip = people[0], lists["vip"]
    static_lists.add_card(vip, people[2], factories.SYSTEM)
    control = html(client.get(f"/staff/segments/card/{people[2].public_id}", headers=HX))
    assert "VIP 贵宾" in control and "Add to list" not in control and "×" not in control
    for path in (f"/staff/segments/card/{card.public_id}/add",
                 f"/staff/segments/card/{people[2].public_id}/remove"):
        assert post(client, path, {"segment": vip.public_id}).status_code == 403
    response = post(client, "/staff/cards/bulk", {"scope": "selected", "action": "list",
                                                  "list_value": vip.public_id,
                                                  "ids": card.public_id})
    assert response.status_code == 403
    assert members(vip) == ["李雷"]


def test_csrf_is_required(client, staff_login, lists, people):
    staff_login(role="agent")
    response = client.post(f"/staff/segments/card/{people[0].public_id}/add",
                           data={"segment": lists["vip"].public_id})
    assert response.status_code == 400 and members(lists["vip"]) == []


def test_bulk_add_ticked_rows_twice_adds_once(client, staff_login, lists, people):
    staff_login(role="agent")
    vip = lists["vip"]
    page = html(client.get("/staff/cards/", headers=EN))
    assert '<option value="list">add to the list</option>' in page
    assert f'<option value="{vip.public_id}">VIP 贵宾</option>' in page
    data = {"scope": "selected", "action": "list", "list_value": vip.public_id,
            "ids": [people[0].public_id, people[2].public_id]}
    response = post(client, "/staff/cards/bulk", data)
    assert response.headers["Location"] == "/staff/cards/"
    assert "2 cards added to the list VIP 贵宾." in html(client.get("/staff/cards/", headers=EN))
    assert members(vip) == ["张伟", "李雷"]
    events = AuditEvent.select().where(AuditEvent.action == "customer.bulk_list")
    assert sorted(e.customer_id for e in events) == sorted([people[0].id, people[2].id])

    post(client, "/staff/cards/bulk", {**data, "ids": [people[0].public_id,
                                                       people[1].public_id]})
    page = html(client.get("/staff/cards/", headers=EN))
    assert "1 card added to the list VIP 贵宾." in page
    assert "1 card was already in this list." in page
    assert members(vip) == ["张伟", "张伟明", "李雷"]
    assert AuditEvent.select().where(AuditEvent.action == "customer.bulk_list").count() == 3


def test_bulk_add_all_matching_a_search_after_confirming_the_count(client, staff_login, lists,
                                                                   people):
    staff_login(role="manager")
    vip = lists["vip"]
    data = {"scope": "all", "action": "list", "list_value": vip.public_id, "q": "张伟"}
    confirm = post(client, "/staff/cards/bulk", data)
    assert confirm.status_code == 200
    assert "Add 2 cards to the list VIP 贵宾?" in html(confirm)
    assert members(vip) == []
    assert post(client, "/staff/cards/bulk", {**data, "confirmed": "3"}).status_code == 200
    assert members(vip) == []  # a stale count asks again
    response = post(client, "/staff/cards/bulk", {**data, "confirmed": "2"})
    assert response.headers["Location"] == "/staff/cards/?q=%E5%BC%A0%E4%BC%9F"
    assert members(vip) == ["张伟", "张伟明"]
    post(client, "/staff/cards/bulk", {**data, "confirmed": "2"})  # the same again: no-op
    assert members(vip) == ["张伟", "张伟明"]
    assert SegmentMember.select().where(SegmentMember.segment == vip.id).count() == 2
    assert Segment.get_by_id(vip.id).updated_at >= vip.updated_at


def test_bulk_refuses_a_dynamic_segment(client, staff_login, lists, people):
    staff_login(role="agent")
    post(client, "/staff/cards/bulk", {"scope": "selected", "action": "list",
                                       "list_value": lists["dynamic"].public_id,
                                       "ids": people[1].public_id})
    assert "Choose a static list." in html(client.get("/staff/cards/", headers=EN))
    assert SegmentMember.select().where(SegmentMember.customer == people[1].id).count() == 0
