"""Staff sign-in (password, then a TOTP code when 2FA is on), sign-out, the password change and
two-factor sign-in under My account: enrolment with a QR code, recovery codes, switching off."""
from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import StaffUser
from services import DomainError, accounts, totp
from services.actors import Actor
from webcore.forms import show_error
from webcore.i18n import lazy_gettext as _l
from webcore.signin import staff_actor
from webcore.views import SecondFactor, auth_blueprint, password_blueprint

second_factor = SecondFactor(
    needed=totp.is_enabled, verify=totp.verify_sign_in,
    load=lambda staff_id: StaffUser.get_or_none(StaffUser.id == staff_id),
    make_actor=Actor.for_staff, template="backoffice/auth/code.html")

bp = auth_blueprint(accounts.authenticate_staff, "backoffice/auth/login.html", "dashboard.index",
                    second_factor=second_factor)
password_bp = password_blueprint("backoffice/account/password.html", "dashboard.index",
                                 Actor.for_staff)


class PasswordCheckForm(FlaskForm):
    """The password again, before a change to how one signs in."""
    password = PasswordField(_l("Your password"), validators=[
        DataRequired(_l("Enter your password.")), Length(max=200)])


class StartEnrolmentForm(FlaskForm):
    password = PasswordField(_l("Your password"), validators=[Length(max=200)])


class ConfirmEnrolmentForm(FlaskForm):
    code = StringField(_l("Code from the app"), validators=[
        DataRequired(_l("Enter the six-digit code.")), Length(max=32)])



def _page(start_form=None, confirm_form=None, disable_form=None, codes_form=None):
    """My account's two-factor page: set-up (start, then scan and confirm) or the settings."""
    staff = current_user.user
    pending = not totp.is_enabled(staff) and bool(staff.totp_secret)
    qr = totp.qr_data_uri(totp.provisioning_uri(staff)) if pending else None
    return render_template(
        "backoffice/account/two_factor.html", staff=staff, enabled=totp.is_enabled(staff),
        required=totp.is_required(staff), forced=totp.enrolment_required(staff),
        pending=pending, qr=qr, secret=totp.secret_for_display(staff) if pending else None,
        codes_left=totp.recovery_codes_left(staff),
        start_form=start_form or StartEnrolmentForm(),
        confirm_form=confirm_form or ConfirmEnrolmentForm(),
        disable_form=disable_form or PasswordCheckForm(prefix="disable"),
        codes_form=codes_form or PasswordCheckForm(prefix="codes"))


@password_bp.route("/two-factor")
def two_factor():
    return _page()


@password_bp.route("/two-factor/start", methods=["POST"])
def two_factor_start():
    form = StartEnrolmentForm()
    if form.validate_on_submit():
        try:
            totp.begin_enrolment(current_user.user, staff_actor(), form.password.data)
        except DomainError as exc:
            show_error(form, exc, "password")
        else:
            return redirect(url_for("account.two_factor"))
    return _page(start_form=form)


@password_bp.route("/two-factor/confirm", methods=["POST"])
def two_factor_confirm():
    form = ConfirmEnrolmentForm()
    if form.validate_on_submit():
        try:
            codes = totp.confirm_enrolment(current_user.user, form.code.data, staff_actor())
        except DomainError as exc:
            show_error(form, exc, "code")
        else:
            flash(_("Two-factor sign-in is on."), "success")
            return render_template("backoffice/account/recovery_codes.html", codes=codes)
    return _page(confirm_form=form)


@password_bp.route("/two-factor/recovery-codes", methods=["POST"])
def recovery_codes():
    form = PasswordCheckForm(prefix="codes")
    if form.validate_on_submit():
        try:
            codes = totp.regenerate_recovery_codes(current_user.user, form.password.data,
                                                   staff_actor())
        except DomainError as exc:
            show_error(form, exc, "password")
        else:
            flash(_("New recovery codes are ready; the old ones no longer work."), "success")
            return render_template("backoffice/account/recovery_codes.html", codes=codes)
    return _page(codes_form=form)


@password_bp.route("/two-factor/disable", methods=["POST"])
def two_factor_disable():
    form = PasswordCheckForm(prefix="disable")
    if form.validate_on_submit():
        try:
            totp.disable(current_user.user, form.password.data, staff_actor())
        except DomainError as exc:
            show_error(form, exc, "password")
        else:
            flash(_("Two-factor sign-in is off."), "success")
            return redirect(url_for("account.two_factor"))
    return _page(disable_form=form)
