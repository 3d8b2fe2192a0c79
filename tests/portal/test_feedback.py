"""Feedback in the portal: a customer sends it (bad input answered at the field, a double post
makes one row, another customer's purchase is "not found"), staff reply, the reply shows on the
list and arrives by email in the customer's language."""
import re

import pytest
from babel.support import Translations

import config
import models
from models import AuditEvent, EmailMessage, Feedback, ServiceRecord
from services import DomainError, feedback
from services.actors import Actor
from tests import factories
from tests.conftest import csrf_from, post_form

NEW = "/feedback/new"
KEY_RE = re.compile(r'name="idempotency_key" type="hidden" value="([^"]+)"')




@pytest.fixture
def signed_in(client, customer_login):
    """A customer signed in with the portal in English; returns the Customer."""
    post_form(client, "/language", {"lang": "en", "next": "/login"}, token_from="/login")
    customer, _ = customer_login(preferred_language="en")
    return customer


def send(client, **fields):
    data = {"category": "product", "rating": "4", "message": "The cream is lovely.",
            "about": ""}
    data.update(fields)
    return post_form(client, NEW, data)


def page_of(response):
    return response.get_data(as_text=True)


def field_errors(html, field_id):
    """The error texts shown under one field."""
    end = r'(?=<div class="mb-3"|<fieldset|<div class="portal-actions")'
    match = re.search(rf'id="{field_id}"(.*?){end}', html, re.S)
    assert match, f"no field {field_id}"
    return re.findall(r'<div class="invalid-feedback[^"]*">([^<]*)</div>', match.group(1))


def zh(msgid):
    """The zh catalogue's text for ``msgid`` (the English until it is translated)."""
    return Translations.load(str(config.BASE_DIR / "translations"), ["zh"]).gettext(msgid)


def test_good_feedback_is_listed_with_a_thank_you(client, signed_in):
    purchase = factories.make_purchase(signed_in, product="Moisturising cream")
    response = send(client, rating="5", category="delivery", message="  Fast delivery!  ",
                    about=f"purchase:{purchase.public_id}")
    assert response.status_code == 302 and response.headers["Location"] == "/feedback/"
    row = Feedback.get()
    assert (row.customer_id, row.category, row.rating, row.message, row.purchase_id,
            row.status) == (signed_in.id, "delivery", 5, "Fast delivery!", purchase.id, "new")
    event = AuditEvent.get(AuditEvent.action == "feedback.create")
    assert event.actor_kind == "customer" and event.customer_id == signed_in.id
    html = page_of(client.get("/feedback/"))
    assert "Thank you! We have your feedback" in html
    assert "Fast delivery!" in html and "Delivery" in html and "Received" in html
    assert "About: Moisturising cream" in html


def test_feedback_about_a_service_visit_without_a_rating(client, signed_in):
    visit = ServiceRecord.create(customer=signed_in, service_type="repair")
    response = send(client, rating="", message="Repaired quickly.",
                    about=f"service:{visit.public_id}")
    assert response.status_code == 302
    row = Feedback.get()
    assert row.service_record_id == visit.id and row.rating is None and row.purchase_id is None
    assert "About: Repair" in page_of(client.get("/feedback/"))


def test_the_form_offers_only_my_purchases_and_visits(client, signed_in):
    mine = factories.make_purchase(signed_in, product="My lamp")
    other, _ = factories.make_customer()
    theirs = factories.make_purchase(other, product="Their sofa")
    html = page_of(client.get(NEW))
    assert f"purchase:{mine.public_id}" in html and "My lamp" in html
    assert theirs.public_id not in html and "Their sofa" not in html


@pytest.mark.parametrize("fields, field_id, error", [
    ({"message": "   "}, "message", "Write your message."),
    ({"message": "x" * 2001}, "message", "Use at most 2000 characters (now 2001)."),
    ({"message": "nul \x00 byte"}, "message",
     "This text contains a character that cannot be stored."),
    ({"rating": "0"}, "rating-0", "Choose a rating from 1 to 5, or none."),
    ({"rating": "6"}, "rating-0", "Choose a rating from 1 to 5, or none."),
    ({"rating": "five"}, "rating-0", "Choose a rating from 1 to 5, or none."),
    ({"category": "complaint"}, "category", "Choose a topic."),
    ({"category": ""}, "category", "Choose a topic."),
    ({"about": "purchase:doesNotExist"}, "about",
     "We could not find that purchase or service visit."),
    ({"about": "service:doesNotExist"}, "about",
     "We could not find that purchase or service visit."),
    ({"about": "purchase:a\x00b"}, "about", "We could not find that purchase or service visit."),
    ({"about": "x" * 5000}, "about", "We could not find that purchase or service visit."),
])
def test_bad_input_is_answered_at_the_field_and_the_rest_is_kept(client, signed_in, fields,
                                                                 field_id, error):
    data = {"category": "staff", "rating": "3", "message": "Kept text 留言"}
    data.update(fields)
    response = send(client, **data)
    html = page_of(response)
    assert response.status_code == 200
    assert field_errors(html, field_id) == [error]
    assert Feedback.select().count() == 0
    if "message" not in fields:
        assert "Kept text 留言</textarea>" in html
    if "category" not in fields:
        assert '<option selected value="staff">' in html
    if "rating" not in fields:
        assert re.search(r'<input[^>]*\bchecked\b[^>]*id="rating-3"', html)


