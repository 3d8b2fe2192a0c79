"""Two-factor sign-in for staff: TOTP enrolment with a QR code, six-digit codes that work once,
and ten one-time recovery codes stored only as hashes. The TOTP secret is encrypted at rest
(``StaffUser.totp_secret`` is a SealedCharField: this module sees it clear, the column never)."""
import base64
import hashlib
import hmac
import io
import re
import secrets
import time

import pyotp
import qrcode
import qrcode.image.svg

import models
from models import StaffUser
from services import N_, DomainError, accounts, audit, runtime

RECOVERY_COUNT = 10
ROTATE_BATCH = 500
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
RECOVERY_LENGTH = 10  # about 49 bits each; sign-in attempts are rate-limited too
VALID_WINDOW = 1  # the step before and after the current one: clocks drift, people type slowly


def is_enabled(staff):
    """True if ``staff`` signs in with a second step."""
    return staff.totp_enabled_at is not None and bool(staff.totp_secret)


def is_required(staff):
    """True if the settings oblige ``staff`` to use 2FA (admins, REQUIRE_ADMIN_2FA)."""
    return staff.role == "admin" and bool(runtime.get("REQUIRE_ADMIN_2FA"))


def enrolment_required(staff):
    """True if ``staff`` must enrol before doing anything else."""
    return is_required(staff) and not is_enabled(staff)


def check_password(staff, password, field="password"):
    """Re-entry of the password before a change to the sign-in itself."""
    if not accounts.password_matches(staff, password):
        raise DomainError(N_("The password is not correct."), field)


def begin_enrolment(staff, actor, password=None):
    """Give ``staff`` a new secret to scan; 2FA is on only once a code from it is confirmed.

    The password is asked for unless enrolment is required (the admin has just typed it)."""
    if is_enabled(staff):
        raise DomainError(N_("Two-factor sign-in is already on."))
    if not enrolment_required(staff):
        check_password(staff, password)
    with models.atomic():
        staff.totp_secret = pyotp.random_base32()
        staff.totp_last_step = None
        staff.save(only=[StaffUser.totp_secret, StaffUser.totp_last_step])
        audit.record(actor, "staff.2fa_enrolment_started", "staff", staff.id)


def provisioning_uri(staff):
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(staff.totp_secret).provisioning_uri(
        name=staff.email, issuer_name=runtime.get("BUSINESS_NAME"))


def qr_data_uri(text):
    """``text`` as a QR code: an SVG in a data: URI for an <img> (the CSP allows data: images)."""
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def secret_for_display(staff):
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(re.findall(".{1,4}", staff.totp_secret or ""))


def _matching_step(secret, code, now):
    totp = pyotp.TOTP(secret)
    current = int(now // totp.interval)
    for step in range(current - VALID_WINDOW, current + VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _accept_code(staff, code, now=None):
    """True if ``code`` is a current TOTP code not used before; the step is then spent.

    The conditional UPDATE makes two requests with the same code race safely: one wins."""
    code = re.sub(r"\s", "", code or "")
    if not staff.totp_secret or not re.fullmatch(r"\d{6}", code):
        return False
    step = _matching_step(staff.totp_secret, code, time.time() if now is None else now)
    if step is None:
        return False
    won = (StaffUser.update(totp_last_step=step)
           .where(StaffUser.id == staff.id,
                  StaffUser.totp_last_step.is_null() | (StaffUser.totp_last_step < step))
           .execute())
    if won:
        staff.totp_last_step = step
    return won == 1


def _normalise_recovery(code):
    return re.sub(r"[\s-]", "", (code or "").lower())


def _hash_recovery(staff, code):
    return hashlib.sha256(f"cards-recovery:{staff.public_id}:{code}".encode()).hexdigest()


def _new_recovery_codes(staff):
    """(codes to show once, their hashes to store)."""
    codes = ["".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_LENGTH))
             for _ in range(RECOVERY_COUNT)]
    shown = [f"{c[:5]}-{c[5:]}" for c in codes]
    return shown, [_hash_recovery(staff, c) for c in codes]


