"""The consent centre, double opt-in, one-click unsubscribe and the consent history, through
HTTP as a customer (or a mail provider) uses them. Links are taken from the emails sent."""
import csv
import datetime
import io
import re

import pytest
from werkzeug.test import Client

import models
from models import (AuditEvent, ConsentEvent, ConsentPolicy, ConsentPurpose, EmailMessage,
                    LinkToken)
from services import consent, mail
from services.actors import Actor
from services.demo.reference import ensure_purposes
from tests import factories
from tests.conftest import csrf_from, login

UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Consent-Test"
OPTIN_RE = re.compile(r"https?://[^/\s]+(/consent/confirm/\S+)")
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}
EN = {"Accept-Language": "en"}




@pytest.fixture
def purposes(db):
    """The demo business's seven purposes (email marketing: double opt-in; third_party and
    cross_border: sensitive), each with its version 1 policy."""
    return ensure_purposes(models.utcnow())[0]


def post(client, path, data=None, token_from="/consent/", **kwargs):
    """POST a form from a page, with that page's CSRF token, as a browser would."""
    token = csrf_from(client, token_from)
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def page(client, path="/consent/", headers=None):
    response = client.get(path, headers=headers or {})
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def status_of(html, code):
    match = re.search(rf'id="purpose-{code}"[^>]*data-status="(\w+)"', html)
    assert match, f"no purpose {code} on the page"
    return match.group(1)


def events(customer, code=None):
    query = ConsentEvent.select().where(ConsentEvent.customer == customer)
    if code:
        query = query.join(ConsentPurpose).where(ConsentPurpose.code == code)
    return list(query.order_by(ConsentEvent.id))


def optin_link(to_addr):
    message = (EmailMessage.select().where(EmailMessage.to_addr == to_addr,
                                           EmailMessage.kind == "optin")
               .order_by(EmailMessage.id.desc()).first())
    assert message is not None, f"no opt-in mail to {to_addr}"
    return OPTIN_RE.search(message.body_text).group(1), message


def test_nothing_is_given_or_ticked_on_the_first_visit(client, customer_login, purposes):
    customer_login()
    html = page(client, headers=ZH)
    assert [status_of(html, code) for code in purposes] == ["never"] * 7
    assert "checked" not in html
    assert html.count('type="checkbox"') == 2  # the two sensitive purposes, and only they
    assert 'name="separate_consent"' in html and "id=\"separate-third_party\"" in html
    assert "邮件营销" in html and "经您单独同意" in html  # names and policy texts in zh
    assert html.index("purpose-email_marketing") < html.index("purpose-cross_border")
    assert "style=" not in html and "<script>" not in html
    assert ConsentEvent.select().count() == 0


