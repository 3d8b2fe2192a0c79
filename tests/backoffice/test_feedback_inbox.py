"""The back office's feedback inbox through HTTP: the list (tabs, escaping), one feedback, and
the staff's answers (assign, status, reply), each audited; viewers may read but not act."""
import re

import pytest

from models import AuditEvent, EmailMessage, Feedback
from services import feedback as feedback_service
from tests import factories
from tests.conftest import csrf_from, login, post_form

EN = {"Accept-Language": "en"}
INBOX = "/staff/feedback/"
IDS = r'id="feedback-([\w-]+)"'


@pytest.fixture
def customer(db):
    customer, _account = factories.make_customer(name="王小明", preferred_language="en")
    return customer


def make_feedback(customer, message="The sofa arrived scratched.", **fields):
    return Feedback.create(customer=customer, category=fields.pop("category", "delivery"),
                           rating=fields.pop("rating", 2), message=message, **fields)


def html(response):
    return response.get_data(as_text=True)


def main(response):
    text = html(response)
    return text[text.index("<main"):text.index("</main>")]


def post(client, path, data):
    """POST ``data`` from the feedback page the form is on (its CSRF token)."""
    public_id = path.split("/")[3]
    return post_form(client, path, data, token_from=f"/staff/feedback/{public_id}", headers=EN)


def test_the_inbox_lists_feedback_newest_first_with_tabs(client, staff_login, customer):
    agent = staff_login(role="agent")
    old = make_feedback(customer, "OLD " + "x" * 200)
    new = make_feedback(customer, "NEWEST")
    done = make_feedback(customer, "DONE", status="resolved")
    mine = make_feedback(customer, "MINE", status="in_progress", assignee=agent)
    for n, row in enumerate((old, new, done, mine)):
        Feedback.update(created_at=f"2024-01-0{n + 1} 10:00:00").where(
            Feedback.id == row.id).execute()

    page = main(client.get(INBOX, headers=EN))
    ids = re.findall(IDS, page)
    assert ids == [mine.public_id, done.public_id, new.public_id, old.public_id]
    assert f'href="/staff/cards/{customer.public_id}"' in page and "王小明" in page
    assert "OLD " + "x" * 116 + "…" in page and "x" * 117 not in page  # 120 characters
    assert "Delivery" in page and agent.name in page

    assert re.findall(IDS, main(client.get(INBOX + "?tab=new"))) == [
        new.public_id, old.public_id]
    assert re.findall(IDS, main(client.get(INBOX + "?tab=resolved"))) == [
        done.public_id]
    assert re.findall(IDS, main(client.get(INBOX + "?tab=mine"))) == [
        mine.public_id]
    assert re.findall(IDS,
                      main(client.get(INBOX + "?tab=in_progress"))) == [mine.public_id]


def test_the_inbox_is_paginated(client, staff_login, customer):
    staff_login(role="viewer")
    for n in range(51):
        make_feedback(customer, f"message {n}")
    first, second = client.get(INBOX, headers=EN), client.get(INBOX + "?page=2", headers=EN)
    assert len(re.findall(r'id="feedback-', main(first))) == 50
    assert len(re.findall(r'id="feedback-', main(second))) == 1
    assert "Page 1 of 2" in html(first)


def test_an_agent_replies_and_the_customer_reads_it_by_email_and_in_the_portal(
        client, staff_login, db):
    customer, account = factories.make_customer(name="李四", preferred_language="en")
    purchase = factories.make_purchase(customer, product="Leather sofa")
    row = make_feedback(customer, purchase=purchase)
    staff_login(role="agent")
    page = html(client.get(f"/staff/feedback/{row.public_id}", headers=EN))
    assert "The sofa arrived scratched." in page and "Leather sofa" in page
    assert "Not answered yet." in page

    response = post(client, f"/staff/feedback/{row.public_id}/reply",
                    {"reply": "Sorry! A new one is on its way.", "reply_status": "resolved"})
    assert response.status_code == 302
    row = Feedback.get_by_id(row.id)
    assert row.reply == "Sorry! A new one is on its way." and row.status == "resolved"
    email = EmailMessage.get(EmailMessage.kind == "feedback_reply")
    assert email.to_addr == account.email and "A new one is on its way" in email.body_text
    assert AuditEvent.get(AuditEvent.action == "feedback.reply").entity_id == row.public_id
    assert "A new one is on its way." in html(client.get(f"/staff/feedback/{row.public_id}"))

    portal = factories_client(client)
    login(portal, account.email, factories.PASSWORD)
    assert "Sorry! A new one is on its way." in html(portal.get("/feedback/", headers=EN))


def factories_client(client):
    """A second browser (its own cookies) on the same app."""
    from werkzeug.test import Client
    return Client(client.application)


@pytest.mark.parametrize("text, error", [
    ("   ", "Write your message."),
    ("y" * 4001, "Use at most 4000 characters (now 4001)."),
])
def test_a_bad_reply_is_answered_at_the_field_and_nothing_is_saved(
        client, staff_login, customer, text, error):
    row = make_feedback(customer)
    staff_login(role="agent")
    response = post(client, f"/staff/feedback/{row.public_id}/reply",
                    {"reply": text, "reply_status": "replied"})
    assert response.status_code == 200
    page = html(response)
    field = page[page.index('id="reply"'):page.index('id="reply_status"')]
    assert error in field and "is-invalid" in page
    if text.strip():
        assert text in field  # the input is kept
    assert Feedback.get_by_id(row.id).reply is None
    assert not EmailMessage.select().where(EmailMessage.kind == "feedback_reply").exists()
    assert not AuditEvent.select().where(AuditEvent.action == "feedback.reply").exists()


