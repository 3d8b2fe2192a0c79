"""Small builders for test data, through the same services the app uses."""
import itertools
from decimal import Decimal

from services import accounts, customers, records
from services.actors import Actor

PASSWORD = "correct-horse-battery"
_seq = itertools.count(1)
SYSTEM = Actor.system("tests")


def make_staff(role="agent", email=None, name=None, password=PASSWORD):
    n = next(_seq)
    return accounts.create_staff(email or f"staff{n}@example.com", name or f"Staff {n}",
                                 password, role, SYSTEM)


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
