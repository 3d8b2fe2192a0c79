"""Writes through the app from many threads at once: none fails, none is lost.

On SQLite every thread takes its own pooled connection to the same file, as gunicorn's
threads and workers do: WAL lets readers run beside the writer, ``BEGIN IMMEDIATE`` takes the
write lock before a transaction's first read (a deferred transaction that read first could not
upgrade its lock once another writer committed, and would fail with "database is locked" at
once, whatever busy_timeout says), and busy_timeout makes the others wait their turn.
"""
import datetime
import threading

from werkzeug.test import Client

import models
from models import AuditEvent, Interaction, Task
from services import audit
from services import tasks as task_service
from tests import factories
from tests.conftest import csrf_from, login, post_form

THREADS = 6
WRITES = 5


def _run_at_once(work):
    """Run ``work(n)`` for n in range(THREADS) in threads released together; the errors."""
    errors, gate = [], threading.Barrier(THREADS)

    def run(n):
        try:
            gate.wait(10)
            work(n)
        except Exception as exc:  # noqa: BLE001 (the assertion in the test reports it)
            errors.append(f"thread {n}: {exc!r}")
        finally:
            if not models.db.is_closed():
                models.db.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    return errors


def _signed_in_staff(app):
    """A client per member of staff, each signed in through the real form."""
    clients = []
    for n in range(THREADS):
        staff = factories.make_staff(role="agent", email=f"writer{n}@example.com")
        client = Client(app)
        assert login(client, staff.email, factories.PASSWORD, "/staff").status_code == 302
        clients.append(client)
    return clients


def test_staff_adding_follow_ups_and_interactions_to_one_card_at_once(app, db):
    customer, _ = factories.make_customer(account=False)
    clients = _signed_in_staff(app)
    tokens = [csrf_from(c, f"/staff/cards/{customer.public_id}") for c in clients]
    due = task_service.today().isoformat()
    when = datetime.datetime.now().strftime("%Y-%m-%dT%H:%M")
    db.close()  # the threads take their own connections

    def work(n):
        client, token = clients[n], tokens[n]
        for i in range(WRITES):
            response = client.post("/staff/tasks/new", data={
                "csrf_token": token, "customer": customer.public_id,
                "title": f"follow-up {n}-{i}", "due_date": due})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]
            response = client.post(f"/staff/cards/{customer.public_id}/interaction/new", data={
                "csrf_token": token, "occurred_at": when, "channel": "phone",
                "direction": "inbound", "staff": "", "outcome": "",
                "subject": f"call {n}-{i}"})
            assert response.status_code == 302, response.get_data(as_text=True)[:300]

    errors = _run_at_once(work)

    db.connect(reuse_if_open=True)
    assert errors == []
    assert Task.select().where(Task.customer == customer.id).count() == THREADS * WRITES
    assert Interaction.select().where(Interaction.customer == customer.id).count() == \
        THREADS * WRITES
    titles = {t.title for t in Task.select(Task.title)}
    assert titles == {f"follow-up {n}-{i}" for n in range(THREADS) for i in range(WRITES)}
    # every write audited once, and the chain of audit events is still whole
    assert AuditEvent.select().where(AuditEvent.action == "task.create").count() == \
        THREADS * WRITES
    assert audit.verify_chain() == (True, None)


def test_staff_marking_follow_ups_done_while_others_add_them(app, db):
    customer, _ = factories.make_customer(account=False)
    clients = _signed_in_staff(app)
    staff = list(models.StaffUser.select().order_by(models.StaffUser.id))[-THREADS:]
    open_tasks = [[factories_task(customer, s, n, i) for i in range(WRITES)]
                  for n, s in enumerate(staff)]
    tokens = [csrf_from(c, "/staff/tasks/") for c in clients]
    db.close()

    def work(n):
        client, token = clients[n], tokens[n]
        for i, task in enumerate(open_tasks[n]):
            if n % 2:  # half of them mark their tasks done, half add new ones
                response = client.post(f"/staff/tasks/{task.public_id}/done",
                                       data={"csrf_token": token}, headers={"HX-Request": "true"})
                assert response.status_code == 200, response.get_data(as_text=True)[:300]
            else:
                response = post_form(client, "/staff/tasks/new", {
                    "customer": customer.public_id, "title": f"new {n}-{i}",
                    "due_date": task_service.today().isoformat()}, token_from="/staff/tasks/")
                assert response.status_code == 302, response.get_data(as_text=True)[:300]

    errors = _run_at_once(work)

    db.connect(reuse_if_open=True)
    assert errors == []
    done = Task.select().where(Task.done_at.is_null(False)).count()
    assert done == (THREADS // 2) * WRITES
    assert Task.select().count() == THREADS * WRITES + (THREADS - THREADS // 2) * WRITES
    assert audit.verify_chain() == (True, None)


def factories_task(customer, assignee, n, i):
    return task_service.create_follow_up(customer, factories.SYSTEM, f"task {n}-{i}",
                                         task_service.today(), assignee=assignee)
