"""Sending mail: safe headers, one EmailMessage row per mail, delivery after commit.

``MAIL_URL=outbox`` (the dev default) keeps mail in the database, readable at /staff/outbox;
``smtp://host:port`` (or ``smtps://``) sends it. Delivery runs as a job, so a slow or failing
mail server never holds up a page, and SMTP 4xx answers are retried.
"""
import re
import smtplib
from functools import lru_cache
from email.headerregistry import Address
from email.message import EmailMessage as MimeMessage
from email.utils import make_msgid
from urllib.parse import urlparse

from babel.support import Translations
from jinja2 import Environment, FileSystemLoader, select_autoescape

import config
import models
from models import EmailMessage
from services import N_, DomainError, jobs, runtime

_UNSAFE_HEADER = re.compile(r"[\r\n\x00]|=\?")


def safe_header(value, field="header"):
    """A header value from user data, refused if it carries CR/LF, NUL or an encoded word."""
    value = str(value or "")
    if _UNSAFE_HEADER.search(value):
        raise DomainError(N_("This text cannot be used in an email header."), field)
    return value


def display_name(name):
    """A display name made safe by dropping what could forge headers (names are user data)."""
    cleaned = _UNSAFE_HEADER.sub(" ", str(name or ""))
    return " ".join(cleaned.split())[:100]


def _domain():
    return runtime.get("MAIL_FROM").rpartition("@")[2] or "localhost"


def queue(kind, to_addr, subject, text, html=None, customer=None, to_name="", headers=None,
          message_id=None):
    """Record a mail and deliver it after the current transaction commits; return the row."""
    row = record(kind, to_addr, subject, text, html, customer, to_name, headers, message_id)
    jobs.enqueue(deliver_task, row.id)
    return row


def record(kind, to_addr, subject, text, html=None, customer=None, to_name="", headers=None,
           message_id=None):
    """Store a mail without delivering it (a caller that sends in bulk delivers it itself over
    one connection with ``deliver(pk, connection)``); return the row."""
    row = message_row(kind, to_addr, subject, text, html, customer, to_name, headers, message_id)
    row.save(force_insert=True)
    return row


def message_row(kind, to_addr, subject, text, html=None, customer=None, to_name="",
                headers=None, message_id=None):
    """An unsaved EmailMessage with checked headers (bulk senders insert many at once)."""
    to_addr = safe_header(to_addr, "email")
    subject = safe_header(subject, "subject")
    extra = {safe_header(k): safe_header(v) for k, v in (headers or {}).items()}
    return EmailMessage(
        message_id=message_id or make_msgid(domain=_domain()), kind=kind, customer=customer,
        to_addr=to_addr, subject=subject, body_text=text, body_html=html,
        headers={"to_name": display_name(to_name), **extra},
        transport="outbox" if runtime.get("MAIL_URL") == "outbox" else "smtp")


def domain():
    """The domain of MAIL_FROM, for Message-IDs."""
    return _domain()


def build_mime(row):
    """The RFC 5322 message for a stored mail."""
    msg = MimeMessage()
    headers = dict(row.headers or {})
    to_name = headers.pop("to_name", "")
    user, _, domain = row.to_addr.rpartition("@")
    msg["From"] = Address(display_name(runtime.get("MAIL_FROM_NAME")),
                          *runtime.get("MAIL_FROM").rsplit("@", 1))
    msg["To"] = Address(to_name, user, domain)
    msg["Subject"] = row.subject
    msg["Message-ID"] = row.message_id
    for key, value in headers.items():
        msg[key] = value
    msg.set_content(row.body_text)
    if row.body_html:
        msg.add_alternative(row.body_html, subtype="html")
    return msg


class TemporaryMailError(Exception):
    """The mail server said try later (4xx or a dropped connection)."""


