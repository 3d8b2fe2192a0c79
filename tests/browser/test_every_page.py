"""Every page without URL arguments, in both languages, in Chromium: the portal on a phone as a
signed-in customer, the back office on a desktop as an admin. Each renders without a console
error, a CSP violation or a failed request, fits its viewport, and leaves a screenshot."""
import pytest

from services import accounts
from tests import factories
from tests.browser.test_sign_in import customer_sign_in, staff_sign_in

pytestmark = pytest.mark.browser
SKIP = {"static", "health.healthz", "auth.logout", "i18n.set_language", "auth.login",
        "consent.history_csv"}  # the CSV is a download, not a page


def _pages(flask_app, prefix=""):
    return sorted(prefix + rule.rule for rule in flask_app.url_map.iter_rules()
                  if not rule.arguments and "GET" in rule.methods and rule.endpoint not in SKIP)


def _shot(path):
    return path.strip("/").replace("/", "-") or "home"


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_portal_page_on_a_phone(app, pages, live_server, screenshots, lang):
    customer, account = factories.make_customer(name="王芳" if lang == "zh" else "Emma Wilson",
                                                preferred_language=lang, mobile="13800138000")
    factories.make_purchase(customer, amount="268.00", product="保湿面霜 50ml")
    page = pages.new_page(lang, phone=True)
    customer_sign_in(page, live_server, account.email)
    paths = _pages(app.portal)
    assert len(paths) >= 10
    for path in paths:
        response = page.goto(live_server + path)
        # /register answers 404 while self-registration is off (the default)
        assert response.status == (404 if path == "/register" else 200), path
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, path
        page.screenshot(path=screenshots / f"every-portal-{_shot(path)}-{lang}.png",
                        full_page=True)
    pages.assert_clean(expected_status=404)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_back_office_page_on_a_desktop(app, pages, live_server, screenshots, lang):
    staff = factories.make_staff(role="admin")
    accounts.set_preferred_language(staff, lang)
    customer, _ = factories.make_customer(name="张伟", mobile="13800138000")
    factories.make_purchase(customer, amount="99.00")
    page = pages.new_page(lang)
    staff_sign_in(page, live_server, staff.email)
    paths = _pages(app.backoffice, "/staff")
    assert len(paths) >= 7
    # pages about one card take it from the query string
    query = {"/staff/tasks/new": f"?customer={customer.public_id}"}
    campaign_paths, campaign_query = _campaign_pages(staff, customer)
    paths += campaign_paths
    query.update(campaign_query)
    for path in paths:
        response = page.goto(live_server + path + query.get(path, ""))
        assert response.status == 200, path
        page.screenshot(path=screenshots / f"every-staff-{_shot(path)}-{lang}.png",
                        full_page=True)
    pages.assert_clean()


def _campaign_pages(staff, customer):
    """The pages of a draft and of a sent campaign (their id is in the URL): (paths, query)."""
    import models
    from services import campaign_lifecycle, campaigns, segments, static_lists
    from services.demo.reference import ensure_purposes
    ensure_purposes(models.utcnow())
    audience = segments.create_segment(factories.SYSTEM, None, "春季名单", "", "static")
    static_lists.add_cards(audience, [customer.public_id], factories.SYSTEM)
    data = {"name": "春季新品", "segment": audience.public_id, "attribution_days": "30",
            "subject_zh": "{{ name }}，春季新品到了", "body_zh": "{{ name }}您好！"}
    draft = campaigns.create(factories.SYSTEM, staff, data)
    sent = campaign_lifecycle.start(campaigns.create(factories.SYSTEM, staff, data), factories.SYSTEM)
    for campaign, public_id in ((draft, "demo-draft"), (sent, "demo-sent")):  # stable names
        models.Campaign.update(public_id=public_id).where(
            models.Campaign.id == campaign.id).execute()
        campaign.public_id = public_id
    base = "/staff/campaigns/"
    paths = [base + draft.public_id, f"{base}{draft.public_id}/edit",
             f"{base}{draft.public_id}/start", base + sent.public_id,
             f"{base}{sent.public_id}/results"]
    return paths, {f"{base}{draft.public_id}/start": "?mode=now"}