def test_granting_sms_records_the_proof(client, customer_login, purposes):
    customer, _account = customer_login()
    response = post(client, "/consent/sms/grant", headers={"User-Agent": UA, **EN},
                    environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert response.status_code == 302 and response.headers["Location"] == "/consent/"
    html = page(client, headers=EN)
    assert status_of(html, "sms") == "granted"
    assert "you have given your consent to SMS messages" in html

    [event] = events(customer)
    assert (event.purpose.code, event.granted, event.policy_version, event.source) == (
        "sms", True, 1, "portal")
    assert (event.ip, event.user_agent) == ("203.0.113.7", UA)
    assert (event.actor_kind, event.actor_id) == ("customer", customer.id)
    assert consent.has_consent(customer.id, "sms")
    audit = AuditEvent.get(AuditEvent.action == "consent.grant")
    assert audit.customer_id == customer.id and audit.actor_kind == "customer"
    assert audit.before == {"purpose": "sms", "granted": None}
    assert audit.after["granted"] is True and audit.after["policy_version"] == 1
    assert audit.user_agent == UA

    post(client, "/consent/sms/grant")  # a double submission writes nothing more
    assert len(events(customer)) == 1


def test_withdrawing_takes_effect_at_once(client, customer_login, purposes):
    customer, _ = customer_login()
    post(client, "/consent/sms/grant")
    response = post(client, "/consent/sms/withdraw", headers=EN)
    assert response.headers["Location"] == "/consent/"
    assert not consent.has_consent(customer.id, "sms")
    html = page(client, headers=EN)
    assert status_of(html, "sms") == "withdrawn"
    assert "This takes effect at once." in html
    post(client, "/consent/sms/withdraw")
    assert status_of(page(client), "sms") == "withdrawn"
    assert [e.granted for e in events(customer, "sms")] == [True, False]
    audit = AuditEvent.get(AuditEvent.action == "consent.withdraw")
    assert audit.before["granted"] is True and audit.after["granted"] is False


def test_email_marketing_starts_only_after_the_emailed_link_is_confirmed(
        app, client, customer_login, purposes):
    customer, _account = customer_login(email="optin@example.com", preferred_language="zh")
    response = post(client, "/consent/email_marketing/grant", headers=EN)
    assert response.headers["Location"] == "/consent/"
    assert status_of(page(client), "email_marketing") == "pending"
    assert events(customer) == [] and not consent.has_consent(customer.id, "email_marketing")
    path, message = optin_link("optin@example.com")
    assert "邮件营销" in message.subject and message.customer_id == customer.id

    mail_app = Client(app)  # the customer's mail app: no portal cookies
    for _ in range(2):  # link scanners and previews open it; nothing happens
        confirm = mail_app.get(path, headers=EN)
        assert confirm.status_code == 200
        assert "optin@example.com" in confirm.get_data(as_text=True)
    assert events(customer) == [] and not consent.has_consent(customer.id, "email_marketing")

    done = post(mail_app, path, token_from=path, headers={"User-Agent": UA, **EN})
    assert done.status_code == 200 and "Thank you, confirmed" in done.get_data(as_text=True)
    [event] = events(customer)
    assert (event.granted, event.source, event.actor_kind, event.user_agent) == (
        True, "link", "link", UA)
    assert consent.has_consent(customer.id, "email_marketing")
    assert status_of(page(client), "email_marketing") == "granted"

    again = post(mail_app, path, token_from="/login", headers=EN)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert len(events(customer)) == 1


def test_cancelling_a_pending_opt_in_voids_its_link(app, client, customer_login, purposes):
    customer, _ = customer_login(email="cancel@example.com")
    post(client, "/consent/email_marketing/grant")
    path, _ = optin_link("cancel@example.com")
    post(client, "/consent/email_marketing/withdraw")
    assert status_of(page(client), "email_marketing") == "withdrawn"
    assert Client(app).get(path).status_code == 410
    assert not consent.has_consent(customer.id, "email_marketing")


def test_bad_opt_in_links_change_nothing(app, client, customer_login, purposes):
    customer, _ = customer_login(email="bad-links@example.com")
    post(client, "/consent/email_marketing/grant")
    path, _ = optin_link("bad-links@example.com")
    browser = Client(app)
    assert browser.get(path[:-3] + "abc").status_code == 400
    LinkToken.update(expires_at=models.utcnow() - datetime.timedelta(seconds=1)).execute()
    expired = browser.get(path, headers=EN)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert post(browser, path, token_from="/login").status_code == 410
    assert events(customer) == []


def test_sensitive_purposes_need_their_own_tick(client, customer_login, purposes):
    customer, _ = customer_login()
    audits = AuditEvent.select().count()
    refused = post(client, "/consent/third_party/grant", headers=EN)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "Tick the box to give your separate consent to this purpose." in html
    assert 'class="form-check-input is-invalid"' in html and 'href="#purpose-third_party"' in html
    assert events(customer) == [] and AuditEvent.select().count() == audits

    granted = post(client, "/consent/third_party/grant", {"separate_consent": "y"})
    assert granted.status_code == 302
    assert consent.has_consent(customer.id, "third_party")
    assert status_of(page(client), "cross_border") == "never"


def test_a_new_policy_version_asks_again(client, customer_login, purposes):
    customer, _ = customer_login()
    post(client, "/consent/sms/grant")
    sms = ConsentPurpose.get(ConsentPurpose.code == "sms")
    ConsentPolicy.create(purpose=sms, version=2, text_zh="新的短信政策：每月最多 2 条。",
                         text_en="New SMS policy: at most two a month.")
    sms.current_version = 2
    sms.save()

    assert not consent.has_consent(customer.id, "sms")
    [state] = [s for s in consent.current_state(customer) if s.purpose.code == "sms"]
    assert (state.granted, state.version, state.needs_renewal) == (True, 1, True)
    html = page(client, headers=EN)
    assert status_of(html, "sms") == "renew"
    assert "Policy updated: please confirm again" in html
    assert "New SMS policy: at most two a month." in html and "Reply STOP" not in html

    post(client, "/consent/sms/grant")
    assert consent.has_consent(customer.id, "sms")
    assert [e.policy_version for e in events(customer, "sms")] == [1, 2]


def test_unknown_purposes_are_not_found(client, customer_login, purposes):
    customer_login()
    assert post(client, "/consent/no_such_thing/grant").status_code == 404
    assert post(client, "/consent/no_such_thing/withdraw").status_code == 404
    ConsentPurpose.update(active=False).where(ConsentPurpose.code == "phone").execute()
    assert post(client, "/consent/phone/grant").status_code == 404
    assert "purpose-phone" not in page(client)


def test_history_page_and_csv(client, customer_login, purposes):
    customer, account = customer_login()
    me = Actor.for_customer(account, "127.0.0.1", UA)
    for _ in range(30):  # through the service, to keep the test quick
        consent.grant(customer, "sms", me, "portal")
        consent.withdraw(customer, "sms", me, "portal")
    post(client, "/consent/profiling/grant")
    html = page(client, "/consent/history", headers=EN)
    assert html.count('class="list-group-item"') == 50
    assert "Personalised recommendations" in html.split('class="list-group-item"')[1]
    assert "Page 1 of 2" in html and "/consent/history.csv" in html
    assert page(client, "/consent/history?page=2").count('class="list-group-item"') == 11

    response = client.get("/consent/history.csv", headers=ZH)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert len(rows) == 1 + 61
    assert rows[1][1] == "个性化推荐" and rows[2][1] == "短信通知"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rows[1][0])
    assert rows[1][3] == "1" and rows[2][5] == "127.0.0.1"
    english = list(csv.reader(io.StringIO(
        client.get("/consent/history.csv", headers=EN).get_data().decode("utf-8-sig"))))
    assert english[0] == ["Time (UTC)", "Purpose", "Action", "Policy version", "Source",
                          "IP address"]
    assert english[1][1:5] == ["Personalised recommendations", "Granted", "1", "Customer portal"]
    assert english[2][2] == "Withdrawn"