def test_a_2000_character_message_is_accepted(client, signed_in):
    assert send(client, message="长" * 2000).status_code == 302
    assert len(Feedback.get().message) == 2000


def test_full_width_and_right_to_left_text_is_kept_as_written(client, signed_in):
    text = "ＡＢＣ１２３ مرحبا بالعالم 😀\n第二行"
    assert send(client, message=text).status_code == 302
    assert Feedback.get().message == text
    assert "مرحبا بالعالم 😀<br>第二行" in page_of(client.get("/feedback/"))


@pytest.mark.parametrize("key", ["k" * 65, "nul\x00key"])
def test_a_tampered_idempotency_key_is_refused_without_an_error_page(client, signed_in, key):
    response = send(client, idempotency_key=key)
    assert response.status_code == 200
    assert "This form has expired. Please send it again." in page_of(response)
    assert Feedback.select().count() == 0


def test_another_customers_purchase_gets_the_same_answer_as_a_bogus_id(client, signed_in):
    other, _ = factories.make_customer()
    theirs = factories.make_purchase(other)
    their_visit = ServiceRecord.create(customer=other, service_type="repair")
    bogus = page_of(send(client, about="purchase:AAAAAAAAAAAA"))
    for about in (f"purchase:{theirs.public_id}", f"service:{their_visit.public_id}"):
        answer = page_of(send(client, about=about))
        assert field_errors(answer, "about") == field_errors(bogus, "about") == [
            "We could not find that purchase or service visit."]
    assert Feedback.select().count() == 0


def test_a_deleted_purchase_cannot_be_chosen(client, signed_in):
    purchase = factories.make_purchase(signed_in)
    purchase.deleted_at = models.utcnow()
    purchase.save()
    assert field_errors(page_of(send(client, about=f"purchase:{purchase.public_id}")),
                        "about") == ["We could not find that purchase or service visit."]


def test_posting_the_same_form_twice_makes_one_feedback(client, signed_in):
    key = KEY_RE.search(page_of(client.get(NEW))).group(1)
    token = csrf_from(client, NEW)
    data = {"csrf_token": token, "category": "service", "rating": "2",
            "message": "Sent twice by a double tap.", "idempotency_key": key}
    first, second = client.post(NEW, data=data), client.post(NEW, data=data)
    assert first.headers["Location"] == second.headers["Location"] == "/feedback/"
    assert Feedback.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "feedback.create").count() == 1
    # A fresh form carries a fresh key: the next feedback is a new row.
    assert KEY_RE.search(page_of(client.get(NEW))).group(1) != key
    send(client, message="Another one.")
    assert Feedback.select().count() == 2


def test_a_repeated_key_returns_the_first_row_and_only_to_its_customer(db):
    customer, account = factories.make_customer()
    actor = Actor.for_customer(account)
    first = feedback.submit_feedback(customer, actor, "other", None, "Hello", idempotency_key="k1")
    again = feedback.submit_feedback(customer, actor, "other", None, "Hello", idempotency_key="k1")
    assert again.id == first.id and Feedback.select().count() == 1
    stranger, stranger_account = factories.make_customer()
    with pytest.raises(DomainError):  # someone else's key never hands back their feedback
        feedback.submit_feedback(stranger, Actor.for_customer(stranger_account), "other", None,
                                 "Hi", idempotency_key="k1")


def test_the_insert_race_is_settled_by_the_unique_key(db, monkeypatch):
    """Two posts at once: the early check misses the other's row, the unique column catches it."""
    customer, account = factories.make_customer()
    actor = Actor.for_customer(account)
    winner = feedback.submit_feedback(customer, actor, "other", None, "First", idempotency_key="k2")
    real, calls = feedback._existing, []

    def racing(customer, key):
        calls.append(key)
        return None if len(calls) == 1 else real(customer, key)
    monkeypatch.setattr(feedback, "_existing", racing)
    row = feedback.submit_feedback(customer, actor, "other", None, "First", idempotency_key="k2")
    assert row.id == winner.id and len(calls) == 2
    assert Feedback.select().count() == 1
    assert AuditEvent.select().where(AuditEvent.action == "feedback.create").count() == 1


