"""The data dictionary: every field of the card, built-in and custom, with its meaning and
rules; admins (dictionary.manage) add custom fields, change them and retire them."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice

from models import FIELD_KINDS, PORTAL_POLICIES, STAFF_ROLES, CustomField
from services import DomainError, dictionary, profile
from services.profile import FieldErrors
from webcore.forms import EmptyForm
from webcore.i18n import lazy_gettext as _l
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("dictionary", __name__, url_prefix="/dictionary")

KIND_LABELS = {"text": _l("Text"), "number": _l("Number"), "date": _l("Date"),
               "choice": _l("Single choice"), "multi_choice": _l("Multiple choice"),
               "bool": _l("Yes / no")}
SECTION_LABELS = {"card": _l("Card"), "preference": _l("Preference")}
POLICY_LABELS = {"hidden": _l("Not in the portal"),
                 "locked": _l("Shown in the portal, not editable"),
                 "review": _l("Customer edits, staff review first"),
                 "auto": _l("Customer edits, saved at once")}
ROLE_CHOICES = [("admin", _l("Admin")), ("manager", _l("Manager")), ("agent", _l("Agent")),
                ("marketer", _l("Marketer")), ("viewer", _l("Viewer"))]
assert set(KIND_LABELS) == set(FIELD_KINDS) and set(POLICY_LABELS) == set(PORTAL_POLICIES)
assert [code for code, _label in ROLE_CHOICES] == list(STAFF_ROLES)

# The built-in fields: key, label, kind, meaning, rules (lengths from services.profile).
BUILTINS = (
    ("name", _l("Full name"), "text", _l("The customer's one full name, as they write it."),
     _l("Required. Pinyin and initials are derived from it for search and sort.")),
    ("alt_name", _l("Other name"), "text", _l("An English or Chinese name besides the full "
                                               "name."), None),
    ("mobile", _l("Mobile"), "text", _l("The primary mobile number."),
     _l("A valid number for the card's country (China by default); spaces, +86, 0086 and "
        "full-width digits accepted; stored as +8613812345678.")),
    ("phone", _l("Other phone"), "text", _l("A landline or second number."),
     _l("Same rules as the mobile number.")),
    ("email", _l("Email"), "text", _l("The primary email address; also the portal sign-in."),
     _l("A valid address, stored in lower case. A customer changes it only through a "
        "confirmation link sent to the new address.")),
    ("wechat", _l("WeChat ID"), "text", _l("The customer's WeChat ID."),
     _l("6 to 20 letters, digits, - or _, starting with a letter.")),
    ("birthday", _l("Birthday"), "date", _l("Date of birth, for birthday greetings."),
     _l("YYYY-MM-DD, between 1900 and today. With \"lunar birthday\" the date is typed in "
        "the lunar calendar and stored as the solar date.")),
    ("birthday_lunar", _l("Lunar birthday"), "bool",
     _l("The customer celebrates on the lunar-calendar date."), None),
    ("company", _l("Company"), "text", _l("Where the customer works, or the company itself."),
     None),
    ("job_title", _l("Job title"), "text", _l("The customer's position."), None),
    ("industry", _l("Industry"), "text", _l("The customer's line of business (staff only)."),
     None),
    ("country", _l("Country or region"), "choice", _l("Country of the address and phone "
                                                        "numbers."),
     _l("Two-letter code; China (CN) by default.")),
    ("province", _l("Province"), "text", _l("Province, region or municipality."), None),
    ("city", _l("City"), "text", _l("City."), None),
    ("district", _l("District"), "text", _l("District or county."), None),
    ("address", _l("Street address"), "text", _l("Street, building and room."), None),
    ("postal_code", _l("Postal code"), "text", _l("Postal code of the address."),
     _l("6 digits in China; up to 16 characters elsewhere.")),
    ("preferred_language", _l("Language"), "choice", _l("Language of emails and the portal."),
     _l("Chinese or English.")),
    ("status", _l("Status"), "choice", _l("Where the customer stands with the business."),
     _l("Prospect, active, dormant or lost (staff only).")),
    ("tier", _l("Tier"), "choice", _l("The customer's tier (VIP, regular...)."),
     _l("Set by the tier rules; a manager may override it with a reason.")),
    ("owner", _l("Owner"), "choice", _l("The staff member responsible for the card."), None),
    ("source", _l("Source"), "text", _l("How the customer found the business."), None),
    ("id_number", _l("ID number"), "text", _l("The resident identity card number (身份证)."),
     _l("18 characters: 17 digits and a check digit (0-9 or X), holding a real date of "
        "birth; a 15-digit first-generation number is converted. Stored encrypted, shown "
        "masked (110***********1234); revealing it needs the permission to reveal sensitive "
        "fields and is recorded in the audit log.")),
)
MAX_LENGTH = {**profile.MAX_LENGTH, "industry": 64, "source": 32}
SENSITIVE_BUILTINS = {"id_number"}


def _choices(labels):
    return [SelectChoice(code, text) for code, text in labels.items()]


class FieldForm(FlaskForm):
    key = StringField(_l("Key"), description=_l("Lower-case letters, digits and _; fixed once "
                                                "saved (imports and exports use it)."))
    section = SelectField(_l("Section"), choices=lambda: _choices(SECTION_LABELS))
    label_zh = StringField(_l("Label (Chinese)"), render_kw={"maxlength": 100})
    label_en = StringField(_l("Label (English)"), render_kw={"maxlength": 100})
    kind = SelectField(_l("Kind"), choices=lambda: _choices(KIND_LABELS))
    choices = TextAreaField(_l("Choices"), render_kw={"rows": 4},
                            description=_l("One per line: value | 中文 | English."))
    required = BooleanField(_l("Required"))
    pattern = StringField(_l("Pattern"), render_kw={"maxlength": 255},
                          description=_l("A regular expression the whole value must match "
                                         "(text, number and date fields)."))
    help_zh = TextAreaField(_l("Help text (Chinese)"), render_kw={"rows": 2})
    help_en = TextAreaField(_l("Help text (English)"), render_kw={"rows": 2})
    sensitive = BooleanField(_l("Sensitive: store encrypted, show masked"))
    visible_roles = SelectMultipleField(_l("Roles that see it"),
                                        choices=lambda: _choices(dict(ROLE_CHOICES)),
                                        description=_l("None ticked: every role."))
    portal_policy = SelectField(_l("In the customer portal"),
                                choices=lambda: _choices(POLICY_LABELS))
    position = StringField(_l("Position"), default="100", render_kw={"inputmode": "numeric"},
                           description=_l("Fields are shown in this order, smallest first."))

    def definition(self):
        data = {name: getattr(self, name).data for name in (
            "key", "section", "label_zh", "label_en", "kind", "choices", "required", "pattern",
            "help_zh", "help_en", "sensitive", "visible_roles", "portal_policy", "position")}
        return data

    def show(self, errors):
        for name, (message, params) in errors.items():
            getattr(self, name).errors = list(getattr(self, name).errors) + [
                _(message, **params)]



def _field_or_404(key):
    field = None if "\x00" in key else CustomField.get_or_none(CustomField.key == key)
    if field is None:
        abort(404)
    return field


@bp.route("/")
def index():
    policies = profile.policies()
    builtins = [{"key": key, "label": label, "kind": kind, "meaning": meaning, "rules": rules,
                 "max": MAX_LENGTH.get(key), "policy": policies.get(key),
                 "sensitive": key in SENSITIVE_BUILTINS}
                for key, label, kind, meaning, rules in BUILTINS]
    page = Page(CustomField.select().order_by(CustomField.active.desc(), CustomField.section,
                                              CustomField.position, CustomField.id),
                per_page=100)
    return render_template("backoffice/dictionary/index.html", builtins=builtins, page=page,
                           counts=dictionary.value_counts(), kinds=KIND_LABELS,
                           sections=SECTION_LABELS, policies=POLICY_LABELS,
                           roles=dict(ROLE_CHOICES), form=EmptyForm())


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = FieldForm()
    if form.validate_on_submit():
        try:
            field = dictionary.create_field(form.definition(), staff_actor())
        except FieldErrors as exc:
            form.show(exc.errors)
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("The field %(label)s is added.", label=field.label_en
                    if str(get_locale()).startswith("en") else field.label_zh), "success")
            return redirect(url_for("dictionary.index"))
    return render_template("backoffice/dictionary/edit.html", form=form, field=None,
                           roles=ROLE_CHOICES)


@bp.route("/<key>/edit", methods=["GET", "POST"])
def edit(key):
    field = _field_or_404(key)
    form = FieldForm(obj=None if request.method == "POST" else field)
    if request.method == "GET":
        form.choices.data = dictionary.choices_text(field.choices)
        form.visible_roles.data = list(field.visible_roles or [])
    form.key.data = field.key
    if form.validate_on_submit():
        try:
            changed = dictionary.update_field(field, form.definition(), staff_actor())
        except FieldErrors as exc:
            form.show(exc.errors)
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("The field is saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("dictionary.index"))
    return render_template("backoffice/dictionary/edit.html", form=form, field=field,
                           roles=ROLE_CHOICES)


@bp.route("/<key>/active", methods=["POST"])
def active(key):
    """Deactivate or reactivate a field (its values stay)."""
    field = _field_or_404(key)
    if not EmptyForm().validate_on_submit():
        abort(400)
    make_active = request.form.get("active") == "1"
    dictionary.set_active(field, make_active, staff_actor())
    flash(_("The field is active again.") if make_active else
          _("The field is deactivated: hidden everywhere, its values are kept."), "success")
    return redirect(url_for("dictionary.index"))
