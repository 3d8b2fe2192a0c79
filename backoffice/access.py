"""The back office's one guard: every endpoint is in this map, or nobody may open it."""
from flask import abort, redirect, request, url_for
from flask_login import current_user

from services import totp
from services.access import can

SIGNED_IN = "signed-in"  # any active staff member, whatever the role

# endpoint -> permission (services.access.PERMISSIONS), SIGNED_IN, or None for public pages.
ENDPOINTS = {
    "static": None,
    "health.healthz": None,
    "i18n.set_language": None,
    "auth.login": None,
    "auth.logout": SIGNED_IN,
    "account.password": SIGNED_IN,
    "dashboard.index": "dashboard.view",
    "cards.index": "cards.view",
    "cards.results": "cards.view",
    "cards.view_save": "cards.view",
    "cards.view_open": "cards.view",
    "cards.view_delete": "cards.view",
    "cards.bulk": "cards.edit",
    "cards.new": "cards.edit",
    "card.detail": "cards.view",
    "card.invite": "cards.edit",
    "card.edit": "cards.edit",
    "card.records_tab": "cards.view",
    "card.record_new": "cards.edit",
    "card.record_edit": "cards.edit",
    "card.record_delete": "cards.edit",
    "reviews.index": "cards.view",
    "reviews.detail": "cards.view",
    "reviews.decide": "cards.edit",
    "feedback.index": "cards.view",
    "feedback.detail": "cards.view",
    "feedback.assign": "cards.edit",
    "feedback.status": "cards.edit",
    "feedback.reply": "cards.edit",
    "outbox.index": "outbox.view",
    "outbox.detail": "outbox.view",
    "requests.index": "requests.manage",
    "surveys.index": "campaigns.manage",
    "surveys.new": "campaigns.manage",
    "surveys.detail": "campaigns.manage",
    "surveys.settings": "campaigns.manage",
    "surveys.status": "campaigns.manage",
    "surveys.add_question": "campaigns.manage",
    "surveys.edit_question": "campaigns.manage",
    "surveys.move_question": "campaigns.manage",
    "surveys.delete_question": "campaigns.manage",
    "surveys.public_link": "campaigns.manage",
    "surveys.invite": "campaigns.manage",
    "surveys.send_reminders": "campaigns.manage",
    "surveys.results": "campaigns.manage",
    "surveys.export_csv": "campaigns.manage",
    "surveys.export_xlsx": "campaigns.manage",
    "segments.index": "campaigns.manage",
    "segments.new": "campaigns.manage",
    "segments.edit": "campaigns.manage",
    "segments.count": "campaigns.manage",
    "segments.detail": "campaigns.manage",
    "segments.add": "campaigns.manage",
    "segments.add_found": "campaigns.manage",
    "segments.remove": "campaigns.manage",
    "segments.refresh": "campaigns.manage",
    "segments.delete": "campaigns.manage",
    # Email campaigns (backoffice/campaigns.py).
    "campaigns.index": "campaigns.manage",
    "campaigns.new": "campaigns.manage",
    "campaigns.edit": "campaigns.manage",
    "campaigns.audience": "campaigns.manage",
    "campaigns.detail": "campaigns.manage",
    "campaigns.progress": "campaigns.manage",
    "campaigns.start": "campaigns.manage",
    "campaigns.status": "campaigns.manage",
    "campaigns.send_test": "campaigns.manage",
    "campaigns.delete": "campaigns.manage",
    "campaigns.results": "campaigns.manage",
    # A card's static lists (the card page loads them; adding and removing edits the card).
    "segments.card_lists": "cards.view",
    "segments.card_add": "cards.edit",
    "segments.card_remove": "cards.edit",
    "tasks.my_day": "cards.view",
    "tasks.create": "cards.edit",
    "tasks.done": "cards.edit",
    "tasks.reopen": "cards.edit",
    "tasks.reassign": "cards.edit",
    "tiers.index": "tiers.manage",
    "tiers.create": "tiers.manage",
    "tiers.edit": "tiers.manage",
    "tiers.delete": "tiers.manage",
    "tiers.recalculate": "tiers.manage",
    "tiers.override": "tiers.manage",
    "tiers.remove_override": "tiers.manage",
    "card_fields.edit": "cards.edit",
    "card_fields.reveal": "sensitive.reveal",
    "dictionary.index": "cards.view",
    "dictionary.new": "dictionary.manage",
    "dictionary.edit": "dictionary.manage",
    "dictionary.active": "dictionary.manage",
    "audit.card_history": "cards.view",
    "audit.index": "audit.view",
    "audit.verify": "audit.view",
    # Staff, roles and two-factor sign-in (backoffice/staff.py, backoffice/auth.py).
    "auth.code": None,  # the second sign-in step: its own short-lived state, not a session
    "invite.accept": None,  # behind an emailed single-use link
    "account.two_factor": SIGNED_IN,
    "account.two_factor_start": SIGNED_IN,
    "account.two_factor_confirm": SIGNED_IN,
    "account.two_factor_disable": SIGNED_IN,
    "account.recovery_codes": SIGNED_IN,
    "staff.index": "staff.manage",
    "staff.roles": "staff.manage",
    "staff.invite": "staff.manage",
    "staff.detail": "staff.manage",
    "staff.set_role": "staff.manage",
    "staff.deactivate": "staff.manage",
    "staff.reactivate": "staff.manage",
    "staff.reset_two_factor": "staff.manage",
    "staff.resend_invite": "staff.manage",
}

# While an admin must still enrol in two-factor sign-in, only these answer; the rest redirect
# to the enrolment page.
ENROLMENT_ENDPOINTS = frozenset({"auth.logout", "account.two_factor", "account.two_factor_start",
                                 "account.two_factor_confirm"})


def permission_for(endpoint):
    """The permission an endpoint needs; KeyError if the endpoint is not in the map."""
    return ENDPOINTS[endpoint]


def init_app(app):
    @app.before_request
    def _guard():
        if request.endpoint is None:  # 404 / 405: let Flask answer
            return None
        needed = ENDPOINTS.get(request.endpoint, KeyError)
        if needed is None:
            return None
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.script_root + request.full_path.rstrip("?")))
        if needed is KeyError or (needed != SIGNED_IN and not can(current_user.role, needed)):
            abort(403)  # fail closed: an endpoint missing from the map is nobody's
        if (request.endpoint not in ENROLMENT_ENDPOINTS
                and totp.enrolment_required(current_user.user)):
            return redirect(url_for("account.two_factor"))
        return None
