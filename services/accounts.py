"""Staff users and portal accounts: creation, sign-in checks, password changes, deactivation."""
from werkzeug.security import check_password_hash, generate_password_hash

import models
from models import STAFF_ROLES, Customer, PortalAccount, StaffUser
from services import N_, DomainError, audit, links, mail, sessions
from services.contacts import normalize_email

MIN_PASSWORD = 10
# Checked against when the email is unknown, so that both answers take the same time.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def check_password_strength(password, field="password"):
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(N_("Use at least %(count)d characters."), field, count=MIN_PASSWORD)
    if len(password) > 200:
        raise DomainError(N_("This password is too long."), field)


def create_staff(email, name, password, role, actor):
    """Add a staff user; the email is normalised and must be new."""
    if role not in STAFF_ROLES:
        raise DomainError(N_("Unknown role."), "role")
    email = normalize_email(email)
    check_password_strength(password)
    with models.atomic():
        if StaffUser.select().where(StaffUser.email == email).exists():
            raise DomainError(N_("A staff user with this email already exists."), "email")
        staff = StaffUser.create(email=email, name=name.strip() or email, role=role,
                                 password_hash=generate_password_hash(password))
        audit.record(actor, "staff.create", "staff", staff.id,
                     after={"email": email, "name": staff.name, "role": role})
    return staff


def _authenticate(model, email, password):
    try:
        email = normalize_email(email)
    except DomainError:
        email = None
    user = model.get_or_none(model.email == email) if email else None
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    ok = check_password_hash(stored, password or "")
    if user is None or not user.password_hash or not ok or not user.is_active:
        return None
    return user


def authenticate_staff(email, password):
    """The active staff user with this email and password, or None (same for every failure)."""
    return _authenticate(StaffUser, email, password)


def authenticate_customer(email, password):
    """The active portal account with this email and password, or None."""
    return _authenticate(PortalAccount, email, password)


def password_matches(principal, password):
    """True if ``password`` is this principal's (constant work when there is none)."""
    return check_password_hash(principal.password_hash or _DUMMY_HASH, password or "")


def change_password(principal, current, new, actor, keep_token=None):
    """Change a password; every other session of this principal ends."""
    if not password_matches(principal, current):
        raise DomainError(N_("The current password is not correct."), "current_password")
    check_password_strength(new, "new_password")
    with models.atomic():
        principal.password_hash = generate_password_hash(new)
        principal.password_changed_at = models.utcnow()
        model = type(principal)
        principal.save(only=[model.password_hash, model.password_changed_at])
        sessions.end_all(principal, keep_token=keep_token)
        audit.record(actor, "password.change", principal._meta.table_name, principal.id,
                     customer_id=getattr(principal, "customer_id", None))
        if isinstance(principal, PortalAccount):
            notify_password_changed(principal)


def deactivate_staff(staff, actor):
    """Deactivate a staff user: their sessions end at once. The last admin stays."""
    with models.atomic():
        if staff.role == "admin" and StaffUser.select().where(
                StaffUser.role == "admin", StaffUser.is_active == True,
                StaffUser.id != staff.id).count() == 0:
            raise DomainError(N_("The last active admin cannot be deactivated."))
        staff.is_active = False
        staff.save(only=[StaffUser.is_active])
        sessions.end_all(staff)
        audit.record(actor, "staff.deactivate", "staff", staff.id,
                     before={"is_active": True}, after={"is_active": False})


def create_portal_account(customer, email, password=None):
    """A portal sign-in for a customer card (no password: the customer claims it later)."""
    email = normalize_email(email)
    if PortalAccount.select().where(PortalAccount.email == email).exists():
        raise DomainError(N_("This email already has a portal account."), "email")
    return PortalAccount.create(
        customer=customer, email=email,
        password_hash=generate_password_hash(password) if password else None)


def set_preferred_language(principal, code):
    """Remember a staff user's interface language, or a customer's (on their card, where
    emails read it too)."""
    if isinstance(principal, PortalAccount):
        Customer.update(preferred_language=code).where(
            Customer.id == principal.customer_id).execute()
        principal.customer.preferred_language = code
    else:
        StaffUser.update(preferred_language=code).where(StaffUser.id == principal.id).execute()
        principal.preferred_language = code


def preferred_language(principal):
    if isinstance(principal, PortalAccount):
        return principal.customer.preferred_language
    return principal.preferred_language


def notify_password_changed(account):
    """Tell a portal account's address that its password changed, and how to undo it."""
    mail.send_template("notice", "password_changed.txt", account.customer, account.email,
                       url=links.portal_url("/reset"),
                       when=models.utcnow().strftime("%Y-%m-%d %H:%M UTC"))
