"""My details: customers correct their own card under the per-field policies."""
import pytest

from models import AuditEvent, ChangeRequest, ContactPoint, Customer, Tier
from services import DomainError, profile
from services.actors import Actor
from tests.conftest import post_form

GOOD = {"name": "张伟", "mobile": "13800138000", "country": "CN", "preferred_language": "zh"}


def save(client, headers=None, **changes):
    return post_form(client, "/details/", {**GOOD, **changes}, headers=headers or {})


def card(customer):
    return Customer.get_by_id(customer.id)


@pytest.mark.parametrize("typed", ["１３９ ００１３ ８０００", "+86 139-0013-8000", "0086 13900138000",
                                   "139 0013 8000"])
def test_mobile_in_any_common_form_is_stored_as_e164(client, customer_login, typed):
    customer, _ = customer_login(name="张伟", mobile="13800138000")
    response = save(client, mobile=typed)
    assert response.headers["Location"] == "/details/"
    assert card(customer).primary_mobile == "+8613900138000"
    primary = ContactPoint.get(ContactPoint.customer == customer, ContactPoint.kind == "mobile",
                               ContactPoint.is_primary == True)  # noqa: E712
    assert primary.normalized == "+8613900138000"


def test_auto_fields_save_at_once_with_an_audit_trail(client, customer_login):
    customer, _ = customer_login(name="张伟", mobile="13800138000")
    before_version = card(customer).version
    save(client, wechat="zhangwei_88", city="杭州", province="浙江", district="西湖区",
         address="文三路 100 号", postal_code="310000", birthday="1990-08-15",
         birthday_lunar="y")
    saved = card(customer)
    assert (saved.city, saved.province, saved.postal_code) == ("杭州", "浙江", "310000")
    # lunar 1990-08-15 (中秋) was 3 October 1990; the form shows it back as typed
    assert str(saved.birthday) == "1990-10-03" and saved.birthday_lunar
    assert saved.version == before_version + 1 and saved.last_verified_at is not None
    event = AuditEvent.get(AuditEvent.action == "customer.update")
    assert event.actor_kind == "customer" and event.after["city"] == "杭州"
    assert event.before["city"] is None
    page = client.get("/details/").get_data(as_text=True)
    assert 'value="zhangwei_88"' in page and "文三路 100 号" in page
    assert 'value="1990-08-15"' in page
    save(client, wechat="zhangwei_88", city="杭州", province="浙江", district="西湖区",
         address="文三路 100 号", postal_code="310000", birthday="1990-08-15",
         birthday_lunar="y")
    assert card(customer).version == before_version + 1  # saving it unchanged changes nothing


def test_review_fields_wait_for_staff_and_the_old_value_stays(client, customer_login):
    customer, _ = customer_login(name="张伟", mobile="13800138000", company="旧公司")
    save(client, name="张伟伟", company="<script>alert(1)</script>")
    assert card(customer).name == "张伟" and card(customer).company == "旧公司"
    request = ChangeRequest.get(ChangeRequest.customer == customer)
    assert request.status == "pending"
    assert request.changes["name"] == {"old": "张伟", "new": "张伟伟"}
    page = client.get("/details/").get_data(as_text=True)  # the card's language: zh
    assert "待审核：张伟伟" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    save(client, name="张大伟")  # a second edit updates the one pending request
    assert ChangeRequest.select().count() == 1
    assert ChangeRequest.get().changes["name"]["new"] == "张大伟"


