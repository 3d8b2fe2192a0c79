"""The review queue: staff accept, edit then accept, or reject customers' reviewed changes."""
from models import AuditEvent, ChangeRequest, Customer, EmailMessage
from services import profile
from services.actors import Actor
from tests import factories
from tests.conftest import post_form


def _requested(name="张伟", new_name="张伟伟", company=None):
    customer, account = factories.make_customer(name=name, mobile="13800138000",
                                                company=company)
    changes = {"name": new_name}
    if company:
        changes["company"] = company + "（新）"
    profile.update_own_details(customer, changes, Actor.for_customer(account))
    return customer, ChangeRequest.get(ChangeRequest.customer == customer)


def decide(client, change, **data):
    return post_form(client, f"/staff/reviews/{change.public_id}/decide", data,
                     token_from=f"/staff/reviews/{change.public_id}",
                     headers={"Accept-Language": "en"})


def test_the_queue_shows_the_diff_and_accept_updates_the_card(client, staff_login):
    customer, change = _requested()
    staff_login(role="agent")
    queue = client.get("/staff/reviews/", headers={"Accept-Language": "en"}).get_data(
        as_text=True)
    assert "张伟" in queue and "Full name" in queue
    page = client.get(f"/staff/reviews/{change.public_id}").get_data(as_text=True)
    assert "张伟伟" in page
    response = decide(client, change, decision="accept", **{"new-name": "张伟伟"})
    assert response.headers["Location"] == "/staff/reviews/"
    saved = Customer.get_by_id(customer.id)
    assert saved.name == "张伟伟" and saved.name_pinyin == "zhangweiwei"
    assert ChangeRequest.get_by_id(change.id).status == "accepted"
    assert AuditEvent.get(AuditEvent.action == "change_request.accept").actor_kind == "staff"
    assert EmailMessage.select().where(EmailMessage.kind == "notice").count() == 1
    assert decide(client, change, decision="accept").status_code == 400  # decided once


def test_staff_may_correct_a_value_before_accepting_it_by_the_same_rules(client, staff_login):
    customer, change = _requested(company="华为")
    staff_login(role="agent")
    bad = decide(client, change, decision="accept", **{"new-name": "", "new-company": "华为技术"})
    assert bad.status_code == 400 and "Enter the full name." in bad.get_data(as_text=True)
    assert Customer.get_by_id(customer.id).name == "张伟"  # nothing half-saved
    decide(client, change, decision="accept",
           **{"new-name": "张  伟", "new-company": "华为技术有限公司"})
    saved = Customer.get_by_id(customer.id)
    assert saved.company == "华为技术有限公司" and saved.name == "张  伟"


def test_reject_needs_a_reason_and_tells_the_customer(client, staff_login):
    customer, change = _requested()
    staff_login(role="manager")
    assert "Tell the customer why." in decide(client, change, decision="reject",
                                              reason=" ").get_data(as_text=True)
    decide(client, change, decision="reject", reason="请提供身份证明后再改名。")
    assert ChangeRequest.get_by_id(change.id).status == "rejected"
    assert Customer.get_by_id(customer.id).name == "张伟"
    notice = EmailMessage.get(EmailMessage.kind == "notice")
    assert "请提供身份证明后再改名。" in notice.body_text


def test_a_viewer_sees_the_queue_but_cannot_decide(client, staff_login):
    customer, change = _requested()
    staff_login(role="viewer")
    assert client.get("/staff/reviews/").status_code == 200
    assert decide(client, change, decision="accept").status_code == 403
    assert ChangeRequest.get_by_id(change.id).status == "pending"