def smtp_connection():
    url = urlparse(runtime.get("MAIL_URL"))
    cls = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    conn = cls(url.hostname or "127.0.0.1", url.port or (465 if url.scheme == "smtps" else 25),
               timeout=30)
    if runtime.get("MAIL_STARTTLS"):
        conn.starttls()
    if runtime.get("MAIL_USERNAME"):
        conn.login(runtime.get("MAIL_USERNAME"), runtime.get("MAIL_PASSWORD"))
    return conn


def attempt(row, conn):
    """Hand one stored mail to an open SMTP connection. Returns (outcome, error, usable):
    outcome "sent", "retry" (a 4xx answer or a dropped connection) or "failed" (5xx);
    ``usable`` is False when the connection is dead and must be replaced."""
    try:
        conn.send_message(build_mime(row))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _text in exc.recipients.values()]
        temporary = bool(codes) and all(400 <= code < 500 for code in codes)
        return ("retry" if temporary else "failed"), str(exc)[:500], True
    except smtplib.SMTPServerDisconnected as exc:
        return "retry", str(exc)[:500] or "connection closed", False
    except smtplib.SMTPResponseException as exc:
        outcome = "retry" if 400 <= exc.smtp_code < 500 else "failed"
        return outcome, f"{exc.smtp_code} {exc.smtp_error!r}"[:500], exc.smtp_code != 421
    except (ConnectionError, TimeoutError, OSError) as exc:
        return "retry", (str(exc) or type(exc).__name__)[:500], False
    return "sent", None, True


def close_quietly(conn):
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def deliver(message_pk, connection=None):
    """Deliver one stored mail; idempotent (a mail already sent is not sent again)."""
    row = EmailMessage.get_or_none(EmailMessage.id == message_pk)
    if row is None or row.status == "sent":
        return row
    if row.transport == "outbox":
        mark(row, "sent")
        return row
    try:
        conn = connection or smtp_connection()
    except (smtplib.SMTPException, OSError) as exc:
        raise TemporaryMailError(str(exc)) from exc
    try:
        outcome, error, _usable = attempt(row, conn)
    finally:
        if connection is None:
            close_quietly(conn)
    if outcome == "retry":
        raise TemporaryMailError(error)
    mark(row, outcome, error)
    return row


def mark(row, status, error=None):
    EmailMessage.update(status=status, error=error,
                        sent_at=models.utcnow() if status == "sent" else None).where(
        EmailMessage.id == row.id).execute()
    row.status, row.error = status, error


@jobs.huey.task(retries=5, retry_delay=30)
def deliver_task(message_pk):
    deliver(message_pk)


def outbox_query():
    """Every stored mail, newest first (the outbox page paginates it)."""
    return EmailMessage.select().order_by(EmailMessage.id.desc())


def get_message(public_id):
    return EmailMessage.get_or_none(EmailMessage.public_id == public_id)


@lru_cache(maxsize=8)
def _environment(lang):
    """A Jinja environment for email templates with the catalogue of ``lang`` installed."""
    env = Environment(loader=FileSystemLoader(str(config.BASE_DIR / "templates" / "email")),
                      extensions=["jinja2.ext.i18n"], autoescape=select_autoescape(["html"]),
                      keep_trailing_newline=True)
    catalogue = Translations.load(str(config.BASE_DIR / "translations"), [lang])
    env.install_gettext_translations(catalogue, newstyle=True)
    return env


def render(template, lang, **context):
    """(subject, text) of an email template in ``lang`` ("zh" or "en")."""
    context.setdefault("business", runtime.get("BUSINESS_NAME"))
    module = _environment(lang if lang in ("zh", "en") else "zh").get_template(
        template).make_module(context)
    return str(module.subject).strip(), str(module).strip() + "\n"


def send_template(kind, template, customer, to_addr, **context):
    """Render an email template in the customer's language and queue it to ``to_addr``."""
    subject, text = render(template, customer.preferred_language or "zh", name=customer.name,
                           **context)
    return queue(kind, to_addr, subject, text, customer=customer, to_name=customer.name)
