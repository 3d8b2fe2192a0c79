"""Follow-ups through HTTP: "My day" (overdue / today / next 7 days in the business's time zone,
mine or everybody's), adding one from the card, done in one click (plain POST and htmx), reopen,
reassign, the nav badge; each write audited, viewers may look but not act."""
import datetime
import re

import pytest

import models
from models import AuditEvent, Task
from services import tasks as task_service
from tests import factories
from tests.conftest import csrf_from, post_form

EN = {"Accept-Language": "en"}
MY_DAY = "/staff/tasks/"
ROWS = r'id="task-([\w-]+)"'


def html(response):
    return response.get_data(as_text=True)


def section(page, key):
    start = page.index(f'id="tasks-{key}"')
    return page[start:page.index("</section>", start)]


@pytest.fixture
def customer(db):
    return factories.make_customer(name="王小明")[0]


def make_task(customer, assignee, days=0, title="Call back", **fields):
    return task_service.create_follow_up(customer, factories.SYSTEM, title,
                                         task_service.today() + datetime.timedelta(days=days),
                                         assignee=assignee, **fields)


def test_my_day_groups_overdue_today_and_upcoming(client, staff_login, customer):
    agent = staff_login(role="agent")
    late = make_task(customer, agent, -3, "LATE")
    now = make_task(customer, agent, 0, "NOW")
    soon = make_task(customer, agent, 7, "SOON")
    make_task(customer, agent, 8, "TOO FAR")
    make_task(customer, factories.make_staff(), 0, "SOMEONE ELSE'S")
    done = make_task(customer, agent, 0, "FINISHED")
    task_service.mark_done(done, factories.SYSTEM, agent)

    page = html(client.get(MY_DAY, headers=EN))
    assert re.findall(ROWS, section(page, "overdue")) == [late.public_id]
    assert re.findall(ROWS, section(page, "today")) == [now.public_id]
    assert re.findall(ROWS, section(page, "upcoming")) == [soon.public_id]
    assert "TOO FAR" not in page and "SOMEONE ELSE" not in page
    assert f'href="/staff/cards/{customer.public_id}"' in page and "王小明" in page
    assert "FINISHED" in section(page, "done")
    badge = re.search(r'My day <span class="badge[^>]*>(\d+)</span>', page)
    assert badge and badge.group(1) == "2"  # overdue + today


