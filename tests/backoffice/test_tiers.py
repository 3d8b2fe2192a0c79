"""Tiers through HTTP: the list, add / edit / delete (refused while in use), the recalculation
button (a background job with its result on the page), a card's override and its removal, and
the card's tier panel with the reasons in words (English and Chinese)."""
import re
from decimal import Decimal

import pytest

import models
from models import AuditEvent, Customer, Purchase, Tier, TierChange
from services import tiers
from tests import factories
from tests.conftest import csrf_from, post_form

EN = {"Accept-Language": "en"}
ZH = {"Accept-Language": "zh"}
LIST = "/staff/tiers/"
FORM = {"code": "gold", "name_zh": "金卡", "name_en": "Gold", "rank": "40", "colour": "#c9a227",
        "min_spend": "10,000", "min_orders": "3", "window_days": "365", "min_tenure_days": "",
        "benefits": "10% off <script>alert(1)</script>"}


def html(response):
    return response.get_data(as_text=True)


@pytest.fixture
def regular(db):
    tiers.create_tier(factories.SYSTEM, {"code": "prospect", "name_zh": "潜在客户",
                                         "name_en": "Prospect", "rank": 10, "colour": "#6c757d",
                                         "window_days": 365, "is_default": True})
    return tiers.create_tier(factories.SYSTEM, {"code": "regular", "name_zh": "普通客户",
                                                "name_en": "Regular", "rank": 20,
                                                "colour": "#2f6fb0", "min_orders": 1,
                                                "window_days": 730})


