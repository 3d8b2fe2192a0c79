"""Mail: delivery to a real SMTP server, safe headers, the local outbox."""
import pytest

import models
from models import EmailMessage
from services import DomainError, mail


@pytest.fixture
def smtp_app(settings, smtp_server, db):
    import wsgi
    settings["MAIL_URL"] = smtp_server.url
    return wsgi.create_app(settings)


def test_mail_is_delivered_to_the_smtp_server_after_commit(smtp_app, smtp_server):
    with models.atomic():
        row = mail.queue("notice", "wang.fang@example.com", "您的资料卡已更新",
                         "你好，王芳：\n您的资料已更新。", to_name="王芳")
        assert smtp_server.sink.messages == []  # nothing leaves before the commit
    assert len(smtp_server.sink.messages) == 1
    sender, recipients, message = smtp_server.sink.messages[0]
    assert recipients == ["wang.fang@example.com"]
    assert message["Subject"] == "您的资料卡已更新"
    assert message["To"].addresses[0].display_name == "王芳"
    assert message["Message-ID"] == row.message_id
    assert "王芳" in message.get_content()
    assert EmailMessage.get_by_id(row.id).status == "sent"


def test_a_rolled_back_transaction_sends_nothing(smtp_app, smtp_server):
    with pytest.raises(RuntimeError):
        with models.atomic():
            mail.queue("notice", "a@example.com", "Hello", "Body")
            raise RuntimeError("rolled back")
    assert smtp_server.sink.messages == []
    assert EmailMessage.select().count() == 0


def test_permanent_smtp_failure_is_marked_failed(smtp_app, smtp_server):
    smtp_server.sink.reply = "550 5.1.1 mailbox unavailable"
    row = mail.queue("notice", "gone@example.com", "Hello", "Body")
    stored = EmailMessage.get_by_id(row.id)
    assert stored.status == "failed" and "550" in stored.error


def test_temporary_smtp_failure_is_retried_not_failed(smtp_app, smtp_server):
    smtp_server.sink.reply = "451 4.3.0 try again later"
    row = mail.queue("notice", "later@example.com", "Hello", "Body")
    assert EmailMessage.get_by_id(row.id).status == "queued"
    mail.deliver(row.id)  # the retry
    assert EmailMessage.get_by_id(row.id).status == "sent"
    assert len(smtp_server.sink.messages) == 1
    mail.deliver(row.id)  # delivering again is a no-op
    assert len(smtp_server.sink.messages) == 1


@pytest.mark.parametrize("subject", ["Hi\r\nBcc: victim@example.com", "Hi\nX-Evil: 1",
                                     "=?utf-8?q?Hi=0D=0ABcc:_victim@example.com?="])
def test_header_injection_is_refused(smtp_app, subject):
    with pytest.raises(DomainError):
        mail.queue("notice", "a@example.com", subject, "Body")
    assert EmailMessage.select().count() == 0


def test_user_names_cannot_forge_headers(smtp_app, smtp_server):
    mail.queue("notice", "a@example.com", "Hello", "Body",
               to_name="Eve\r\nBcc: victim@example.com =?utf-8?q?=0D=0ABcc:x@example.com?=")
    sender, recipients, message = smtp_server.sink.messages[0]
    assert recipients == ["a@example.com"]
    assert message["Bcc"] is None
    assert "\n" not in str(message["To"])


def test_outbox_mode_keeps_mail_for_staff_to_read(client, staff_login):
    mail.queue("notice", "emma.wilson@example.com", "Your card was updated", "Hello Emma")
    staff_login(role="agent")
    page = client.get("/staff/outbox/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Your card was updated" in page and "emma.wilson@example.com" in page
    row = EmailMessage.get()
    assert row.status == "sent" and row.transport == "outbox"
    detail = client.get(f"/staff/outbox/{row.public_id}").get_data(as_text=True)
    assert "Hello Emma" in detail
    assert client.get("/staff/outbox/doesnotexist").status_code == 404


def test_a_viewer_cannot_read_the_outbox(client, staff_login):
    staff_login(role="viewer")
    assert client.get("/staff/outbox/").status_code == 403
