"""No portal route takes a customer's identity from the URL: identity comes from the session,
or from a signed link that is itself the credential. Every page a signed-in customer can open
shows nothing of another customer."""
from tests import factories
from tests.conftest import login

# URL arguments the portal may have: signed link tokens, consent purpose codes, static files.
ALLOWED_ARGUMENTS = {"token", "code", "filename"}


def test_no_portal_route_takes_an_identifier(app):
    for rule in app.portal.url_map.iter_rules():
        assert set(rule.arguments) <= ALLOWED_ARGUMENTS, (rule.rule, rule.arguments)


def test_every_page_shows_only_my_own_card(app, client, db):
    other, _ = factories.make_customer(name="别人的名字", mobile="13900001111",
                                       email="other.person@example.com", company="别人的公司")
    factories.make_purchase(other, amount="999.00", product="别人的商品")
    me, account = factories.make_customer(name="我自己", mobile="13800002222")
    factories.make_purchase(me, amount="100.00", product="我的商品")
    login(client, account.email, factories.PASSWORD)
    pages = [rule.rule for rule in app.portal.url_map.iter_rules()
             if not rule.arguments and "GET" in rule.methods and rule.endpoint != "static"]
    assert len(pages) >= 10
    for path in pages:
        response = client.get(path)
        text = response.get_data(as_text=True)
        for secret in ("别人的名字", "13900001111", "other.person@example.com", "别人的公司",
                       "别人的商品", other.public_id):
            assert secret not in text, (path, secret)


def test_forged_fields_in_every_portal_form_never_touch_another_card(app, client, db):
    """Every POST form of the portal, sent by one customer with another customer's identifiers
    and privileged fields added, leaves the other card (and the sender's tier/status) alone."""
    from models import ChangeRequest, ConsentEvent, Customer, Feedback, Purchase
    from tests.conftest import csrf_from
    other, _ = factories.make_customer(name="别人", mobile="13900001111")
    purchase = factories.make_purchase(other, amount="50.00", product="别人的商品")
    me, account = factories.make_customer(name="我自己", mobile="13800002222")
    login(client, account.email, factories.PASSWORD)
    snapshot = Customer.select().where(Customer.id == other.id).dicts().get()
    forged = {"customer": other.id, "customer_id": other.id, "public_id": other.public_id,
              "account": other.id, "purchase_public_id": purchase.public_id,
              "about": f"purchase:{purchase.public_id}", "tier": "1", "tier_id": "1",
              "status": "active", "role": "admin", "email": "other@example.com",
              "name": "被篡改", "message": "forged", "category": "other"}
    posts = [rule.rule for rule in app.portal.url_map.iter_rules()
             if not rule.arguments and "POST" in rule.methods
             and rule.endpoint not in ("auth.logout", "i18n.set_language", "auth.login")]
    assert len(posts) >= 8
    for path in posts:
        token = csrf_from(client, "/")
        client.post(path, data={"csrf_token": token, **forged})
    assert Customer.select().where(Customer.id == other.id).dicts().get() == snapshot
    for model in (ChangeRequest, ConsentEvent, Feedback):
        assert model.select().where(model.customer == other.id).count() == 0, model
    assert Purchase.select().where(Purchase.customer == other.id).count() == 1
    mine = Customer.get_by_id(me.id)
    assert mine.tier_id is None and mine.status == "prospect"
    assert Feedback.select().where(Feedback.purchase == purchase.id).count() == 0