def test_csv_cells_cannot_run_formulas(client, customer_login, purposes):
    customer_login()
    ConsentPurpose.update(name_zh='=HYPERLINK("http://evil.example","点我")').where(
        ConsentPurpose.code == "sms").execute()
    post(client, "/consent/sms/grant", environ_base={"REMOTE_ADDR": "+1-2"})
    post(client, "/consent/wechat/grant")
    ConsentPurpose.update(name_zh="@SUM(1)\x1b").where(ConsentPurpose.code == "wechat").execute()
    body = client.get("/consent/history.csv", headers=ZH).get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[1][1] == "'@SUM(1)"
    assert rows[2][1] == "'=HYPERLINK(\"http://evil.example\",\"点我\")"
    assert rows[2][5] == "'+1-2"
    assert not [cell for row in rows for cell in row if cell[:1] in ("=", "+", "-", "@")]
    assert consent.safe_cell("\x00=1+2") == "'=1+2" and consent.safe_cell(None) == ""


def test_one_click_unsubscribe_needs_no_cookies_and_is_idempotent(app, db, purposes):
    customer, _ = factories.make_customer(email="promo@example.com")
    consent.grant(customer, "email_marketing", Actor.system("tests"), "staff")
    assert consent.has_consent(customer.id, "email_marketing")
    row = mail.queue("campaign", "promo@example.com", "Spring offers", "Hello",
                     customer=customer, headers=consent.list_unsubscribe_headers(customer))
    message = mail.build_mime(row)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://[^>]+)>", message["List-Unsubscribe"]).group(1)
    path = re.sub(r"^https?://[^/]+", "", url)
    assert path.startswith("/unsubscribe/")

    for _ in range(2):  # a browser (or scanner) opening the link changes nothing
        shown = Client(app).get(path, headers=EN)
        assert shown.status_code == 200 and "Unsubscribe" in shown.get_data(as_text=True)
    assert consent.has_consent(customer.id, "email_marketing")

    for _ in range(2):  # what a mail provider sends: no cookies, no CSRF token
        done = Client(app).post(path, data="List-Unsubscribe=One-Click", headers=EN,
                                content_type="application/x-www-form-urlencoded")
        assert done.status_code == 200
        assert "You are unsubscribed" in done.get_data(as_text=True)
        assert not consent.has_consent(customer.id, "email_marketing")
    withdrawn = events(customer, "email_marketing")[-1]
    assert len(events(customer)) == 2
    assert (withdrawn.granted, withdrawn.source, withdrawn.actor_kind) == (False, "unsubscribe",
                                                                          "link")
    audit = AuditEvent.get(AuditEvent.action == "consent.withdraw")
    assert audit.actor_kind == "link" and audit.actor_label == "unsubscribe link"


