"""Segments through HTTP: who may open them, CSRF, building a dynamic segment (the live count,
errors at the fields with the input kept, the count button without JS), escaping of a
<script> name, static lists by card number and from a card-list address, removing a card, and
delete refused while a campaign uses the segment."""
import re
from decimal import Decimal

import pytest

from models import AuditEvent, Campaign, Customer, Segment, SegmentMember
from services import segments
from tests import factories
from tests.conftest import csrf_from, post_form

EN = {"Accept-Language": "en"}
LIST = "/staff/segments/"
NEW = "/staff/segments/new"


def html(response):
    return response.get_data(as_text=True)


def card(name, **columns):
    customer = factories.make_customer(name=name, account=False)[0]
    if columns:
        Customer.update(**columns).where(Customer.id == customer.id).execute()
    return customer


@pytest.fixture
def cards(db):
    return [card("Big", total_spend=Decimal(5000), purchase_count=4, city="上海"),
            card("Small", total_spend=Decimal(50), purchase_count=1, city="北京"),
            card("None", city="上海")]


@pytest.mark.parametrize("role,status", [("agent", 403), ("marketer", 200), ("manager", 200)])
def test_segment_pages_need_campaigns_manage(client, staff_login, cards, role, status):
    staff_login(role=role)
    assert client.get(LIST, headers=EN).status_code == status
    assert client.get(NEW, headers=EN).status_code == status
    page = html(client.get("/staff/", headers=EN))
    assert (f'href="{LIST}"' in page) == (status == 200)


def test_a_marketer_builds_a_dynamic_segment(client, staff_login, cards):
    marketer = staff_login(role="marketer")
    response = post_form(client, NEW, {"name": "Big spenders <script>alert(1)</script>",
                                       "kind": "dynamic", "min_spend": "1,000",
                                       "city": "上海", "description": ""}, headers=EN)
    segment = Segment.get()
    assert response.headers["Location"] == f"/staff/segments/{segment.public_id}"
    assert segment.created_by_id == marketer.id
    assert segment.filters == {"query": [["city", "上海"], ["min_spend", "1000.00"]]}
    assert [m.customer_id for m in SegmentMember.select()] == [cards[0].id]
    page = html(client.get(response.headers["Location"], headers=EN))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert re.findall(r'id="member-([\w-]+)"', page) == [cards[0].public_id]
    assert f'href="/staff/cards/{cards[0].public_id}"' in page
    listing = html(client.get(LIST, headers=EN))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listing and "<script>alert(1)" not in listing
    assert AuditEvent.select().where(AuditEvent.action == "segment.create").count() == 1


def test_the_live_count_follows_the_criteria(client, staff_login, cards):
    staff_login(role="marketer")
    count = client.get("/staff/segments/count?city=上海", headers={**EN, "HX-Request": "true"})
    assert "2 cards match" in html(count)
    assert "1 card matches" in html(client.get("/staff/segments/count?city=上海&min_purchases=1",
                                               headers={**EN, "HX-Request": "true"}))
    assert "Check the marked criteria" in html(client.get(
        "/staff/segments/count?birthday_month=13", headers={**EN, "HX-Request": "true"}))
    # opened as a page (no htmx): the new-segment form with those criteria and their count
    response = client.get("/staff/segments/count?city=上海", headers=EN)
    assert response.headers["Location"].startswith("/staff/segments/new?kind=dynamic&city=")
    page = html(client.get(response.headers["Location"], headers=EN))
    assert 'value="上海"' in page and "2 cards match" in page
    page = html(client.get(NEW, headers=EN))
    assert 'hx-get="/staff/segments/count"' in page and "3 cards match" in page


def test_without_js_the_count_button_counts_and_saves_nothing(client, staff_login, cards):
    staff_login(role="marketer")
    response = post_form(client, NEW, {"name": "x", "kind": "dynamic", "max_spend": "100",
                                       "action": "count"}, headers=EN)
    assert response.status_code == 200
    page = html(response)
    assert "2 cards match" in page and 'value="100"' in page
    assert Segment.select().count() == 0


def test_errors_show_at_their_fields_and_keep_the_input(client, staff_login, cards):
    staff_login(role="marketer")
    response = post_form(client, NEW, {"name": "Lapsed 老客户", "kind": "dynamic",
                                       "purchase_within_days": "soon", "birthday_month": "13",
                                       "min_purchases": "5", "max_purchases": "2",
                                       "city": "上海"}, headers=EN)
    assert response.status_code == 400
    page = html(response)
    assert 'id="err-purchase_within_days"' in page and "Type a whole number from 1" in page
    assert 'id="err-birthday_month"' in page
    assert 'id="err-max_purchases"' in page and "The maximum is below the minimum." in page
    assert 'value="Lapsed 老客户"' in page and 'value="soon"' in page and 'value="上海"' in page
    response = post_form(client, NEW, {"name": "", "kind": "dynamic", "city": "上海"},
                         token_from=LIST, headers=EN)
    assert response.status_code == 400 and "Give the segment a name." in html(response)
    assert Segment.select().count() == 0


def test_csrf_is_required(client, staff_login, cards):
    staff_login(role="marketer")
    segment = segments.create_segment(factories.SYSTEM, None, "List", "", "static")
    for path in (NEW, f"/staff/segments/{segment.public_id}/add",
                 f"/staff/segments/{segment.public_id}/delete",
                 f"/staff/segments/{segment.public_id}/remove"):
        response = client.post(path, data={"name": "x", "kind": "static",
                                           "ids": cards[0].public_id, "card": "x"})
        assert response.status_code == 400, path
    assert Segment.select().count() == 1 and SegmentMember.select().count() == 0