def test_assigning_and_changing_the_status_are_audited(client, staff_login, customer):
    other = factories.make_staff(role="agent", name="Other Agent")
    gone = factories.make_staff(role="agent", name="Gone Agent")
    gone.is_active = False
    gone.save()
    row = make_feedback(customer)
    me = staff_login(role="manager")
    page = html(client.get(f"/staff/feedback/{row.public_id}", headers=EN))
    assert "Other Agent" in page and "Gone Agent" not in page  # active staff only

    assert post(client, f"/staff/feedback/{row.public_id}/assign",
                {"assignee": me.public_id}).status_code == 302
    assert Feedback.get_by_id(row.id).assignee_id == me.id
    assert post(client, f"/staff/feedback/{row.public_id}/assign",
                {"assignee": other.public_id}).status_code == 302
    assert Feedback.get_by_id(row.id).assignee_id == other.id
    events = list(AuditEvent.select().where(AuditEvent.action == "feedback.assign")
                  .order_by(AuditEvent.id))
    assert [(e.before, e.after) for e in events] == [
        ({"assignee": None}, {"assignee": me.public_id}),
        ({"assignee": me.public_id}, {"assignee": other.public_id})]
    assert all(e.actor_id == me.id and e.entity_id == row.public_id for e in events)

    # an inactive member cannot be chosen: error at the field, nothing saved
    response = post(client, f"/staff/feedback/{row.public_id}/assign",
                    {"assignee": gone.public_id})
    assert response.status_code == 200 and "is-invalid" in html(response)
    assert Feedback.get_by_id(row.id).assignee_id == other.id

    assert post(client, f"/staff/feedback/{row.public_id}/status",
                {"status": "in_progress"}).status_code == 302
    assert Feedback.get_by_id(row.id).status == "in_progress"
    event = AuditEvent.get(AuditEvent.action == "feedback.status")
    assert (event.before, event.after) == ({"status": "new"}, {"status": "in_progress"})

    response = post(client, f"/staff/feedback/{row.public_id}/status", {"status": "bogus"})
    assert response.status_code == 200 and "is-invalid" in html(response)
    assert Feedback.get_by_id(row.id).status == "in_progress"
    assert AuditEvent.select().where(AuditEvent.action == "feedback.status").count() == 1


def test_a_viewer_reads_the_inbox_but_every_post_is_forbidden(client, staff_login, customer):
    row = make_feedback(customer)
    viewer = staff_login(role="viewer")
    assert client.get(INBOX).status_code == 200
    page = html(client.get(f"/staff/feedback/{row.public_id}", headers=EN))
    assert "The sofa arrived scratched." in page and "Assign to me" not in page
    token = csrf_from(client, f"/staff/feedback/{row.public_id}")
    for action, data in (("assign", {"assignee": viewer.public_id}),
                         ("status", {"status": "resolved"}),
                         ("reply", {"reply": "Hello", "reply_status": "resolved"})):
        response = client.post(f"/staff/feedback/{row.public_id}/{action}",
                               data={"csrf_token": token, **data})
        assert response.status_code == 403, action
    row = Feedback.get_by_id(row.id)
    assert (row.assignee_id, row.status, row.reply) == (None, "new", None)
    assert not AuditEvent.select().where(AuditEvent.action.startswith("feedback.")).exists()


def test_an_unknown_feedback_is_not_found(client, staff_login, customer):
    staff_login(role="agent")
    assert client.get("/staff/feedback/nope").status_code == 404
    assert client.get("/staff/feedback/a%00b").status_code == 404
    token = csrf_from(client, INBOX)
    for action in ("assign", "status", "reply"):
        response = client.post(f"/staff/feedback/nope/{action}",
                               data={"csrf_token": token, "reply": "x", "status": "new"})
        assert response.status_code == 404, action


def test_a_script_in_a_message_is_shown_as_text(client, staff_login, customer):
    row = make_feedback(customer, '<script>alert("x")</script>')
    staff_login(role="agent")
    for path in (INBOX, f"/staff/feedback/{row.public_id}"):
        page = html(client.get(path))
        assert '<script>alert("x")' not in page
        assert "&lt;script&gt;alert(" in page


def test_inbox_query_filters_by_status_and_assignee(db, customer):
    agent = factories.make_staff(role="agent")
    a = make_feedback(customer, status="new")
    b = make_feedback(customer, status="resolved", assignee=agent)
    rows, count = feedback_service.inbox_query(status="resolved")
    assert [r.id for r in rows] == [b.id] and count.count() == 1
    rows, count = feedback_service.inbox_query(assignee=agent)
    assert [r.id for r in rows] == [b.id] and rows[0].assignee.name == agent.name
    rows, count = feedback_service.inbox_query()
    assert {r.id for r in rows} == {a.id, b.id} and count.count() == 2
