"""Forms both apps use: sign-in, password change, the empty form behind one-button POSTs."""
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from webcore.i18n import lazy_gettext as _l


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                 Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password.")),
                                                         Length(max=200)])
    next = HiddenField()


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"),
                                     validators=[DataRequired(_l("Enter your current password."))])
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=10, max=200, message=_l("Use 10 to 200 characters."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", message=_l("The two passwords are not the same."))])


class EmptyForm(FlaskForm):
    """Only the CSRF token: the form behind a one-button POST (sign out, mark done)."""


def show_errors(form, exc, default_field=None):
    """A service's FieldErrors, translated, each at the field it names (a name the form lacks
    becomes a flash); any other DomainError as ``show_error``. The rest of the input stays."""
    from flask import flash
    from flask_babel import gettext

    if not hasattr(exc, "errors"):
        show_error(form, exc, default_field)
        return
    for name, (message, params) in exc.errors.items():
        target = getattr(form, name, None)
        if target is None:
            flash(gettext(message, **params), "danger")
        else:
            target.errors = list(target.errors) + [gettext(message, **params)]


def show_error(form, exc, default_field=None):
    """Put a service's DomainError, translated, next to its field (or the default one)."""
    from flask import flash
    from flask_babel import gettext

    message = gettext(exc.message, **exc.params)
    field = getattr(form, exc.field or "", None) or getattr(form, default_field or "", None)
    if field is not None:
        field.errors = list(field.errors) + [message]
    else:
        flash(message, "danger")
