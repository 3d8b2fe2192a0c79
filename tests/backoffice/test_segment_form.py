"""The segment edit form keeps every criterion the service accepts: a segment made through the
service, opened in the form and saved unchanged through HTTP, keeps the very same criteria
(the search, several tags, an inactive owner, values no option offers, custom-field filters the
form has no input for); the search is edited through the form; a stale criterion is kept and
marked rather than dropped."""
import re
from html.parser import HTMLParser

import pytest

from models import (
    AuditEvent,
    ConsentPurpose,
    CustomField,
    Segment,
    SegmentMember,
    StaffUser,
    Tag,
    Tier,
)
from services import card_list, segment_criteria, segments
from tests import factories

EN = {"Accept-Language": "en"}


class _Form(HTMLParser):
    """The (name, value) pairs a browser submits for the form with ``form_id``: text inputs,
    ticked boxes, each select's selected option (else its first), textareas; no buttons."""

    def __init__(self, form_id):
        super().__init__(convert_charrefs=True)
        self.form_id, self.inside, self.pairs = form_id, False, []
        self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        elif not self.inside:
            return
        elif tag == "input" and "name" in attrs and attrs.get("type") not in ("submit", "button"):
            if attrs.get("type") not in ("checkbox", "radio") or "checked" in attrs:
                self.pairs.append((attrs["name"], attrs.get("value") or ""))
        elif tag == "select":
            self._select = {"name": attrs.get("name"), "first": None, "chosen": None}
        elif tag == "option" and self._select is not None:
            value = attrs.get("value", "")
            if self._select["first"] is None:
                self._select["first"] = value
            if "selected" in attrs:
                self._select["chosen"] = value
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select is not None:
            chosen = self._select["chosen"]
            self.pairs.append((self._select["name"],
                               self._select["first"] if chosen is None else chosen))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.pairs.append((self._textarea[0], self._textarea[1].removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data


def submitted(html, form_id="segment-form"):
    parser = _Form(form_id)
    parser.feed(html)
    return parser.pairs


def edit_page(client, segment):
    response = client.get(f"/staff/segments/{segment.public_id}/edit", headers=EN)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def save_unchanged(client, segment):
    """GET the edit form and POST what a browser would send back untouched."""
    return client.post(f"/staff/segments/{segment.public_id}/edit",
                       data=_multi(submitted(edit_page(client, segment))), headers=EN)


def _multi(pairs):
    data = {}
    for key, value in pairs:
        data.setdefault(key, []).append(value)
    return data


def saved(segment):
    return Segment.get_by_id(segment.id).filters["query"]


@pytest.fixture
def business(db):
    """What criteria name: a tier, staff (one inactive), tags, a purpose, an NPS survey and a
    custom field of each kind the list filters on."""
    fields = {
        "age": CustomField.create(key="age", label_zh="年龄", label_en="Age", kind="number"),
        "joined": CustomField.create(key="joined", label_zh="入会", label_en="Joined",
                                     kind="date"),
        "hobbies": CustomField.create(
            key="hobbies", label_zh="爱好", label_en="Hobbies", kind="multi_choice",
            choices=[{"value": "tea", "zh": "茶", "en": "Tea"}]),
        "size": CustomField.create(key="size", label_zh="尺码", label_en="Size", kind="choice",
                                   choices=[{"value": "M", "zh": "中", "en": "M"}]),
        "vegan": CustomField.create(key="vegan", label_zh="素食", label_en="Vegan", kind="bool"),
        "nick": CustomField.create(key="nick", label_zh="昵称", label_en="Nickname"),
    }
    left = factories.make_staff(role="agent", name="Old Hand")
    StaffUser.update(is_active=False).where(StaffUser.id == left.id).execute()
    Tag.create(name="VIP")
    Tag.create(name="Wholesale")
    return {"tier": Tier.create(code="gold", name_zh="金卡", name_en="Gold", rank=3),
            "owner": factories.make_staff(role="agent", name="Owner One"), "left": left,
            "purpose": ConsentPurpose.create(code="news", name_zh="资讯", name_en="News"),
            "survey": factories.make_survey(title_en="Spring"), "fields": fields}


def every_criterion(business):
    """One of each criterion the service accepts, given out of the form's order."""
    return [("max_spend", "9000"), ("nps", "promoter"), ("survey", business["survey"].public_id),
            ("birthday_month", "6"), ("q", "张 wei"), ("tag", "VIP"), ("tag", "Wholesale"),
            ("tier", "gold"), ("status", "active"), ("owner", business["owner"].public_id),
            ("province", "上海"), ("city", "上海"), ("source", "展会"), ("industry", "零售"),
            ("consent", "news"), ("consent_state", "granted"), ("purchase_from", "2024-01-01"),
            ("purchase_to", "2024-12-31"), ("contact_from", "2024-02-01"),
            ("contact_to", "2024-11-30"), ("purchase_within_days", "400"),
            ("purchase_before_days", "7"), ("min_purchases", "1"), ("max_purchases", "50"),
            ("min_spend", "10"), ("cf_age.from", "18"), ("cf_age.to", "65"),
            ("cf_joined.from", "2020-01-01"), ("cf_joined.to", "2025-01-01"),
            ("cf_hobbies", "tea"), ("cf_size", "M"), ("cf_vegan", "yes"), ("cf_nick", "小张")]


def test_the_form_has_an_input_for_every_key_the_service_keeps(client, staff_login, business):
    staff_login(role="marketer")
    page = client.get("/staff/segments/new", headers=EN).get_data(as_text=True)
    names = {name for name, _value in submitted(page)}
    keys = set(card_list.SCALARS) - {"sort"} | {"tag"} | set(segment_criteria.OWN_KEYS)
    assert keys - names == set()
    assert 'id="s-q"' in page and "Search" in page


def test_saving_the_form_unchanged_keeps_every_criterion(client, staff_login, business):
    staff_login(role="manager")
    segment = segments.create_segment(factories.SYSTEM, None, "Everything", "", "dynamic",
                                      every_criterion(business))
    before = saved(segment)
    assert len(before) == len(every_criterion(business))  # the service kept each one
    page = edit_page(client, segment)
    assert 'value="张 wei"' in page
    response = save_unchanged(client, segment)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    assert saved(segment) == before
    event = AuditEvent.select().where(AuditEvent.action == "segment.update").get()
    assert event.before["query"] == event.after["query"] == before


@pytest.mark.parametrize("criteria", [
    [("tag", "VIP"), ("tag", "Wholesale"), ("tag", "not a tag yet")],  # several, one unlisted
    [("owner", "left")],  # an owner who has left (not offered among active staff)
    [("status", "archived"), ("consent", "gone"), ("consent_state", "either")],  # unoffered
    [("cf_vegan", "1"), ("cf_size", "M")],  # "1" is yes, though no option says it
    [("cf_age", "30"), ("city", "北京")],  # a number field's exact value: no input, a box
])
def test_values_the_form_does_not_offer_are_kept(client, staff_login, business, criteria):
    staff_login(role="manager")
    criteria = [(k, business["left"].public_id if v == "left" else v) for k, v in criteria]
    segment = segments.create_segment(factories.SYSTEM, None, "Odd", "", "dynamic", criteria)
    before = saved(segment)
    assert sorted(map(tuple, before)) == sorted(criteria)
    page = edit_page(client, segment)
    if criteria[0][0] == "owner":
        assert "Old Hand" in page  # the name, not the code
    assert save_unchanged(client, segment).status_code == 302
    assert saved(segment) == before


def test_the_search_is_edited_through_the_form(client, staff_login, business):
    staff_login(role="marketer")
    zhang = factories.make_customer(name="张伟", account=False)[0]
    wang = factories.make_customer(name="王芳", account=False)[0]
    segment = segments.create_segment(factories.SYSTEM, None, "Zhang", "", "dynamic",
                                      [("q", "张"), ("tag", "VIP")])
    assert "1 card matches" in client.get(  # the live count reads the search too
        "/staff/segments/count?q=王", headers={**EN, "HX-Request": "true"}).get_data(as_text=True)
    form = [(k, "王" if k == "q" else ("" if k == "tag" else v))
            for k, v in submitted(edit_page(client, segment))]
    response = client.post(f"/staff/segments/{segment.public_id}/edit", data=_multi(form),
                           headers=EN)
    assert response.status_code == 302
    assert saved(segment) == [["q", "王"]]
    members = SegmentMember.select().where(SegmentMember.segment == segment.id)
    assert [m.customer_id for m in members] == [wang.id]
    page = client.get(f"/staff/segments/{segment.public_id}", headers=EN).get_data(as_text=True)
    assert re.search(r"<dt[^>]*>Search</dt><dd[^>]*>王</dd>", page)
    assert zhang.id not in [m.customer_id for m in members]
    # and emptied: the search criterion goes
    form = [(k, "" if k == "q" else v) for k, v in submitted(edit_page(client, segment))]
    client.post(f"/staff/segments/{segment.public_id}/edit", data=_multi(form), headers=EN)
    assert saved(segment) == []


def test_a_tag_is_removed_and_one_added_through_the_form(client, staff_login, business):
    staff_login(role="marketer")
    segment = segments.create_segment(factories.SYSTEM, None, "Tags", "", "dynamic",
                                      [("tag", "VIP")])
    form = submitted(edit_page(client, segment))
    assert [v for k, v in form if k == "tag"] == ["VIP", ""]  # the tag, and one to add
    zh = client.get(f"/staff/segments/{segment.public_id}/edit",
                    headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "且有标签" in zh and 'placeholder="姓名' in zh
    form = [(k, v) for k, v in form if k != "tag"] + [("tag", ""), ("tag", "Wholesale")]
    client.post(f"/staff/segments/{segment.public_id}/edit", data=_multi(form), headers=EN)
    assert saved(segment) == [["tag", "Wholesale"]]


def test_a_stale_criterion_is_kept_and_marked_not_dropped(client, staff_login, business):
    """A custom field switched off after the segment was saved: the form shows its filter as a
    ticked box with the reason, saving unchanged is refused, unticking it drops it."""
    staff_login(role="marketer")
    segment = segments.create_segment(factories.SYSTEM, None, "Stale", "", "dynamic",
                                      [("city", "上海"), ("cf_nick", "小张")])
    CustomField.update(active=False).where(CustomField.key == "nick").execute()
    page = edit_page(client, segment)
    assert 'id="segment-other-criteria"' in page and "This field no longer exists." in page
    assert "Check the marked criteria." in page
    zh = client.get(f"/staff/segments/{segment.public_id}/edit",
                    headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "其他条件（取消勾选即移除）" in zh and "昵称" in zh
    response = save_unchanged(client, segment)
    assert response.status_code == 400 and "This field no longer exists." in response.get_data(
        as_text=True)
    assert saved(segment) == [["city", "上海"], ["cf_nick", "小张"]]
    form = [(k, v) for k, v in submitted(edit_page(client, segment)) if k != "cf_nick"]
    assert client.post(f"/staff/segments/{segment.public_id}/edit", data=_multi(form),
                       headers=EN).status_code == 302
    assert saved(segment) == [["city", "上海"]]


def test_custom_dates_and_numbers_are_kept_as_their_inputs_show_them(client, staff_login,
                                                                     business):
    """A date typed "2025-1-5" (a hand-made link, a spreadsheet's habit) is saved as
    2025-01-05: a browser's date input shows nothing for any other spelling, and the form
    saved unchanged would then drop the criterion."""
    staff_login(role="manager")
    segment = segments.create_segment(factories.SYSTEM, None, "Joined", "", "dynamic",
                                      [("cf_joined.from", "2025-1-5"), ("cf_age.to", "６５")])
    assert sorted(map(tuple, saved(segment))) == [("cf_age.to", "65"),
                                                   ("cf_joined.from", "2025-01-05")]
    page = edit_page(client, segment)
    assert re.search(r'<input[^>]*type="date"[^>]*value="2025-01-05"', page) or \
        re.search(r'<input[^>]*value="2025-01-05"[^>]*type="date"', page)
    assert save_unchanged(client, segment).status_code == 302
    assert sorted(map(tuple, saved(segment))) == [("cf_age.to", "65"),
                                                   ("cf_joined.from", "2025-01-05")]


def test_a_criterion_given_twice_keeps_its_last_value_for_every_kind_of_key(db):
    """The card list's keys and the segment's own keep the same one of a repeated value (the
    last, as a query string read into a dict does), so the count and the saved list agree."""
    pairs = segment_criteria.clean_criteria([("city", "北京"), ("min_purchases", "1"),
                                             ("city", "上海"), ("min_purchases", "3")])
    assert pairs == [("city", "上海"), ("min_purchases", "3")]
