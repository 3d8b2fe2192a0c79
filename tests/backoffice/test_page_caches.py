"""What the back office remembers between requests to render pages faster (the nav, the tier
override fields, fixed URLs, translated texts) follows every change that shows on the page."""
import datetime
import re

from flask import render_template_string
from flask_babel import force_locale

from models import Customer, Task
from services import tasks, tiers
from tests import factories

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}


def _badge(page):
    found = re.search(r'<span class="badge rounded-pill text-bg-danger"[^>]*>(\d+)</span>', page)
    return found and found.group(1)


def _nav(page):
    return page[page.index('<ul class="nav flex-column">'):page.index("bo-sidebar-footer")]


def test_the_nav_badge_follows_the_open_tasks(client, staff_login):
    staff = staff_login(role="agent")
    today = tasks.today()
    assert _badge(client.get("/staff/cards/", headers=EN).get_data(as_text=True)) is None
    first = Task.create(title="a", due_date=today, assignee=staff)
    assert _badge(client.get("/staff/cards/", headers=EN).get_data(as_text=True)) == "1"
    Task.create(title="b", due_date=today - datetime.timedelta(days=2), assignee=staff)
    Task.create(title="later", due_date=today + datetime.timedelta(days=3), assignee=staff)
    assert _badge(client.get("/staff/cards/", headers=EN).get_data(as_text=True)) == "2"
    Task.update(done_at=datetime.datetime(2024, 1, 1)).where(Task.id == first.id).execute()
    assert _badge(client.get("/staff/cards/", headers=EN).get_data(as_text=True)) == "1"


def test_the_nav_follows_the_role_the_page_and_the_language(client, staff_login):
    staff_login(role="agent")
    page = client.get("/staff/cards/", headers=EN).get_data(as_text=True)
    nav = _nav(page)
    assert 'href="/staff/cards/" aria-current="page">Customer cards' in nav
    assert "/staff/team/" not in nav
    nav = _nav(client.get("/staff/tasks/", headers=EN).get_data(as_text=True))
    assert 'aria-current="page">My day' in nav
    assert 'aria-current="page">Customer cards' not in nav
    zh = _nav(client.get("/staff/cards/", headers=ZH).get_data(as_text=True))
    assert "客户资料卡" in zh and "Customer cards" not in zh

    staff_login(role="admin")  # signing in again ends the agent's session
    nav = _nav(client.get("/staff/cards/", headers=EN).get_data(as_text=True))
    assert 'href="/staff/team/">Staff</a>' in nav


def _override_fields(page):
    start = page.index('id="tier-panel"')
    return page[start:page.index("</form>", start)]


def test_the_tier_override_fields_follow_the_tiers_and_the_card(client, staff_login):
    staff_login(role="manager")
    low = tiers.create_tier(factories.SYSTEM, {"code": "low", "name_zh": "低", "name_en": "Low",
                                               "rank": 1, "colour": "#123456",
                                               "window_days": 365})
    customer, _ = factories.make_customer()
    url = f"/staff/cards/{customer.public_id}"
    fields = _override_fields(client.get(url, headers=EN).get_data(as_text=True))
    assert '<option value="low">Low</option>' in fields and "High" not in fields
    assert 'name="reason"' in fields and 'name="until"' in fields

    high = tiers.create_tier(factories.SYSTEM, {"code": "high", "name_zh": "高",
                                                "name_en": "High", "rank": 9,
                                                "colour": "#654321", "window_days": 365})
    fields = _override_fields(client.get(url, headers=EN).get_data(as_text=True))
    assert fields.index('value="high"') < fields.index('value="low"')  # highest rank first

    tiers.update_tier(low, factories.SYSTEM, {**_values(low), "name_en": "Lowly"})
    fields = _override_fields(client.get(url, headers=EN).get_data(as_text=True))
    assert ">Lowly</option>" in fields and ">Low</option>" not in fields
    assert "低" in _override_fields(client.get(url, headers=ZH).get_data(as_text=True))

    tiers.set_override(Customer.get_by_id(customer.id), factories.SYSTEM, high, "VIP")
    fields = _override_fields(client.get(url, headers=EN).get_data(as_text=True))
    assert '<option selected value="high">High</option>' in fields


