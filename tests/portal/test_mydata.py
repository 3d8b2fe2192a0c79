"""My data: the download of everything held about me (one ZIP, single-use link) and the erasure
request (emailed confirmation, 30-day deadline), through HTTP with CSRF as a customer uses them;
and the back office's queue of data requests."""
import csv
import datetime
import io
import json
import re
import zipfile
from decimal import Decimal

import pytest

import models
from models import (
    AuditEvent,
    CustomField,
    CustomFieldValue,
    DataRequest,
    EmailMessage,
    Feedback,
    Interaction,
    LinkToken,
    Purchase,
    ServiceRecord,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from services import consent, mail
from services.demo.reference import ensure_purposes
from tests import factories
from tests.conftest import csrf_from, login

EN = {"Accept-Language": "en"}
DOWNLOAD_RE = re.compile(r'action="(/my-data/download/[^"]+)"')
ERASURE_RE = re.compile(r"https?://[^/\s]+(/my-data/erase/\S+)")
FILES = {"README.txt", "card.json", "purchases.csv", "service_records.csv", "interactions.csv",
         "feedback.csv", "survey_answers.csv", "consent_history.csv", "emails.csv"}




def post(client, path, data=None, token_from="/my-data/", **kwargs):
    token = csrf_from(client, token_from, **kwargs)
    return client.post(path, data={"csrf_token": token, **(data or {})}, **kwargs)


def prepare(client):
    """Ask for a download; return the link path of the page it shows."""
    response = post(client, "/my-data/download")
    assert response.status_code == 200
    return DOWNLOAD_RE.search(response.get_data(as_text=True)).group(1)


def download(client, path, headers=EN):
    return post(client, path, token_from=path, headers=headers)


def main(response):
    """The page's own content (the layout repeats the URL in the language switcher)."""
    html = response.get_data(as_text=True)
    return html[html.index("<main>"):html.index("</main>")]


def unzip(response):
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    return {name: archive.read(name) for name in archive.namelist()}


def rows(body):
    assert body.startswith(b"\xef\xbb\xbf"), "CSV without a BOM"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _purchase(customer, product, amount="10.00", **fields):
    return Purchase.create(customer=customer, product=product, amount=Decimal(amount),
                           unit_price=Decimal(amount), **fields)


@pytest.fixture
def me(customer_login):
    """A signed-in customer with something of every kind, and a neighbour with their own."""
    customer, account = customer_login(name="王小明")
    customer.id_number_enc = "gAAAA-SECRET-CIPHERTEXT"
    customer.id_number_hmac = "f" * 64
    customer.notes = "Staff only: VIP, difficult"
    customer.save()
    _purchase(customer, "=SUM(A1)")
    _purchase(customer, "沙发\x07 with bell", amount="1999.00")
    gone = _purchase(customer, "Deleted chair")
    gone.deleted_at = models.utcnow()
    gone.save()
    ServiceRecord.create(customer=customer, service_type="repair", description="Fixed the leg")
    Interaction.create(customer=customer, channel="phone", subject="Delivery date",
                       request="When?", resolution="Friday", visible_to_customer=True)
    Interaction.create(customer=customer, channel="phone", subject="INTERNAL-NOTE",
                       request="Customer sounded angry", visible_to_customer=False)
    Feedback.create(customer=customer, category="product", rating=2,
                    message="@cmd|' /C calc'!A0")
    plain = CustomField.create(key="style", label_zh="风格", label_en="Style")
    secret = CustomField.create(key="passport", label_zh="护照", label_en="Passport",
                                sensitive=True)
    CustomFieldValue.create(customer=customer, field=plain, value="modern")
    CustomFieldValue.create(customer=customer, field=secret, value="CIPHER-PASSPORT")
    survey = Survey.create(title_zh="春季调查", title_en="Spring survey", status="open")
    question = SurveyQuestion.create(survey=survey, position=1, kind="single_choice",
                                     text_zh="您在哪里购物？", text_en="Where do you shop?",
                                     choices=[{"value": "online", "zh": "官网",
                                               "en": "Online shop"}])
    response = SurveyResponse.create(survey=survey, customer=customer, locale="en")
    SurveyAnswer.create(response=response, question=question, value="online")
    ensure_purposes(models.utcnow())
    consent.grant(customer, "sms", factories.SYSTEM, "staff")
    mail.queue("notice", account.email, "Your sofa is ready", "Hello", customer=customer)

    other, other_account = factories.make_customer(name="李四")
    _purchase(other, "NEIGHBOUR-SOFA")
    Interaction.create(customer=other, channel="phone", subject="NEIGHBOUR-CALL",
                       visible_to_customer=True)
    Feedback.create(customer=other, category="product", message="NEIGHBOUR-FEEDBACK")
    mail.queue("notice", other_account.email, "NEIGHBOUR-MAIL", "Hello", customer=other)
    return customer, account


def test_the_page_explains_and_a_get_changes_nothing(client, me):
    html = client.get("/my-data/", headers=EN).get_data(as_text=True)
    assert "Prepare my data download" in html and "Ask us to erase my data" in html
    assert DataRequest.select().count() == 0 and LinkToken.select().count() == 0


def test_the_download_holds_all_of_my_data_and_nothing_else(client, me):
    customer, account = me
    path = prepare(client)
    request = DataRequest.get()
    assert (request.kind, request.status, request.customer_id) == ("export", "done", customer.id)
    assert request.completed_at is not None and request.due_at == request.completed_at
    assert AuditEvent.get(AuditEvent.action == "data.export_prepared").customer_id == customer.id
    link = LinkToken.get(LinkToken.purpose == "download")
    lifetime = link.expires_at - link.created_at
    assert datetime.timedelta(minutes=59) < lifetime <= datetime.timedelta(hours=1)

    page = client.get(path, headers=EN)  # the page: nothing used, nothing audited
    assert page.status_code == 200 and "Download (ZIP)" in page.get_data(as_text=True)
    assert LinkToken.get_by_id(link.id).used_at is None
    assert not AuditEvent.select().where(AuditEvent.action == "data.export").exists()

    response = download(client, path)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    today = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d")
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="customer-card-{customer.public_id}-{today}.zip"')
    assert response.headers["Cache-Control"] == "no-store"
    files = unzip(response)
    assert set(files) == FILES

    everything = b"".join(files.values()).decode("utf-8")
    for secret in ("gAAAA-SECRET-CIPHERTEXT", "f" * 64, "CIPHER-PASSPORT", "id_number_enc",
                   "id_number_hmac", "Staff only", "INTERNAL-NOTE", "Deleted chair"):
        assert secret not in everything, secret
    for neighbour in ("NEIGHBOUR", "李四"):
        assert neighbour not in everything, neighbour

    card = json.loads(files["card.json"])
    assert card["card"]["name"] == "王小明" and card["card"]["public_id"] == customer.public_id
    assert card["card"]["id_number"].startswith("Held encrypted")
    assert {c["value"] for c in card["contact_points"]} == {account.email}
    fields = {f["key"]: f["value"] for f in card["preferences_and_custom_fields"]}
    assert fields["style"] == "modern" and fields["passport"].startswith("Held encrypted")
    assert [(e["purpose"], e["action"]) for e in card["consent_history"]] == [("sms", "granted")]

    products = [row[1] for row in rows(files["purchases.csv"])[1:]]
    assert products == ["'=SUM(A1)", "沙发 with bell"]  # formula made text; control char gone
    assert rows(files["purchases.csv"])[0][:2] == ["Time (UTC)", "Product"]
    interactions = rows(files["interactions.csv"])
    assert [row[3] for row in interactions[1:]] == ["Delivery date"]
    assert rows(files["feedback.csv"])[1][3] == "'@cmd|' /C calc'!A0"
    assert rows(files["service_records.csv"])[1][1] == "repair"
    assert rows(files["survey_answers.csv"])[1][1:] == [
        "Spring survey", "Where do you shop?", "Online shop"]
    assert len(rows(files["consent_history.csv"])) == 2
    emails = rows(files["emails.csv"])
    assert [row[1:] for row in emails[1:]] == [["Your sofa is ready", account.email, "notice"]]

    audit = AuditEvent.get(AuditEvent.action == "data.export")
    assert (audit.customer_id, audit.actor_kind, audit.entity_id) == (
        customer.id, "customer", request.public_id)
    assert set(audit.after["files"]) == FILES

    again = download(client, path)  # the link is used up
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert AuditEvent.select().where(AuditEvent.action == "data.export").count() == 1


def test_the_zip_follows_the_language(client, me):
    client.get("/my-data/")
    path = prepare(client)
    files = unzip(post(client, path, token_from=path, headers={"Accept-Language": "zh-CN"}))
    assert json.loads(files["card.json"])["tier"] is None
    assert rows(files["survey_answers.csv"])[1][1:] == ["春季调查", "您在哪里购物？", "官网"]


def test_an_expired_download_link_does_nothing(client, me):
    path = prepare(client)
    LinkToken.update(expires_at=models.utcnow() - datetime.timedelta(seconds=1)).execute()
    assert client.get(path).status_code == 410
    response = post(client, path, token_from="/my-data/", headers=EN)
    assert response.status_code == 410 and "expired" in response.get_data(as_text=True)
    assert not AuditEvent.select().where(AuditEvent.action == "data.export").exists()


def test_my_link_is_no_use_to_another_customer(client, me):
    path = prepare(client)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/my-data/")})
    _other, account = factories.make_customer()
    login(client, account.email, factories.PASSWORD)
    mine, garbage = client.get(path), client.get("/my-data/download/not-a-token")
    assert mine.status_code == garbage.status_code == 400
    assert main(mine) == main(garbage)
    assert post(client, path, token_from="/my-data/").status_code == 400
    assert LinkToken.get(LinkToken.purpose == "download").used_at is None


def test_signed_out_visitors_are_sent_to_sign_in(client, me):
    path = prepare(client)
    client.post("/logout", data={"csrf_token": csrf_from(client, "/my-data/")})
    for url in ("/my-data/", path):
        assert client.get(url).headers["Location"].startswith("/login")


def erasure_link(to_addr):
    message = EmailMessage.get(EmailMessage.to_addr == to_addr,
                               EmailMessage.kind == "erasure_confirm")
    return ERASURE_RE.search(message.body_text).group(1), message


def test_erasure_is_confirmed_by_email_and_due_in_30_days(client, me):
    customer, account = me
    customer.preferred_language = "en"  # the email follows the card's language
    customer.save()
    response = post(client, "/my-data/erase", headers=EN)
    assert response.status_code == 200
    assert f"We have sent a link to {account.email}" in response.get_data(as_text=True)
    assert DataRequest.select().count() == 0  # nothing until it is confirmed
    path, message = erasure_link(account.email)
    assert message.subject.startswith("Please confirm: erase your data")
    assert "valid for 7 days" in message.body_text
    link = LinkToken.get(LinkToken.purpose == "erasure")
    assert abs(link.expires_at - link.created_at - datetime.timedelta(days=7)).seconds < 5
    assert AuditEvent.get(AuditEvent.action == "data.erasure_link_sent").customer_id == customer.id

    page = client.get(path, headers=EN)
    assert page.status_code == 200 and "Confirm: erase my data" in page.get_data(as_text=True)
    assert DataRequest.select().count() == 0

    response = post(client, path, token_from=path)
    assert response.status_code == 302 and response.headers["Location"] == "/my-data/"
    request = DataRequest.get()
    assert (request.kind, request.status, request.customer_id) == (
        "erasure", "confirmed", customer.id)
    assert request.due_at - request.confirmed_at == datetime.timedelta(days=30)
    audit = AuditEvent.get(AuditEvent.action == "data.erasure_confirmed")
    assert audit.customer_id == customer.id and audit.entity_id == request.public_id

    html = client.get("/my-data/", headers=EN).get_data(as_text=True)
    assert 'data-status="confirmed"' in html and "Our staff will erase it by" in html
    assert "request to erase your data is confirmed" in html
    assert post(client, path, token_from=path).status_code == 410  # single use


def test_a_second_erasure_request_shows_the_open_one(client, me):
    _customer, account = me
    post(client, "/my-data/erase")
    path, _message = erasure_link(account.email)
    post(client, path, token_from=path)
    response = post(client, "/my-data/erase", headers=EN)
    assert response.status_code == 302
    html = client.get("/my-data/", headers=EN).get_data(as_text=True)
    assert "You have already asked us to erase your data" in html
    assert 'data-status="confirmed"' in html
    assert DataRequest.select().count() == 1
    assert EmailMessage.select().where(EmailMessage.kind == "erasure_confirm").count() == 1


def test_only_the_newest_erasure_link_confirms(client, me):
    _customer, account = me
    post(client, "/my-data/erase")
    old, _ = erasure_link(account.email)
    EmailMessage.delete().where(EmailMessage.kind == "erasure_confirm").execute()
    post(client, "/my-data/erase")
    new, _ = erasure_link(account.email)
    assert client.get(old).status_code == 410
    assert post(client, new, token_from=new).status_code == 302
    assert DataRequest.select().count() == 1


def test_managers_see_the_queue_and_agents_do_not(client, me, staff_login):
    customer, account = me
    post(client, "/my-data/erase")
    path, _ = erasure_link(account.email)
    post(client, path, token_from=path)
    erasure = DataRequest.get()
    late_customer, _ = factories.make_customer(name="张迟到")
    late = DataRequest.create(customer=late_customer, kind="erasure", status="confirmed",
                              confirmed_at=models.utcnow() - datetime.timedelta(days=40),
                              due_at=models.utcnow() - datetime.timedelta(days=10))
    client.post("/logout", data={"csrf_token": csrf_from(client, "/my-data/")})
    prepare_done = DataRequest.create(customer=customer, kind="export", status="done",
                                      due_at=models.utcnow() - datetime.timedelta(days=90),
                                      completed_at=models.utcnow())

    staff_login(role="manager")
    response = client.get("/staff/requests/", headers=EN)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f'href="/staff/cards/{customer.public_id}"' in html and "王小明" in html
    order = [html.index(f"request-{r.public_id}") for r in (late, erasure, prepare_done)]
    assert order == sorted(order)  # open first, by due date; the done export last
    late_row = html[order[0]:order[1]]
    assert 'data-overdue="1"' in late_row and "overdue" in late_row
    assert "data-overdue" not in html[order[1]:]

    client.post("/staff/logout", data={"csrf_token": csrf_from(client, "/staff/requests/")})
    staff_login(role="agent")
    assert client.get("/staff/requests/").status_code == 403
