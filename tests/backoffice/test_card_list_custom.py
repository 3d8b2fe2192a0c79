"""The card list (and segments) filter on every non-sensitive custom field kind through
``custom_fields.filter_expression``: number and date ranges, multi-choice "includes", choice,
yes/no and text; a bad value shows its message at that filter, keeps the other filters and the
list still renders; saved views keep the new filters."""
import re

import pytest

from models import CustomField, CustomFieldValue, SavedView, Segment
from services import segment_criteria, segments
from tests import factories
from tests.conftest import csrf_from, post_form

EN = {"Accept-Language": "en"}


def names(client, query=""):
    """Names of the cards the list shows (sorted), through the htmx part of the list."""
    body = client.get("/staff/cards/results" + query, headers=EN).get_data(as_text=True)
    return sorted(re.findall(r'<a href="/staff/cards/[^"]+">([^<]+)</a>', body))


def page(client, query=""):
    response = client.get("/staff/cards/" + query, headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


@pytest.fixture
def fields(db):
    made = {
        "age": CustomField.create(key="age", label_zh="年龄", label_en="Age", kind="number"),
        "joined": CustomField.create(key="joined", label_zh="入会日期", label_en="Joined",
                                     kind="date"),
        "hobbies": CustomField.create(
            key="hobbies", label_zh="爱好", label_en="Hobbies", kind="multi_choice",
            choices=[{"value": "tea", "zh": "茶", "en": "Tea"},
                     {"value": "golf", "zh": "高尔夫", "en": "Golf"}]),
        "size": CustomField.create(key="size", label_zh="尺码", label_en="Size", kind="choice",
                                   choices=[{"value": "M", "zh": "中", "en": "M"},
                                            {"value": "L", "zh": "大", "en": "L"}]),
        "vegan": CustomField.create(key="vegan", label_zh="素食", label_en="Vegan", kind="bool"),
        "nick": CustomField.create(key="nick", label_zh="昵称", label_en="Nickname"),
        "passport": CustomField.create(key="passport", label_zh="护照", label_en="Passport",
                                       sensitive=True),
    }
    return made


@pytest.fixture
def people(fields):
    """张伟 (30, joined 2020, tea+golf, M, vegan), 李雷 (45, 2023, golf, L), 王芳 (none)."""
    values = {
        "张伟": {"age": 30, "joined": "2020-05-01", "hobbies": ["tea", "golf"], "size": "M",
               "vegan": True, "nick": "小张"},
        "李雷": {"age": 45.5, "joined": "2023-11-20", "hobbies": ["golf"], "size": "L",
               "nick": "<script>alert(1)</script>"},
        "王芳": {},
    }
    cards = {}
    for name, own in values.items():
        cards[name] = factories.make_customer(name=name, account=False)[0]
        for key, value in own.items():
            CustomFieldValue.create(customer=cards[name], field=fields[key], value=value)
    return cards


def test_number_ranges(client, staff_login, people):
    staff_login()
    assert names(client, "?cf_age.from=18&cf_age.to=40") == ["张伟"]
    assert names(client, "?cf_age.from=40") == ["李雷"]
    assert names(client, "?cf_age.to=45.5") == ["张伟", "李雷"]
    assert names(client, "?cf_age.from=%EF%BC%94%EF%BC%90") == ["李雷"]  # full-width "40"
    assert names(client, "?cf_age=30") == ["张伟"]


def test_date_ranges(client, staff_login, people):
    staff_login()
    assert names(client, "?cf_joined.from=2021-01-01") == ["李雷"]
    assert names(client, "?cf_joined.to=2020-05-01") == ["张伟"]
    assert names(client, "?cf_joined.from=2019-01-01&cf_joined.to=2024-01-01") == ["张伟", "李雷"]


def test_multi_choice_includes_choice_yes_no_and_text(client, staff_login, people):
    staff_login()
    assert names(client, "?cf_hobbies=golf") == ["张伟", "李雷"]
    assert names(client, "?cf_hobbies=tea") == ["张伟"]
    assert names(client, "?cf_size=L") == ["李雷"]
    assert names(client, "?cf_vegan=yes") == ["张伟"]
    assert names(client, "?cf_vegan=no") == ["李雷", "王芳"]
    assert names(client, "?cf_nick=小张") == ["张伟"]
    assert names(client, "?cf_nick=%3Cscript%3Ealert(1)%3C/script%3E") == ["李雷"]
    assert names(client, "?cf_hobbies=golf&cf_age.from=40&cf_size=L") == ["李雷"]


def test_the_panel_offers_every_kind_but_sensitive_ones(client, staff_login, people):
    staff_login()
    body = page(client)
    for name in ("cf_age.from", "cf_age.to", "cf_joined.from", "cf_joined.to", "cf_hobbies",
                 "cf_size", "cf_vegan", "cf_nick"):
        assert f'name="{name}"' in body, name
    assert 'name="cf_passport"' not in body
    assert re.search(r'id="f-cf-joined-from"[^>]*type="date"', body, re.DOTALL)
    kept = page(client, "?cf_nick=%3Cscript%3Ex%3C/script%3E")
    assert "<script>x</script>" not in kept and "&lt;script&gt;x&lt;/script&gt;" in kept


def test_bad_input_is_shown_at_its_filter_and_the_rest_is_kept(client, staff_login, people):
    staff_login()
    body = page(client, "?cf_age.from=abc&cf_size=L&city=%E4%B8%8A%E6%B5%B7"
                        "&cf_joined.to=2020-02-31")
    assert re.search(r'name="cf_age.from" value="abc"\s+class="form-control is-invalid"', body)
    assert "Enter a number." in body and "This date does not exist." in body
    assert re.search(r'id="f-cf-size".*?<option value="L" selected>', body, re.DOTALL)
    assert 'value="上海"' in body
    assert 'id="filter-errors"' in body and "No cards match." in body
    assert "<details class=\"card-filter-panel\" open>" in body
    assert names(client, "?cf_size=Q") == []
    assert "Choose from the options shown." in page(client, "?cf_size=Q")
    assert "Only number and date fields have ranges." in page(client, "?cf_nick.from=a")
    assert "Choose yes or no." in page(client, "?cf_vegan=maybe")
    assert "This field no longer exists." in page(client, "?cf_gone=1")
    assert "cannot be filtered" in page(client, "?cf_passport=E1")
    assert names(client, "?cf_passport=E1") == []


def test_saved_view_keeps_custom_filters(client, staff_login, people):
    staff = staff_login()
    response = post_form(client, "/staff/cards/views",
                         {"view_name": "30-40", "cf_age.from": "30", "cf_age.to": "40",
                          "cf_hobbies": "tea"}, token_from="/staff/cards/", headers=EN)
    location = response.headers["Location"]
    assert "cf_age.from=30" in location and "cf_hobbies=tea" in location
    view = SavedView.get(SavedView.staff == staff.id)
    opened = client.get(f"/staff/cards/views/{view.id}").headers["Location"]
    assert names(client, opened[len("/staff/cards/"):].replace("?", "?", 1)) == ["张伟"]


def test_bulk_on_all_matching_a_custom_range(client, staff_login, people):
    staff_login()
    token = csrf_from(client, "/staff/cards/")
    data = {"csrf_token": token, "scope": "all", "action": "tag", "tag_value": "older",
            "cf_age.from": "40"}
    confirm = client.post("/staff/cards/bulk", data=data, headers=EN).get_data(as_text=True)
    assert "Add the tag older to 1 card?" in confirm
    client.post("/staff/cards/bulk", data={**data, "confirmed": "1"}, headers=EN)
    assert names(client, "?tag=older") == ["李雷"]
    bad = client.post("/staff/cards/bulk", data={**data, "cf_age.from": "abc"}, headers=EN)
    assert bad.headers["Location"] == "/staff/cards/?cf_age.from=abc"
    assert "Correct the marked filters first." in page(client, "?cf_age.from=abc")


def test_segments_filter_on_the_same_kinds(client, staff_login, people):
    staff_login(role="marketer")
    pairs = [("cf_age.from", "18"), ("cf_age.to", "40"), ("cf_hobbies", "golf")]
    assert segment_criteria.count(segment_criteria.clean_criteria(pairs)) == 1
    response = post_form(client, "/staff/segments/new",
                         {"name": "Golfers", "kind": "dynamic", "cf_hobbies": "golf",
                          "cf_joined.from": "2021-01-01"}, headers=EN)
    segment = Segment.get()
    assert response.headers["Location"].endswith(segment.public_id)
    members = {m.name for m in segments.members_query(segment)}
    assert members == {"李雷"}
    detail = client.get(response.headers["Location"], headers=EN).get_data(as_text=True)
    assert "Joined from" in detail and "Hobbies" in detail
    bad = post_form(client, "/staff/segments/new",
                    {"name": "Bad", "kind": "dynamic", "cf_age.to": "old", "city": "上海"},
                    headers=EN)
    assert bad.status_code == 400
    body = bad.get_data(as_text=True)
    assert "Enter a number." in body and 'value="old"' in body and 'value="上海"' in body
    assert Segment.select().count() == 1
