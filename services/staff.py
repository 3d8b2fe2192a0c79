"""Staff administration: the staff list, invitations by emailed link, roles, deactivation and
2FA resets. The business always keeps an active admin, and nobody changes their own access."""
import datetime
import unicodedata

from werkzeug.security import generate_password_hash

import models
from models import STAFF_ROLES, LinkToken, StaffUser
from services import (
    N_,
    DomainError,
    accounts,
    audit,
    links,
    mail,
    runtime,
    sessions,
    totp,
)
from services.actors import Actor
from services.contacts import normalize_email
from services.profile import FieldErrors

INVITE_PURPOSE = "staff_invite"  # its own salt: a customer's invitation never opens this
INVITE_LIFETIME = datetime.timedelta(days=3)
NAME_MAX = 100


def staff_query():
    """Every staff member, active first, by name; and a cheap count for the pager."""
    rows = StaffUser.select().order_by(StaffUser.is_active.desc(), StaffUser.name, StaffUser.id)
    return rows, StaffUser.select()


def get(public_id):
    """The staff member with this public id, or None (also for ids no row could have)."""
    if not public_id or "\x00" in public_id or len(public_id) > 16:
        return None
    return StaffUser.get_or_none(StaffUser.public_id == public_id)


def is_invited(staff):
    """True while an invited member has not chosen a password yet."""
    return not staff.password_hash


def _lock_staff():
    # Two admins demoting each other at once must not leave none: serialise these changes.
    # SQLite's IMMEDIATE transactions already do; PostgreSQL needs a lock for the transaction.
    if models.is_postgres():
        models.db.execute_sql("SELECT pg_advisory_xact_lock(727002)")


def _other_active_admins(staff):
    return StaffUser.select().where(StaffUser.role == "admin", StaffUser.is_active == True,
                                    StaffUser.id != staff.id).count()


def _not_self(staff, actor, message):
    if actor.kind == "staff" and actor.id == staff.id:
        raise DomainError(message)


def _clean_invite(name, email, role):
    errors = {}
    name = unicodedata.normalize("NFC", (name or "").strip())
    if not name:
        errors["name"] = (N_("Enter the name."), {})
    elif len(name) > NAME_MAX or "\x00" in name:
        errors["name"] = (N_("Use at most %(count)d characters."), {"count": NAME_MAX})
    try:
        email = normalize_email(email)
    except DomainError as exc:
        errors["email"] = (exc.message, exc.params)
    if role not in STAFF_ROLES:
        errors["role"] = (N_("Choose a role."), {})
    if errors:
        raise FieldErrors(errors)
    return name, email


def _send_invite(staff):
    (LinkToken.update(used_at=models.utcnow())
     .where(LinkToken.purpose == INVITE_PURPOSE, LinkToken.staff == staff,
            LinkToken.used_at.is_null()).execute())
    token = links.issue(INVITE_PURPOSE, None, lifetime=INVITE_LIFETIME)
    LinkToken.update(staff=staff).where(
        LinkToken.jti == links.peek(INVITE_PURPOSE, token).jti).execute()
    lang = staff.preferred_language or runtime.get("BABEL_DEFAULT_LOCALE")
    url = runtime.get("STAFF_URL").rstrip("/") + f"/invite/{token}"
    subject, text = mail.render("staff_invite.txt", lang, name=staff.name, url=url,
                                days=INVITE_LIFETIME.days)
    mail.queue("staff_invite", staff.email, subject, text, to_name=staff.name)


def invite(name, email, role, actor):
    """Add a staff member without a password and email them a single-use link to choose one."""
    name, email = _clean_invite(name, email, role)
    with models.atomic():
        if StaffUser.select().where(StaffUser.email == email).exists():
            raise FieldErrors({"email": (N_("A staff user with this email already exists."), {})})
        staff = StaffUser.create(email=email, name=name, role=role, password_hash="")
        _send_invite(staff)
        audit.record(actor, "staff.invite", "staff", staff.id,
                     after={"email": email, "name": name, "role": role})
    return staff


def resend_invite(staff, actor):
    """A new invitation link for a member who has not accepted yet; older links stop working."""
    if not is_invited(staff):
        raise DomainError(N_("%(name)s has already set a password."), name=staff.name)
    if not staff.is_active:
        raise DomainError(N_("Reactivate %(name)s first."), name=staff.name)
    with models.atomic():
        _send_invite(staff)
        audit.record(actor, "staff.invite_resent", "staff", staff.id, after={"email": staff.email})


def invited_staff(token):
    """The staff member an invitation link is for, without using it (GET); else LinkError."""
    row = links.peek(INVITE_PURPOSE, token)
    staff = StaffUser.get_or_none(StaffUser.id == row.staff_id)
    if staff is None or not staff.is_active or not is_invited(staff):
        raise links.LinkError("invalid")
    return staff


def accept_invite(token, password, ip=None, user_agent=None):
    """Choose the password from an invitation link (once); return the staff member."""
    accounts.check_password_strength(password)
    with models.atomic():
        row = links.consume(INVITE_PURPOSE, token)
        staff = StaffUser.get_or_none(StaffUser.id == row.staff_id)
        if staff is None or not staff.is_active or not is_invited(staff):
            raise links.LinkError("invalid")
        staff.password_hash = generate_password_hash(password)
        staff.password_changed_at = models.utcnow()
        staff.save(only=[StaffUser.password_hash, StaffUser.password_changed_at])
        audit.record(Actor("link", staff.id, "staff invite link", ip, user_agent),
                     "staff.invite_accepted", "staff", staff.id)
    return staff


def set_role(staff, role, actor):
    """Give ``staff`` another role; the last active admin stays an admin."""
    if role not in STAFF_ROLES:
        raise DomainError(N_("Choose a role."), "role")
    _not_self(staff, actor, N_("You cannot change your own role."))
    if role == staff.role:
        return staff
    with models.atomic():
        _lock_staff()
        if staff.role == "admin" and staff.is_active and _other_active_admins(staff) == 0:
            raise DomainError(N_("The last active admin cannot be given another role."), "role")
        before = staff.role
        staff.role = role
        staff.save(only=[StaffUser.role])
        audit.record(actor, "staff.role", "staff", staff.id,
                     before={"role": before}, after={"role": role})
    return staff


def deactivate(staff, actor):
    """Deactivate ``staff``: their sessions end at once. Never oneself, never the last admin."""
    _not_self(staff, actor, N_("You cannot deactivate yourself."))
    if not staff.is_active:
        return staff
    with models.atomic():
        _lock_staff()
        accounts.deactivate_staff(staff, actor)
    return staff


def reactivate(staff, actor):
    """Let a deactivated member sign in again (with their old password and 2FA)."""
    if staff.is_active:
        return staff
    with models.atomic():
        staff.is_active = True
        staff.save(only=[StaffUser.is_active])
        audit.record(actor, "staff.reactivate", "staff", staff.id,
                     before={"is_active": False}, after={"is_active": True})
    return staff


def reset_two_factor(staff, actor):
    """Clear someone's 2FA (a lost phone): their sessions end, they enrol again at sign-in."""
    _not_self(staff, actor, N_("Use My account to change your own two-factor sign-in."))
    if not staff.totp_secret and not staff.recovery_codes:
        raise DomainError(N_("%(name)s has no two-factor sign-in to reset."), name=staff.name)
    with models.atomic():
        before = totp.is_enabled(staff)
        totp.clear(staff)
        sessions.end_all(staff)
        audit.record(actor, "staff.2fa_reset", "staff", staff.id,
                     before={"two_factor": before}, after={"two_factor": False})
    return staff
