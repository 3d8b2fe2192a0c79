"""Portal forms."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length


class EmailRequestForm(FlaskForm):
    """Ask for a sign-in link or a password reset."""
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                 Length(max=254)])


class SetPasswordForm(FlaskForm):
    """Choose a password (invitation claim, reset)."""
    new_password = PasswordField(_l("New password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=10, max=200, message=_l("Use 10 to 200 characters."))])
    confirm = PasswordField(_l("Repeat the new password"), validators=[
        EqualTo("new_password", message=_l("The two passwords are not the same."))])
