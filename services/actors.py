"""Who did something: passed by the caller into every service that writes."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # staff / customer / system / link
    id: int | None = None
    label: str = ""
    ip: str | None = None
    user_agent: str | None = None

    @classmethod
    def system(cls, label="system"):
        return cls("system", None, label)

    @classmethod
    def for_staff(cls, staff, ip=None, user_agent=None):
        return cls("staff", staff.id, staff.email, ip, (user_agent or "")[:255] or None)

    @classmethod
    def for_customer(cls, account, ip=None, user_agent=None):
        return cls("customer", account.customer_id, account.email, ip,
                   (user_agent or "")[:255] or None)