def confirm_enrolment(staff, code, actor):
    """Switch 2FA on with a first code from the app; return the recovery codes (shown once)."""
    if is_enabled(staff) or not staff.totp_secret:
        raise DomainError(N_("Start the set-up again."), "code")
    with models.atomic():
        if not _accept_code(staff, code):
            raise DomainError(N_("This code is not correct. Check the time on your phone and "
                                 "type the code the app shows now."), "code")
        shown, hashes = _new_recovery_codes(staff)
        staff.totp_enabled_at = models.utcnow()
        staff.recovery_codes = hashes
        staff.save(only=[StaffUser.totp_enabled_at, StaffUser.recovery_codes])
        audit.record(actor, "staff.2fa_enable", "staff", staff.id,
                     before={"two_factor": False}, after={"two_factor": True})
    return shown


def _use_recovery_code(staff, code, actor):
    code = _normalise_recovery(code)
    if len(code) != RECOVERY_LENGTH:
        return False
    with models.atomic():
        query = StaffUser.select().where(StaffUser.id == staff.id)
        if models.is_postgres():  # SQLite's IMMEDIATE transaction already serialises this
            query = query.for_update()
        row = query.get()
        wanted = _hash_recovery(row, code)
        remaining = list(row.recovery_codes or [])
        if not any(hmac.compare_digest(wanted, h) for h in remaining):
            return False
        remaining.remove(wanted)
        StaffUser.update(recovery_codes=remaining).where(StaffUser.id == staff.id).execute()
        staff.recovery_codes = remaining
        audit.record(actor, "staff.2fa_recovery_code_used", "staff", staff.id,
                     after={"recovery_codes_left": len(remaining)})
    return True


def verify_sign_in(staff, code, actor):
    """The second sign-in step: a current six-digit code or an unused recovery code."""
    if not is_enabled(staff):
        return False
    if re.fullmatch(r"\d{6}", re.sub(r"\s", "", code or "")):
        return _accept_code(staff, code)
    return _use_recovery_code(staff, code, actor)


def recovery_codes_left(staff):
    return len(staff.recovery_codes or [])


def regenerate_recovery_codes(staff, password, actor):
    """Replace every recovery code with ten new ones (the old ones stop working)."""
    if not is_enabled(staff):
        raise DomainError(N_("Two-factor sign-in is off."))
    check_password(staff, password)
    with models.atomic():
        shown, hashes = _new_recovery_codes(staff)
        staff.recovery_codes = hashes
        staff.save(only=[StaffUser.recovery_codes])
        audit.record(actor, "staff.2fa_recovery_codes_regenerated", "staff", staff.id)
    return shown


def clear(staff):
    """Remove the secret and codes (the caller's transaction audits why)."""
    staff.totp_secret = None
    staff.totp_enabled_at = None
    staff.totp_last_step = None
    staff.recovery_codes = None
    staff.save(only=[StaffUser.totp_secret, StaffUser.totp_enabled_at, StaffUser.totp_last_step,
                     StaffUser.recovery_codes])


def disable(staff, password, actor):
    """Switch one's own 2FA off (not allowed where it is required)."""
    if not is_enabled(staff):
        raise DomainError(N_("Two-factor sign-in is off."))
    if is_required(staff):
        raise DomainError(N_("Admins must keep two-factor sign-in on."))
    check_password(staff, password)
    with models.atomic():
        clear(staff)
        audit.record(actor, "staff.2fa_disable", "staff", staff.id,
                     before={"two_factor": True}, after={"two_factor": False})


def rotate_secrets(batch=ROTATE_BATCH):
    """Re-encrypt every stored TOTP secret under the newest key (part of ``cards rotate-keys``;
    the caller audits the run), ``batch`` rows per transaction; returns how many."""
    count, last = 0, 0
    while True:
        with models.atomic():
            rows = list(StaffUser.select(StaffUser.id, StaffUser.totp_secret)
                        .where(StaffUser.id > last, StaffUser.totp_secret.is_null(False))
                        .order_by(StaffUser.id).limit(batch))
            for row in rows:  # read opens it under any key, the write seals it under the newest
                StaffUser.update(totp_secret=row.totp_secret).where(
                    StaffUser.id == row.id).execute()
        if not rows:
            return count
        count += len(rows)
        last = rows[-1].id