def _values(tier):
    return {field: getattr(tier, field) for field in tiers.TIER_FIELDS}


def test_template_texts_follow_the_language_and_format_as_jinja_does(app):
    backoffice = app.backoffice
    with backoffice.test_request_context("/staff/", headers=ZH):
        source = ("{{ _('Customer cards') }}|{{ _('100%% sure') }}|"
                  "{{ _('Page %(page)s of %(pages)s · %(total)s in all', page='<b>', pages=2,"
                  " total=3) }}|{{ ngettext('%(num)s purchase', '%(num)s purchases', 2) }}")
        zh = render_template_string(source)
        with force_locale("en"):
            en = render_template_string(source)
        again = render_template_string(source)
    assert zh == again and zh.startswith("客户资料卡|100% sure|")
    assert "&lt;b&gt;" in zh and "<b>" not in zh
    assert en == "Customer cards|100% sure|Page &lt;b&gt; of 2 · 3 in all|2 purchases"


def test_fixed_urls_are_built_per_mount_point(app):
    backoffice = app.backoffice
    source = "{{ url_for('static', filename='css/app.css') }} {{ url_for('cards.index') }}"
    with backoffice.test_request_context("/cards/", base_url="http://x/staff"):
        staff = render_template_string(source)
    with backoffice.test_request_context("/cards/", base_url="http://x/elsewhere"):
        elsewhere = render_template_string(source)
    assert staff == "/staff/static/css/app.css /staff/cards/"
    assert elsewhere == "/elsewhere/static/css/app.css /elsewhere/cards/"


def _panel(page):
    return page[page.index('<details class="card-filter-panel"'):page.index("</details>")]


def test_the_card_filter_panel_follows_the_options_the_filters_and_the_language(client,
                                                                                 staff_login):
    """The list's filter panel is rendered once per key: a new tier, tag, member of staff or
    custom field shows at once, each filter value is its own, the search box stays per
    request, and a filter with an error is never served from the cache."""
    staff_login(role="manager")
    from models import CustomField, StaffUser, Tag, Tier

    def panel(query="", headers=EN):
        return _panel(client.get("/staff/cards/" + query, headers=headers)
                      .get_data(as_text=True))

    before = panel()
    assert panel() == before and "Platinum" not in before
    Tier.create(code="platinum", name_zh="白金", name_en="Platinum", rank=9)
    Tag.create(name="回头客")
    leaving = factories.make_staff(role="agent", name="Departing Dee")
    CustomField.create(key="shoe", label_zh="鞋码", label_en="Shoe size", kind="number")
    after = panel()
    assert "Platinum" in after and "回头客" in after and "Departing Dee" in after
    assert 'name="cf_shoe.from"' in after
    StaffUser.update(is_active=False).where(StaffUser.id == leaving.id).execute()
    assert "Departing Dee" not in panel()
    assert 'value="上海"' in panel("?city=上海") and 'value="北京"' in panel("?city=北京")
    assert " open" not in panel().split(">", 1)[0] and " open" in panel("?city=北京").split(">", 1)[0]
    assert "白金" in panel(headers=ZH) and "Platinum" not in panel(headers=ZH)
    for q in ("张", "王"):  # the search is outside the panel: one entry serves every search
        page = client.get("/staff/cards/?q=" + q, headers=EN).get_data(as_text=True)
        assert f'value="{q}"' in page[:page.index('<details class="card-filter-panel"')]
        assert _panel(page) == panel("?q=张")
    bad = panel("?cf_shoe.from=abc")
    assert "is-invalid" in bad and "is-invalid" not in panel("?cf_shoe.from=40")
    assert "is-invalid" in panel("?cf_shoe.from=abc")
