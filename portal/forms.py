"""Portal forms."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, EmailField, PasswordField, SelectField,
                     StringField, TelField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length

from webcore.i18n import lazy_gettext as _l


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


COUNTRIES = [SelectChoice(code, label) for code, label in (
             ("CN", _l("China")), ("HK", _l("Hong Kong, China")), ("MO", _l("Macao, China")),
             ("TW", _l("Taiwan, China")), ("SG", _l("Singapore")), ("JP", _l("Japan")),
             ("KR", _l("South Korea")), ("US", _l("United States")), ("CA", _l("Canada")),
             ("GB", _l("United Kingdom")), ("DE", _l("Germany")), ("FR", _l("France")),
             ("IT", _l("Italy")), ("ES", _l("Spain")), ("AU", _l("Australia")))]

# Field -> (WTForms field, keyword arguments). The form is built from the fields the customer
# may change (auto or review policy), so nothing else can be posted into the card. Lengths and
# formats are checked by services.profile, the rules staff edits share.
_DETAIL_FIELDS = {
    "name": (StringField, {"label": _l("Full name")}),
    "alt_name": (StringField, {"label": _l("Other name (Chinese or English)")}),
    "mobile": (TelField, {"label": _l("Mobile")}),
    "phone": (TelField, {"label": _l("Other phone")}),
    "wechat": (StringField, {"label": _l("WeChat ID")}),
    "company": (StringField, {"label": _l("Company")}),
    "job_title": (StringField, {"label": _l("Job title")}),
    # Text, not a date picker: a lunar birthday can be a day no solar calendar has (02-30).
    "birthday": (StringField, {"label": _l("Birthday (YYYY-MM-DD)"),
                               "render_kw": {"inputmode": "numeric", "placeholder": "1990-08-15"}}),
    "birthday_lunar": (BooleanField, {"label": _l("This is a lunar-calendar date (农历)")}),
    "country": (SelectField, {"label": _l("Country or region"), "choices": COUNTRIES}),
    "province": (StringField, {"label": _l("Province")}),
    "city": (StringField, {"label": _l("City")}),
    "district": (StringField, {"label": _l("District")}),
    "address": (TextAreaField, {"label": _l("Street address")}),
    "postal_code": (StringField, {"label": _l("Postal code")}),
    "preferred_language": (SelectField, {"label": _l("Language for emails"),
                                         "choices": [SelectChoice("zh", "简体中文"),
                                                     SelectChoice("en", "English")]}),
}


def details_form(editable, data):
    """A "My details" form holding exactly the ``editable`` fields, filled from ``data``."""
    class DetailsForm(FlaskForm):
        pass

    for name in editable:
        field_class, kwargs = _DETAIL_FIELDS[name]
        setattr(DetailsForm, name, field_class(**kwargs))
    return DetailsForm(data=data)


def field_label(name):
    return _DETAIL_FIELDS[name][1]["label"]


class EmailChangeForm(FlaskForm):
    email = EmailField(_l("New email address"),
                       validators=[DataRequired(_l("Enter your email address.")),
                                   Length(max=254)])
    password = PasswordField(_l("Current password"),
                             validators=[DataRequired(_l("Enter your current password."))])


class RegisterForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(_l("Enter your full name.")),
                                                    Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(_l("Enter your email address.")),
                                                 Length(max=254)])
    new_password = PasswordField(_l("Password"), validators=[
        DataRequired(_l("Enter a new password.")),
        Length(min=10, max=200, message=_l("Use 10 to 200 characters."))])
    confirm = PasswordField(_l("Repeat the password"), validators=[
        EqualTo("new_password", message=_l("The two passwords are not the same."))])