def test_a_static_list_by_card_number_and_from_a_search(client, staff_login, cards):
    staff_login(role="marketer")
    response = post_form(client, NEW, {"name": "Hand-picked", "kind": "static"}, headers=EN)
    segment = Segment.get()
    detail = response.headers["Location"]
    assert segment.kind == "static" and segment.filters == {}
    response = post_form(client, f"{detail}/add",
                         {"ids": f"{cards[1].public_id}\nnosuchcard\n{cards[1].public_id}"},
                         token_from=detail, headers=EN)
    assert response.headers["Location"] == detail
    page = html(client.get(detail, headers=EN))
    assert "1 card added." in page and "Not found (or erased): nosuchcard" in page
    response = post_form(client, f"{detail}/add-found",
                         {"list_query": "http://localhost/staff/cards/?city=%E4%B8%8A%E6%B5%B7"},
                         token_from=detail, headers=EN)
    assert response.headers["Location"] == detail
    assert {m.customer_id for m in SegmentMember.select()} == {c.id for c in cards}
    response = post_form(client, f"{detail}/add-found", {"list_query": "/staff/cards/"},
                         token_from=detail, headers=EN)
    assert response.status_code == 400
    assert "Paste the address of a card list with a search or a filter." in html(response)
    assert 'value="/staff/cards/"' in html(response)
    response = post_form(client, f"{detail}/add", {"ids": ""}, token_from=detail, headers=EN)
    assert response.status_code == 400 and "Type at least one card number." in html(response)
    post_form(client, f"{detail}/remove", {"card": cards[0].public_id}, token_from=detail)
    assert {m.customer_id for m in SegmentMember.select()} == {cards[1].id, cards[2].id}


def test_edit_and_refresh_a_dynamic_segment(client, staff_login, cards):
    staff_login(role="manager")
    segment = segments.create_segment(factories.SYSTEM, None, "Shanghai", "", "dynamic",
                                      [("city", "上海")])
    edit = f"/staff/segments/{segment.public_id}/edit"
    page = html(client.get(edit, headers=EN))
    assert 'value="上海"' in page and "2 cards match" in page
    post_form(client, edit, {"name": "Shanghai buyers", "kind": "static", "city": "上海",
                             "min_purchases": "1"}, headers=EN)
    segment = Segment.get_by_id(segment.id)
    assert (segment.name, segment.kind) == ("Shanghai buyers", "dynamic")  # the kind stays
    assert SegmentMember.select().count() == 1
    Customer.update(purchase_count=2).where(Customer.id == cards[2].id).execute()
    detail = f"/staff/segments/{segment.public_id}"
    response = post_form(client, f"{detail}/refresh", {}, token_from=detail, headers=EN)
    assert response.headers["Location"] == detail
    assert "2 members saved." in html(client.get(detail, headers=EN))
    assert SegmentMember.select().count() == 2


def test_delete_is_refused_while_a_campaign_uses_it(client, staff_login, cards):
    staff_login(role="marketer")
    segment = segments.create_segment(factories.SYSTEM, None, "Gold", "", "static")
    campaign = Campaign.create(name="Spring", segment=segment)
    detail = f"/staff/segments/{segment.public_id}"
    response = post_form(client, f"{detail}/delete", {}, token_from=detail, headers=EN)
    assert response.headers["Location"] == detail
    assert "A campaign uses this segment" in html(client.get(detail, headers=EN))
    campaign.delete_instance()
    response = post_form(client, f"{detail}/delete", {}, token_from=detail, headers=EN)
    assert response.headers["Location"] == LIST
    assert Segment.select().count() == 0


def test_unknown_segments_are_not_found(client, staff_login, db):
    staff_login(role="marketer")
    assert client.get("/staff/segments/nosuch", headers=EN).status_code == 404
    token = csrf_from(client, LIST)
    assert client.post("/staff/segments/nosuch/delete",
                       data={"csrf_token": token}).status_code == 404


def test_nps_detractors_of_a_survey_through_the_form(client, staff_login, cards):
    from models import SurveyAnswer, SurveyQuestion, SurveyResponse
    staff_login(role="marketer")
    survey = factories.make_survey(title_en="Spring <b>survey</b>")
    question = SurveyQuestion.get(SurveyQuestion.survey == survey, SurveyQuestion.kind == "nps")
    for customer, score in ((cards[0], 2), (cards[1], 10)):
        response = SurveyResponse.create(survey=survey, customer=customer)
        SurveyAnswer.create(response=response, question=question, value=score, number=score)
    page = html(client.get(NEW, headers=EN))
    assert f'value="{survey.public_id}"' in page and "Spring &lt;b&gt;survey&lt;/b&gt;" in page
    response = post_form(client, NEW, {"name": "Unhappy", "kind": "dynamic", "nps": "detractor",
                                       "survey": survey.public_id}, headers=EN)
    detail = html(client.get(response.headers["Location"], headers=EN))
    assert re.findall(r'id="member-([\w-]+)"', detail) == [cards[0].public_id]
    assert "Detractors (0-6)" in detail and "Spring &lt;b&gt;survey&lt;/b&gt;" in detail