@pytest.mark.parametrize("field,value,message", [
    ("mobile", "12345", "This is not a valid phone number."),
    ("name", "", "Enter the full name."),
    ("name", "长" * 201, "This is too long (200 characters at most)."),
    ("wechat", "1abc", "A WeChat ID has 6 to 20 letters"),
    ("postal_code", "12345", "A Chinese postal code has 6 digits."),
    ("birthday", "2999-01-01", "Enter a birthday between 1900 and today."),
    ("name", "bad\x00name", "characters that cannot be saved"),
])
def test_bad_input_is_marked_at_the_field_and_nothing_is_saved(client, customer_login, field,
                                                               value, message):
    customer, _ = customer_login(name="张伟", mobile="13800138000")
    response = post_form(client, "/details/", {**GOOD, "city": "成都", field: value},
                         headers={"Accept-Language": "en"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert message in page.replace("&#39;", "'") or message in page
    assert "is-invalid" in page and 'value="成都"' in page  # the rest of the input is kept
    assert card(customer).city is None  # nothing half-saved


def test_lunar_dates_that_no_solar_calendar_has(client, customer_login):
    customer, _ = customer_login()
    page = save(client, birthday="2023-02-31", birthday_lunar="y",
                headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "This day does not exist in the lunar calendar." in page
    page = save(client, birthday="1990-02-30", headers={"Accept-Language": "en"})
    assert "This date does not exist." in page.get_data(as_text=True)
    save(client, birthday="1990-02-30", birthday_lunar="y")  # lunar 二月三十 exists in 1990
    assert str(card(customer).birthday) == "1990-03-26"


def test_emoji_and_rtl_text_are_kept(client, customer_login):
    customer, _ = customer_login(name="张伟")
    save(client, alt_name="Wei 🌸 وي", district="مركز")
    assert ChangeRequest.get().changes["alt_name"]["new"] == "Wei 🌸 وي"
    assert card(customer).district == "مركز"


def test_forged_fields_never_reach_the_card(client, customer_login, db):
    customer, _ = customer_login(name="张伟")
    vip = Tier.create(code="vip", name_zh="VIP", name_en="VIP", rank=30)
    save(client, tier=str(vip.id), status="active", id_number_enc="x", version="99")
    saved = card(customer)
    assert saved.tier_id is None and saved.status == "prospect" and saved.id_number_enc is None
    with pytest.raises(DomainError):
        profile.update_own_details(saved, {"tier": vip.id}, Actor.system())


def test_a_locked_field_is_shown_but_not_editable(client, customer_login, settings, app):
    app.portal.config["PORTAL_FIELD_POLICY"] = "company=locked"
    from services import runtime
    runtime.settings["PORTAL_FIELD_POLICY"] = "company=locked"
    customer, _ = customer_login(name="张伟", company="华为")
    page = client.get("/details/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'name="company"' not in page and "Kept by the shop" in page and "华为" in page
    save(client, company="别的公司")
    assert card(customer).company == "华为" and ChangeRequest.select().count() == 0


def test_each_customer_sees_only_their_own_details(app, db):
    from werkzeug.test import Client

    from tests import factories
    from tests.conftest import login
    first, a1 = factories.make_customer(name="王芳", mobile="13800138001")
    second, a2 = factories.make_customer(name="李娜", mobile="13800138002")
    browser = Client(app)
    login(browser, a2.email, factories.PASSWORD)
    page = browser.get("/details/").get_data(as_text=True)
    assert "李娜" in page and "王芳" not in page and "13800138001" not in page
    post_form(browser, "/details/", {**GOOD, "name": "李娜", "mobile": "13800138009"})
    assert card(first).primary_mobile == "+8613800138001"


def test_confirm_my_details_link_works_without_a_password_once(app, db):
    from werkzeug.test import Client

    from tests import factories
    customer, _ = factories.make_customer(name="王芳", mobile="13800138000", account=False)
    url = profile.confirm_details_link(customer)
    path = url.split("://", 1)[1].split("/", 1)[1]
    browser = Client(app)
    page = browser.get("/" + path)
    assert page.status_code == 200 and "+86 138 0013 8000" in page.get_data(as_text=True)
    assert card(customer).last_verified_at is None  # looking changes nothing
    done = post_form(browser, "/" + path, {})
    assert done.status_code == 200 and card(customer).last_verified_at is not None
    assert AuditEvent.get(AuditEvent.action == "customer.confirm_details").actor_kind == "link"
    assert browser.get("/" + path).status_code == 410
    assert browser.get("/details/").status_code == 302  # the link is no sign-in