def test_script_in_a_message_is_shown_as_text(client, signed_in):
    send(client, message='<script>alert("x")</script> & <b>bold</b>')
    html = page_of(client.get("/feedback/"))
    assert "<script>alert" not in html and "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html


def test_only_my_feedback_is_listed(client, signed_in):
    other, other_account = factories.make_customer()
    feedback.submit_feedback(other, Actor.for_customer(other_account), "other", None,
                             "Someone else's secret")
    send(client, message="My own words")
    html = page_of(client.get("/feedback/"))
    assert "My own words" in html and "Someone else&#39;s secret" not in html
    assert "Someone else" not in html


def test_the_list_is_paginated(client, signed_in):
    actor = Actor.system("tests")
    for n in range(25):
        feedback.submit_feedback(signed_in, actor, "other", None, f"Message number {n:02d}")
    first, second = page_of(client.get("/feedback/")), page_of(client.get("/feedback/?page=2"))
    assert "Message number 24" in first and "Message number 05" in first
    assert "Message number 04" not in first
    assert "Message number 04" in second and "Message number 00" in second
    assert "Page 2 of 2 · 25 in all" in second


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_a_staff_reply_is_listed_and_emailed_in_the_customers_language(client, customer_login,
                                                                        lang):
    customer, account = customer_login(preferred_language=lang, name="Lin Mei")
    long_message = "The zip broke after a week. " * 20
    send(client, message=long_message, category="product")
    row = Feedback.get()
    staff = factories.make_staff(role="agent")
    feedback.reply_to_feedback(row, Actor.for_staff(staff), "Sorry! A new one is on its way.")

    row = Feedback.get_by_id(row.id)
    assert (row.status, row.replied_by_id, row.reply) == (
        "resolved", staff.id, "Sorry! A new one is on its way.")
    assert row.replied_at is not None
    event = AuditEvent.get(AuditEvent.action == "feedback.reply")
    assert event.actor_kind == "staff" and event.before["status"] == "new"

    html = page_of(client.get("/feedback/", headers={"Accept-Language": lang}))
    assert "Sorry! A new one is on its way." in html

    mail = EmailMessage.get(EmailMessage.kind == "feedback_reply")
    assert mail.to_addr == account.email and mail.customer_id == customer.id
    subject = "We replied to your feedback at %(business)s"
    assert mail.subject == (zh(subject) if lang == "zh" else subject) % {
        "business": "Customer Cards"}
    assert (zh("Our reply:") if lang == "zh" else "Our reply:") in mail.body_text
    assert "Sorry! A new one is on its way." in mail.body_text
    assert "> The zip broke after a week." in mail.body_text  # quoted, but briefly
    assert long_message.strip() not in mail.body_text and "…" in mail.body_text
    assert "/feedback/" in mail.body_text


def test_reply_keeps_a_status_given_and_refuses_bad_text(db):
    customer, _ = factories.make_customer(account=False)
    row = feedback.submit_feedback(customer, Actor.system("tests"), "service", 1, "Slow.")
    staff_actor = Actor.for_staff(factories.make_staff())
    for text, status in (("", "resolved"), ("ok", "deleted"), ("a\x00b", "resolved")):
        with pytest.raises(DomainError):
            feedback.reply_to_feedback(row, staff_actor, text, status=status)
    assert Feedback.get_by_id(row.id).reply is None
    feedback.reply_to_feedback(row, staff_actor, "We are on it.", status="in_progress")
    assert Feedback.get_by_id(row.id).status == "in_progress"
    mail = EmailMessage.get(EmailMessage.kind == "feedback_reply")
    assert mail.to_addr == customer.primary_email  # no portal account: the card's email


def test_customer_feedback_is_newest_first(db):
    customer, _ = factories.make_customer(account=False)
    actor = Actor.system("tests")
    older = feedback.submit_feedback(customer, actor, "other", None, "older")
    newer = feedback.submit_feedback(customer, actor, "other", None, "newer")
    assert [f.id for f in feedback.customer_feedback(customer)] == [newer.id, older.id]


def test_feedback_pages_need_a_signed_in_customer(client, db):
    for path in ("/feedback/", NEW):
        assert client.get(path).headers["Location"].startswith("/login?next=")
    assert client.post(NEW, data={"message": "x"}).status_code in (302, 400)
    assert Feedback.select().count() == 0
