"""Small builders for test data, through the same services the app uses."""
import itertools
import time
from decimal import Decimal

import pyotp

import models
from services import accounts, customers, records
from services.actors import Actor

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)
SYSTEM = Actor.system("tests")


def make_staff(role="agent", email=None, name=None, password=PASSWORD, two_factor=None):
    """A staff member; admins (or ``two_factor=True``) come with 2FA on, as they must sign in
    with it (``totp_code`` gives their next code)."""
    n = next(_seq)
    staff = accounts.create_staff(email or f"staff{n}@example.com", name or f"Staff {n}",
                                  password, role, SYSTEM)
    if two_factor if two_factor is not None else role == "admin":
        staff.totp_secret = pyotp.random_base32()
        staff.totp_enabled_at = models.utcnow()
        staff.save(only=[models.StaffUser.totp_secret, models.StaffUser.totp_enabled_at])
    return staff


def totp_code(staff):
    """The next code the staff member's authenticator would show that the app still accepts
    (a code works once: a second sign-in in the same 30 seconds takes the next step's)."""
    staff = models.StaffUser.get_by_id(staff.id)
    totp = pyotp.TOTP(staff.totp_secret)
    now_step = int(time.time() // totp.interval)
    step = max(now_step, (staff.totp_last_step or 0) + 1)
    if step > now_step + 1:  # both usable steps spent: wait for the next one
        time.sleep((step - 1) * totp.interval - time.time() + 0.05)
    return totp.generate_otp(step)


def make_customer(name=None, email=None, mobile=None, password=PASSWORD, account=True, **fields):
    """A card and (unless account=False) its portal account; returns (customer, account)."""
    n = next(_seq)
    email = email or f"customer{n}@example.com"
    customer = customers.create_customer(SYSTEM, name=name or f"客户{n}", email=email,
                                         mobile=mobile, **fields)
    portal_account = (accounts.create_portal_account(customer, email, password)
                      if account else None)
    return customer, portal_account


def make_purchase(customer, amount="100.00", product="Test product", **fields):
    return records.add_purchase(customer, SYSTEM, product=product, amount=Decimal(amount),
                                unit_price=Decimal(amount), **fields)


def make_survey(questions=None, status="open", **settings):
    """A survey (open by default) with questions given as dicts of the builder's form data;
    default: one required NPS question and one optional long text."""
    from services import surveys
    data = {"title_zh": "满意度调查", "title_en": "Satisfaction survey", "invite_days": 14,
            "task_on_detractor": True, **settings}
    survey = surveys.create_survey(SYSTEM, None, data)
    for question in questions or (
            {"kind": "nps", "text_zh": "您有多大可能向朋友推荐我们？",
             "text_en": "How likely are you to recommend us to a friend?", "required": True},
            {"kind": "long_text", "text_zh": "还有什么想告诉我们的？",
             "text_en": "Anything else you would like to tell us?", "required": False}):
        surveys.add_question(survey, SYSTEM, question)
    if status != "draft":
        surveys.set_status(survey, status, SYSTEM)
    return survey
