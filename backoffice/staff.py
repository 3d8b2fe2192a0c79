"""Staff administration (admins): the staff list, invitations, one member's role, deactivation
and 2FA reset; the roles page that spells out the permission matrix; and the public page
behind an invitation link where the new member chooses a password."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from backoffice import ROLE_LABELS
from models import STAFF_ROLES
from services import DomainError, access, staff, totp
from services.links import LinkError
from services.profile import FieldErrors
from webcore.forms import show_error
from webcore.i18n import lazy_gettext as _l
from webcore.pagination import Page
from webcore.signin import client_ip, staff_actor

bp = Blueprint("staff", __name__, url_prefix="/team")
invite_bp = Blueprint("invite", __name__)



def _role_choices():
    return [SelectChoice(role, ROLE_LABELS[role]) for role in STAFF_ROLES]


class InviteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(_l("Enter the name.")),
                                               Length(max=staff.NAME_MAX)])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter the email address.")),
                                                Length(max=254)])
    role = SelectField(_l("Role"), choices=_role_choices, default="agent")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=_role_choices)


class AcceptInviteForm(FlaskForm):
    new_password = PasswordField(_l("Choose a password"), validators=[Length(max=200)])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("new_password", message=_l("The two passwords are not the same."))])



def _get_or_404(public_id):
    member = staff.get(public_id)
    if member is None:
        abort(404)
    return member


def _show(member, role_form=None):
    if role_form is None:
        role_form = RoleForm()
        role_form.role.data = member.role
    return render_template("backoffice/staff/detail.html", member=member, role_form=role_form,
                           is_self=member.id == current_user.user.id,
                           invited=staff.is_invited(member),
                           two_factor=totp.is_enabled(member))


@bp.route("/")
def index():
    rows, count = staff.staff_query()
    page = Page(rows, per_page=50, count_query=count)
    return render_template("backoffice/staff/index.html", page=page,
                           is_invited=staff.is_invited, two_factor=totp.is_enabled)


@bp.route("/roles")
def roles():
    return render_template("backoffice/staff/roles.html", roles=STAFF_ROLES,
                           permissions=[(p, _(text)) for p, text in access.PERMISSIONS.items()],
                           matrix=access.MATRIX)


@bp.route("/invite", methods=["GET", "POST"])
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        try:
            member = staff.invite(form.name.data, form.email.data, form.role.data, staff_actor())
        except FieldErrors as exc:
            for field, (message, params) in exc.errors.items():
                show_error(form, DomainError(message, field, **params))
        except DomainError as exc:
            show_error(form, exc, "email")
        else:
            flash(_("Invitation sent to %(email)s.", email=member.email), "success")
            return redirect(url_for("staff.detail", public_id=member.public_id))
    return render_template("backoffice/staff/invite.html", form=form)


@bp.route("/<public_id>")
def detail(public_id):
    return _show(_get_or_404(public_id))


@bp.route("/<public_id>/role", methods=["POST"])
def set_role(public_id):
    member = _get_or_404(public_id)
    form = RoleForm()
    if form.validate_on_submit():
        try:
            staff.set_role(member, form.role.data, staff_actor())
        except DomainError as exc:
            show_error(form, exc, "role")
        else:
            flash(_("%(name)s is now: %(role)s.", name=member.name,
                    role=ROLE_LABELS[member.role]), "success")
            return redirect(url_for("staff.detail", public_id=public_id))
    return _show(member, role_form=form)


def _act(public_id, action, done_message):
    """A one-button action on one member; a refusal shows as a message on their page."""
    member = _get_or_404(public_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    try:
        action(member, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
    else:
        flash(done_message % {"name": member.name}, "success")
    return redirect(url_for("staff.detail", public_id=public_id))


@bp.route("/<public_id>/deactivate", methods=["POST"])
def deactivate(public_id):
    return _act(public_id, staff.deactivate,
                _("%(name)s is deactivated and signed out everywhere."))


@bp.route("/<public_id>/reactivate", methods=["POST"])
def reactivate(public_id):
    return _act(public_id, staff.reactivate, _("%(name)s can sign in again."))


@bp.route("/<public_id>/reset-two-factor", methods=["POST"])
def reset_two_factor(public_id):
    return _act(public_id, staff.reset_two_factor,
                _("Two-factor sign-in of %(name)s is reset; they set it up again at sign-in."))


@bp.route("/<public_id>/resend-invite", methods=["POST"])
def resend_invite(public_id):
    return _act(public_id, staff.resend_invite, _("A new invitation is on its way to %(name)s."))


@invite_bp.route("/invite/<token>", methods=["GET", "POST"])
def accept(token):
    """Behind the emailed link: GET only shows the form (link scanners), POST uses the link."""
    try:
        member = staff.invited_staff(token)
    except LinkError as exc:
        return _link_error(exc)
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            staff.accept_invite(token, form.new_password.data, client_ip(),
                                request.user_agent.string)
        except LinkError as exc:
            return _link_error(exc)
        except DomainError as exc:
            show_error(form, exc, "new_password")
        else:
            flash(_("Your password is set. Sign in with it now."), "success")
            return redirect(url_for("auth.login"))
    return render_template("backoffice/auth/invite.html", form=form, member=member)


def _link_error(exc):
    return (render_template("backoffice/auth/link_error.html", message=_(exc.message)),
            400 if exc.reason == "invalid" else 410)
