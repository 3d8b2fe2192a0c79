"""The staff permission matrix: what each role may see and do. One table, enforced app-wide."""
from models import STAFF_ROLES
from services import N_

# Permissions are "<area>.<verb>". The back office maps every endpoint to one of these.
PERMISSIONS = {
    "dashboard.view": N_("See the dashboard"),
    "cards.view": N_("See customer cards"),
    "cards.edit": N_("Edit customer cards and their records"),
    "cards.export": N_("Export customer data"),
    "sensitive.reveal": N_("Reveal sensitive fields (ID numbers)"),
    "outbox.view": N_("Read the local mail outbox"),
    "staff.manage": N_("Invite staff, set roles, deactivate"),
    "audit.view": N_("Read the global audit log"),
    "requests.manage": N_("Handle customers' data requests (downloads, erasure)"),
    "dictionary.manage": N_("Add and change custom fields (the data dictionary)"),
    "tiers.manage": N_("Define tiers and their rules; override a card's tier"),
    "tasks.manage": N_("See and reassign every staff member's follow-ups"),
    "campaigns.manage": N_("Build segments, surveys and campaigns; read their results"),
    "campaigns.transactional": N_("Mark a campaign as a service notice (sent without the "
                                  "marketing-consent check)"),
}

_ALL = frozenset(PERMISSIONS)

MATRIX = {
    "admin": _ALL,
    "manager": _ALL - {"staff.manage", "dictionary.manage", "campaigns.transactional"},
    "agent": frozenset({"dashboard.view", "cards.view", "cards.edit", "outbox.view"}),
    "marketer": frozenset({"dashboard.view", "cards.view", "cards.export", "outbox.view",
                           "campaigns.manage"}),
    "viewer": frozenset({"dashboard.view", "cards.view"}),
}

assert set(MATRIX) == set(STAFF_ROLES)


def can(role, permission):
    """True if ``role`` holds ``permission``; unknown roles and permissions hold nothing."""
    return permission in MATRIX.get(role, frozenset())