def test_tampered_unsubscribe_links_change_nothing(app, db, purposes):
    customer, _ = factories.make_customer()
    consent.grant(customer, "email_marketing", Actor.system("tests"), "staff")
    path = re.sub(r"^https?://[^/]+", "", consent.unsubscribe_link(customer))
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert Client(app).get(tampered).status_code == 400
    assert Client(app).post(tampered, data={"List-Unsubscribe": "One-Click"}).status_code == 400
    wrong_purpose = path.replace("/unsubscribe/", "/consent/confirm/")
    assert Client(app).get(wrong_purpose).status_code == 400
    assert consent.has_consent(customer.id, "email_marketing")


def test_csrf_stays_on_for_everything_else(client, customer_login, purposes):
    customer, _ = customer_login()
    client.get("/consent/")
    assert client.post("/consent/sms/grant").status_code == 400
    assert client.post("/consent/sms/withdraw").status_code == 400
    assert events(customer) == []


def test_each_customer_sees_and_changes_only_their_own_consent(app, client, customer_login,
                                                               purposes):
    alice, alice_account = customer_login(email="alice@example.com")
    post(client, "/consent/sms/grant")
    post(client, "/consent/third_party/grant", {"separate_consent": "y"})

    bob_browser = Client(app)
    bob, bob_account = factories.make_customer(email="bob@example.com")
    login(bob_browser, bob_account.email, factories.PASSWORD)
    html = page(bob_browser)
    assert status_of(html, "sms") == "never" and status_of(html, "third_party") == "never"
    post(bob_browser, "/consent/sms/withdraw")
    assert consent.has_consent(alice.id, "sms") and not consent.has_consent(bob.id, "sms")
    assert page(bob_browser, "/consent/history").count('class="list-group-item"') == 1
    bob_csv = bob_browser.get("/consent/history.csv").get_data().decode("utf-8-sig")
    assert len(bob_csv.strip().splitlines()) == 2

    # Nothing in these pages' links or forms names a customer: identity is the session.
    for path in ("/consent/", "/consent/history"):
        alice_html = page(client, path)
        urls = [u for u in re.findall(r'(?:href|action)="([^"]*)"', alice_html)
                if u.startswith("/consent/")]
        assert urls
        for url in urls:
            assert alice.public_id not in url and alice_account.email not in url, url
            assert str(alice.id) not in re.split(r"[/?=&]", url), url

    signed_out = Client(app)
    assert signed_out.get("/consent/").headers["Location"].startswith("/login?next=/consent/")
    assert signed_out.get("/consent/history.csv").status_code == 302
    assert signed_out.post("/consent/sms/withdraw").status_code in (302, 400)
    assert consent.has_consent(alice.id, "sms")


def test_the_state_of_all_purposes_takes_two_queries(db, purposes, monkeypatch):
    customer, _ = factories.make_customer()
    for code in ("sms", "phone", "wechat", "profiling"):
        consent.grant(customer, code, Actor.system("tests"), "staff")
    consent.withdraw(customer, "phone", Actor.system("tests"), "staff")
    statements = []
    execute = type(models.db.obj).execute_sql

    def counting(self, sql, *args, **kwargs):
        statements.append(sql)
        return execute(self, sql, *args, **kwargs)

    monkeypatch.setattr(type(models.db.obj), "execute_sql", counting)
    states = consent.current_state(customer)
    assert len(statements) == 2  # purposes with their latest events; open opt-in links
    assert [(s.purpose.code, s.status) for s in states][:5] == [
        ("email_marketing", "never"), ("sms", "granted"), ("phone", "withdrawn"),
        ("wechat", "granted"), ("profiling", "granted")]