def test_a_manager_adds_a_tier_and_sees_it_listed(client, staff_login, regular):
    manager = staff_login(role="manager")
    response = post_form(client, "/staff/tiers/new", FORM, headers=EN)
    assert response.headers["Location"] == LIST
    gold = Tier.get(Tier.code == "gold")
    assert (gold.min_spend, gold.min_orders, gold.rank) == (Decimal("10000.00"), 3, 40)
    event = AuditEvent.select().where(AuditEvent.action == "tier.create").order_by(
        AuditEvent.id.desc()).get()
    assert (event.actor_id, event.after["code"]) == (manager.id, "gold")
    page = html(client.get(LIST, headers=EN))
    assert re.findall(r'id="tier-([\w-]+)"', page) == ["gold", "regular", "prospect"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    assert 'data-colour="#c9a227"' in page and "style=" not in page


def test_bad_input_shows_at_the_field_and_keeps_the_rest(client, staff_login, regular):
    staff_login(role="manager")
    response = post_form(client, "/staff/tiers/new", {**FORM, "colour": "gold", "rank": "20"},
                         token_from=LIST, headers=EN)
    assert response.status_code == 400
    page = html(response)
    assert "Use a colour like #c9a227." in page and 'value="金卡"' in page
    response = post_form(client, "/staff/tiers/new", {**FORM, "rank": "20"}, token_from=LIST,
                         headers=EN)
    assert "Another tier has this rank" in html(response)
    assert not Tier.select().where(Tier.code == "gold").exists()


def test_edit_a_tier(client, staff_login, regular):
    staff_login(role="manager")
    page = html(client.get("/staff/tiers/regular/edit", headers=EN))
    assert 'value="普通客户"' in page
    response = post_form(client, "/staff/tiers/regular/edit",
                         {**FORM, "code": "regular", "name_en": "Member", "rank": "20"},
                         headers=EN)
    assert response.headers["Location"] == LIST
    assert Tier.get_by_id(regular.id).name_en == "Member"
    assert client.get("/staff/tiers/nope/edit").status_code == 404


def test_delete_is_refused_while_the_tier_is_in_use(client, staff_login, regular):
    staff_login(role="manager")
    factories.make_customer(account=False)
    tiers.recalculate(factories.SYSTEM)  # the card gets the default tier
    token = csrf_from(client, LIST)
    response = client.post("/staff/tiers/prospect/delete", data={"csrf_token": token},
                           headers=EN)
    assert response.headers["Location"] == LIST
    assert "is in use (1 cards" in html(client.get(LIST, headers=EN))
    assert Tier.select().where(Tier.code == "prospect").exists()
    spare = tiers.create_tier(factories.SYSTEM, {"code": "spare", "name_zh": "备", "name_en":
                                                 "Spare", "rank": 1, "colour": "#000000",
                                                 "window_days": 30})
    client.post("/staff/tiers/spare/delete", data={"csrf_token": token})
    assert Tier.get_or_none(Tier.id == spare.id) is None


def test_the_recalculate_button_runs_the_job_and_shows_its_result(client, staff_login,
                                                                     regular):
    staff_login(role="manager")
    customer = factories.make_customer(account=False)[0]
    Purchase.create(customer=customer, product="x", amount=Decimal(88))
    response = post_form(client, "/staff/tiers/recalculate", {}, token_from=LIST, headers=EN)
    assert response.headers["Location"] == LIST
    assert Customer.get_by_id(customer.id).tier_id == regular.id
    page = html(client.get(LIST, headers=EN))
    assert "Recalculation started" in page
    assert re.search(r"Last recalculation .*: 1 cards changed tier", page)


def test_override_and_remove_from_the_card(client, staff_login, regular):
    manager = staff_login(role="manager")
    customer = factories.make_customer(account=False)[0]
    card = f"/staff/cards/{customer.public_id}"
    override = f"/staff/tiers/card/{customer.public_id}/override"
    response = post_form(client, override, {"tier": "regular", "reason": "Friend <b>of</b> us",
                                            "until": "2999-12-31", "next": card}, headers=EN)
    assert response.headers["Location"] == card
    fresh = Customer.get_by_id(customer.id)
    assert (fresh.tier_id, fresh.tier_overridden) == (regular.id, True)
    assert fresh.tier_override_until.year in (2999, 3000)
    change = TierChange.select().order_by(TierChange.id.desc()).get()
    assert (change.source, change.changed_by_id) == ("override", manager.id)

    response = post_form(client, override, {"tier": "regular", "reason": ""}, headers=EN)
    assert response.status_code == 400 and "Fill in this field." in html(response)
    response = post_form(client, override, {"tier": "regular", "reason": "x", "until": "soon"},
                         headers=EN)
    assert response.status_code == 400 and "Enter a date, or leave it empty." in html(response)

    token = csrf_from(client, override)
    client.post(f"/staff/tiers/card/{customer.public_id}/override/remove",
                data={"csrf_token": token, "next": card})
    fresh = Customer.get_by_id(customer.id)
    assert fresh.tier_overridden is False and fresh.tier.code == "prospect"
    # created (-> prospect by the rules), overridden, override removed (-> prospect again)
    assert [c.source for c in TierChange.select().order_by(TierChange.id)] == [
        "rule", "override", "removed"]


def test_the_tier_panel_says_why_in_english_and_chinese(client, staff_login, regular):
    staff_login(role="manager")
    customer = factories.make_customer(account=False)[0]
    for _n in range(3):
        Purchase.create(customer=customer, product="x", amount=Decimal(4100))
    tiers.recalculate(factories.SYSTEM)
    tiers.set_override(Customer.get_by_id(customer.id), factories.SYSTEM, regular,
                       "<script>bad()</script>", until=models.utcnow().replace(year=2999))
    page = html(client.get(f"/staff/cards/{customer.public_id}", headers=EN))
    panel = page[page.index('id="tier-panel"'):]
    panel = panel[:panel.index("</section>")]
    assert "3 purchases in the last 730 days ≥ 1" in panel
    assert "set by hand: &lt;script&gt;bad()&lt;/script&gt;" in panel
    assert "<script>bad()" not in panel
    assert f'action="/staff/tiers/card/{customer.public_id}/override"' in panel
    assert "Remove the override" in panel
    page = html(client.get(f"/staff/cards/{customer.public_id}", headers=ZH))
    panel = page[page.index('id="tier-panel"'):]
    assert "<strong>普通客户</strong>" in panel and "VIP" not in panel


def test_agents_cannot_reach_tiers(client, staff_login, regular):
    staff_login(role="agent")
    customer = factories.make_customer(account=False)[0]
    assert client.get(LIST).status_code == 403
    token = csrf_from(client, "/staff/tasks/")
    response = client.post(f"/staff/tiers/card/{customer.public_id}/override",
                           data={"csrf_token": token, "tier": "regular", "reason": "x"})
    assert response.status_code == 403
    assert Customer.get_by_id(customer.id).tier_overridden is False