def test_today_is_the_business_day_not_utc(db, monkeypatch):
    # 23:30 UTC on 1 March is already 2 March in Shanghai.
    class Clock(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime(2024, 3, 1, 23, 30, tzinfo=datetime.UTC).astimezone(tz)
    monkeypatch.setattr(task_service.datetime, "datetime", Clock)
    assert task_service.today() == datetime.date(2024, 3, 2)


def test_a_follow_up_added_from_the_card_is_audited(client, staff_login, customer):
    agent = staff_login(role="agent")
    due = (task_service.today() + datetime.timedelta(days=2)).isoformat()
    response = post_form(client, "/staff/tasks/new",
                         {"customer": customer.public_id, "title": "  Send   the brochure ",
                          "due_date": due, "notes": "<script>x</script>",
                          "next": f"/staff/cards/{customer.public_id}"},
                         token_from=MY_DAY, headers=EN)
    assert response.headers["Location"] == f"/staff/cards/{customer.public_id}"
    task = Task.get()
    assert (task.title, task.due_date.isoformat(), task.assignee_id, task.customer_id) == (
        "Send the brochure", due, agent.id, customer.id)
    event = AuditEvent.get(AuditEvent.action == "task.create")
    assert event.entity_id == task.public_id and event.actor_id == agent.id
    page = html(client.get(MY_DAY, headers=EN))
    assert "&lt;script&gt;x&lt;/script&gt;" in page and "<script>x</script>" not in page


def test_a_bad_follow_up_shows_the_error_at_the_field_and_keeps_the_input(client, staff_login,
                                                                          customer):
    staff_login(role="agent")
    response = post_form(client, "/staff/tasks/new",
                         {"customer": customer.public_id, "title": "Kept title",
                          "due_date": "not a date"}, token_from=MY_DAY, headers=EN)
    assert response.status_code == 400
    page = html(response)
    assert "Enter a due date." in page and 'value="Kept title"' in page
    response = post_form(client, "/staff/tasks/new",
                         {"customer": customer.public_id, "title": "x" * 201,
                          "due_date": "2030-01-01"}, token_from=MY_DAY, headers=EN)
    assert response.status_code == 400 and "Use at most 200 characters" in html(response)
    assert Task.select().count() == 0


def test_done_in_one_click_plain_and_htmx(client, staff_login, customer):
    agent = staff_login(role="agent")
    one, two = make_task(customer, agent, 0, "ONE"), make_task(customer, agent, -1, "TWO")
    token = csrf_from(client, MY_DAY)
    response = client.post(f"/staff/tasks/{one.public_id}/done",
                           data={"csrf_token": token, "next": MY_DAY})
    assert response.headers["Location"] == MY_DAY
    one = Task.get_by_id(one.id)
    assert one.done_at is not None and one.done_by_id == agent.id

    response = client.post(f"/staff/tasks/{two.public_id}/done",
                           headers={"HX-Request": "true", "X-CSRFToken": token, **EN})
    row = html(response)
    assert row.strip().startswith("<tr") and "task-done" in row and "Undo" in row
    assert Task.get_by_id(two.id).done_at is not None
    assert AuditEvent.select().where(AuditEvent.action == "task.done").count() == 2

    client.post(f"/staff/tasks/{two.public_id}/reopen", data={"csrf_token": token})
    assert Task.get_by_id(two.id).done_at is None
    assert "TWO" in section(html(client.get(MY_DAY)), "overdue")


def test_reassign_moves_the_task_to_a_colleague(client, staff_login, customer):
    agent = staff_login(role="agent")
    colleague = factories.make_staff(name="Colleague")
    task = make_task(customer, agent)
    response = post_form(client, f"/staff/tasks/{task.public_id}/reassign",
                         {"assignee": colleague.public_id}, token_from=MY_DAY, headers=EN)
    assert response.headers["Location"] == MY_DAY
    assert Task.get_by_id(task.id).assignee_id == colleague.id
    event = AuditEvent.get(AuditEvent.action == "task.reassign")
    assert event.after == {"assignee": colleague.public_id}
    post_form(client, f"/staff/tasks/{task.public_id}/reassign", {"assignee": "nobody-such"},
              token_from=MY_DAY)
    assert Task.get_by_id(task.id).assignee_id == colleague.id


def test_managers_see_everybody_agents_only_their_own(client, staff_login, customer):
    other = factories.make_staff(name="Other agent")
    make_task(customer, other, 0, "OTHERS TASK")
    agent = staff_login(role="agent")
    make_task(customer, agent, 0, "MY TASK")
    page = html(client.get(MY_DAY + "?who=all"))
    assert "MY TASK" in page and "OTHERS TASK" not in page

    client.post("/staff/logout", data={"csrf_token": csrf_from(client, MY_DAY)})
    staff_login(role="manager")
    page = html(client.get(MY_DAY + "?who=all", headers=EN))
    assert "MY TASK" in page and "OTHERS TASK" in page and "Other agent" in page
    page = html(client.get(MY_DAY + f"?who={other.public_id}"))
    assert "OTHERS TASK" in page and "MY TASK" not in page


def test_viewers_see_my_day_but_cannot_act(client, staff_login, customer):
    viewer = staff_login(role="viewer")
    task = make_task(customer, viewer, 0, "LOOK ONLY")
    page = html(client.get(MY_DAY))
    assert "LOOK ONLY" in page and "/done" not in page
    token = csrf_from(client, MY_DAY)
    assert client.post(f"/staff/tasks/{task.public_id}/done",
                       data={"csrf_token": token}).status_code == 403
    assert Task.get_by_id(task.id).done_at is None


def test_the_service_validates_every_field(db, customer):
    staff = factories.make_staff()
    from services import DomainError
    for title, due, field in (("", datetime.date(2030, 1, 1), "title"),
                              ("ok", "2030-01-01", "due_date"),
                              ("ok", datetime.datetime(2030, 1, 1), "due_date"),
                              ("a\x00b", datetime.date(2030, 1, 1), "title")):
        with pytest.raises(DomainError) as caught:
            task_service.create_follow_up(customer, factories.SYSTEM, title, due, staff)
        assert caught.value.field == field
    staff.is_active = False
    with pytest.raises(DomainError):
        task_service.create_follow_up(customer, factories.SYSTEM, "ok",
                                      datetime.date(2030, 1, 1), staff)
    assert Task.select().count() == 0


def test_the_badge_count_reads_the_task_index(db, customer):
    staff = factories.make_staff()
    make_task(customer, staff, -1)
    make_task(customer, staff, 3)
    assert task_service.open_count(staff) == 1
    if models.is_postgres():  # the planner's choice on a tiny table says nothing there
        return
    sql, params = Task.select().where(Task.assignee == staff, Task.done_at.is_null(),
                                      Task.due_date <= task_service.today()).sql()
    plan = db.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    assert any("task_assignee_id_done_at_due_date" in str(row) for row in plan)
