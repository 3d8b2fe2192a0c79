"""Demo sign-ins and small shared values of the demo and scale data."""
import datetime
from decimal import Decimal

from models import Customer, StaffUser
from services.actors import Actor

DEMO_PASSWORD = "demo-password-2026"

# role, email, name, interface language
DEMO_STAFF = (
    ("admin", "admin@example.com", "李静", "zh"),
    ("manager", "manager@example.com", "陈明", "zh"),
    ("agent", "agent@example.com", "张磊", "zh"),
    ("marketer", "marketer@example.com", "刘洋", "zh"),
    ("viewer", "viewer@example.com", "Sophie Martin", "en"),
)
# The two demo customers who can sign in to the portal: one Chinese, one international.
DEMO_CUSTOMER_LOGINS = (("王芳", "wangfang@example.com"), ("Emma Wilson", "emma.wilson@example.com"))

SYSTEM = Actor.system("demo data")
CENT = Decimal("0.01")
ZERO = Decimal("0")
SHANGHAI = datetime.timedelta(hours=8)  # business time zone offset (no DST)


def demo_logins():
    """(role, email) of every demo sign-in: the staff, then the portal customers ("customer")."""
    return ([(role, email) for role, email, _, _ in DEMO_STAFF]
            + [("customer", email) for _, email in DEMO_CUSTOMER_LOGINS])


def is_empty():
    """True when the database has no staff users and no customers (a first run)."""
    return not StaffUser.select().exists() and not Customer.select().exists()
