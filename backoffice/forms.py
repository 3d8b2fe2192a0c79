"""Back-office forms for the card: its edit form and the record forms. Formats and lengths are
checked by the services (services.profile, services.records), the rules the portal shares; these
forms only parse what the browser sends."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    EmailField,
    HiddenField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional

from webcore.i18n import lazy_gettext as _l
from webcore.labels import LABELS

_DATETIME = {"format": ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
             "validators": [InputRequired(_l("Enter the date and time."))]}
_TEXTAREA = {"rows": 3}


def choices(group, codes=None, blank=False):
    """Select choices of the codes in a label group (webcore.labels), optionally a blank first."""
    labels = LABELS[group]
    items = [SelectChoice(code, labels.get(code, code)) for code in (codes or labels)]
    return ([SelectChoice("", "—")] if blank else []) + items


def keep_current(field, value):
    """A code stored earlier (free text from an import) stays selectable on its record."""
    if value and value not in {c[0] for c in field.iter_choices()}:
        field.choices = list(field.choices) + [SelectChoice(value, value)]


class CardEditForm(FlaskForm):
    version = HiddenField()
    name = StringField(_l("Full name"))
    alt_name = StringField(_l("Other name (Chinese or English)"))
    kind = SelectField(_l("Kind"), choices=lambda: choices("customer_kind"))
    gender = SelectField(_l("Gender"), choices=lambda: choices("gender", blank=True))
    status = SelectField(_l("Status"), choices=lambda: choices("status"))
    owner = SelectField(_l("Owner"))  # choices: "" and the active staff, set by the view
    source = StringField(_l("Source"))
    industry = StringField(_l("Industry"))
    company_size = StringField(_l("Company size"))
    tags = StringField(_l("Tags"), description=_l("Separate tags with commas."))
    email = EmailField(_l("Email"))
    mobile = TelField(_l("Mobile"))
    phone = TelField(_l("Other phone"))
    wechat = StringField(_l("WeChat ID"))
    company = StringField(_l("Company"))
    job_title = StringField(_l("Job title"))
    # Text, not a date picker: a lunar birthday can be a day no solar calendar has (02-30).
    birthday = StringField(_l("Birthday (YYYY-MM-DD)"),
                           render_kw={"inputmode": "numeric", "placeholder": "1990-08-15"})
    birthday_lunar = BooleanField(_l("This is a lunar-calendar date (农历)"))
    country = StringField(_l("Country or region (code)"), render_kw={"maxlength": 2,
                                                                     "placeholder": "CN"})
    province = StringField(_l("Province"))
    city = StringField(_l("City"))
    district = StringField(_l("District"))
    address = TextAreaField(_l("Street address"), render_kw={"rows": 2})
    postal_code = StringField(_l("Postal code"))
    preferred_language = SelectField(_l("Language for emails"), choices=[
        SelectChoice("", "—"), SelectChoice("zh", "简体中文"), SelectChoice("en", "English")])
    notes = TextAreaField(_l("Notes"), render_kw={"rows": 4})
    special_requirements = TextAreaField(_l("Special requirements"), render_kw={"rows": 3})


class CardNewForm(FlaskForm):
    """"New card": the edit form's own field definitions (one label, one rule) of what a
    walk-in or a phone call gives, and the choice to create the card although its contacts
    are already on another."""
    CARD_FIELDS = ("name", "mobile", "email", "wechat", "gender", "company", "job_title",
                   "province", "city", "source", "industry", "owner", "status", "notes",
                   "special_requirements")
    name, mobile, email, wechat = (CardEditForm.name, CardEditForm.mobile, CardEditForm.email,
                                   CardEditForm.wechat)
    gender, company, job_title = CardEditForm.gender, CardEditForm.company, CardEditForm.job_title
    province, city, source = CardEditForm.province, CardEditForm.city, CardEditForm.source
    industry, owner, status = CardEditForm.industry, CardEditForm.owner, CardEditForm.status
    notes, special_requirements = CardEditForm.notes, CardEditForm.special_requirements
    create_anyway = BooleanField(_l("Create a new card anyway"))


class PurchaseForm(FlaskForm):
    occurred_at = DateTimeLocalField(_l("Date"), **_DATETIME)
    product = StringField(_l("Product"))
    sku = StringField(_l("SKU"))
    quantity = StringField(_l("Quantity"), default="1", render_kw={"inputmode": "decimal"})
    unit_price = StringField(_l("Unit price"), render_kw={"inputmode": "decimal"})
    amount = StringField(_l("Amount"), description=_l("Empty: quantity × unit price."),
                         render_kw={"inputmode": "decimal"})
    currency = StringField(_l("Currency"), default="CNY", render_kw={"maxlength": 3})
    payment_method = SelectField(_l("Payment"), choices=lambda: choices("payment", blank=True))
    order_status = SelectField(_l("Order status"), choices=lambda: choices("order_status"))
    channel = SelectField(_l("Channel"), choices=lambda: choices("sales_channel", blank=True))


class ServiceForm(FlaskForm):
    occurred_at = DateTimeLocalField(_l("Date"), **_DATETIME)
    service_type = SelectField(_l("Type"), choices=lambda: choices("service_type"))
    staff = SelectField(_l("Staff"))  # set by the view
    description = TextAreaField(_l("Description"), render_kw=_TEXTAREA)
    result = TextAreaField(_l("Result"), render_kw=_TEXTAREA)
    satisfaction = SelectField(_l("Satisfaction (1-5)"), choices=[SelectChoice("", "—")] + [
        SelectChoice(str(n), str(n)) for n in range(1, 6)])


class InteractionForm(FlaskForm):
    occurred_at = DateTimeLocalField(_l("Time"), **_DATETIME)
    channel = SelectField(_l("Channel"), choices=lambda: choices("channel"))
    direction = SelectField(_l("Direction"), choices=lambda: choices("direction"))
    staff = SelectField(_l("Staff"))  # set by the view
    subject = StringField(_l("Subject"))
    request = TextAreaField(_l("Customer's request"), render_kw=_TEXTAREA)
    resolution = TextAreaField(_l("Resolution"), render_kw=_TEXTAREA)
    outcome = SelectField(_l("Outcome"), choices=lambda: choices("outcome", blank=True))
    next_follow_up = DateField(_l("Next follow-up"), validators=[Optional()],
                               description=_l("A date here creates a follow-up task."))
    visible_to_customer = BooleanField(_l("Visible to the customer in the portal"))


class DeleteRecordForm(FlaskForm):
    reason = TextAreaField(_l("Why is this record deleted?"),
                           validators=[Length(max=500)], render_kw={"rows": 2})


RECORD_FORMS = {"purchase": PurchaseForm, "service": ServiceForm,
                "interaction": InteractionForm}
