"""The staff permission matrix: what each role may see and do. One table, enforced app-wide."""
from models import STAFF_ROLES

# Permissions are "<area>.<verb>". The back office maps every endpoint to one of these.
PERMISSIONS = {
    "dashboard.view": "See the dashboard",
    "cards.view": "See customer cards",
    "cards.edit": "Edit customer cards and their records",
    "cards.export": "Export customer data",
    "sensitive.reveal": "Reveal sensitive fields (ID numbers)",
    "outbox.view": "Read the local mail outbox",
    "staff.manage": "Invite staff, set roles, deactivate",
    "audit.view": "Read the global audit log",
    "requests.manage": "Handle customers' data requests (downloads, erasure)",
    "dictionary.manage": "Add and change custom fields (the data dictionary)",
    "tiers.manage": "Define tiers and their rules; override a card's tier",
    "campaigns.manage": "Build segments, surveys and campaigns; read their results",
}

_ALL = frozenset(PERMISSIONS)

MATRIX = {
    "admin": _ALL,
    "manager": _ALL - {"staff.manage", "dictionary.manage"},
    "agent": frozenset({"dashboard.view", "cards.view", "cards.edit", "outbox.view"}),
    "marketer": frozenset({"dashboard.view", "cards.view", "cards.export", "outbox.view",
                           "campaigns.manage"}),
    "viewer": frozenset({"dashboard.view", "cards.view"}),
}

assert set(MATRIX) == set(STAFF_ROLES)


def can(role, permission):
    """True if ``role`` holds ``permission``; unknown roles and permissions hold nothing."""
    return permission in MATRIX.get(role, frozenset())
