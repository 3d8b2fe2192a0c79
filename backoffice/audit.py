"""The audit trail, read only: a card's own history (cards.view) and the global log with its
filters and the chain check (audit.view). No route edits or deletes an event."""
import datetime
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from webcore.i18n import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from models import Customer, StaffUser
from services import audit_log, cards
from webcore.forms import EmptyForm
from webcore.pagination import Page

bp = Blueprint("audit", __name__)

PER_PAGE = 50
ACTOR_LABELS = {"staff": _l("Staff"), "customer": _l("Customer"), "system": _l("System"),
                "link": _l("Emailed link")}
ACTION_LABELS = {
    "customer.create": _l("Card created"), "customer.update": _l("Details changed"),
    "customer.fields": _l("Card fields changed"),
    "customer.preferences": _l("Preferences changed"),
    "customer.confirm_details": _l("Details confirmed by the customer"),
    "change_request.submit": _l("Change sent for review"),
    "change_request.accept": _l("Change accepted"), "change_request.reject": _l("Change rejected"),
    "sensitive.reveal": _l("Sensitive value revealed"),
    "dictionary.create": _l("Custom field added"), "dictionary.update": _l("Custom field changed"),
    "dictionary.deactivate": _l("Custom field deactivated"),
    "dictionary.activate": _l("Custom field reactivated"),
    "feedback.create": _l("Feedback sent"), "feedback.assign": _l("Feedback assigned"),
    "feedback.status": _l("Feedback status changed"), "feedback.reply": _l("Feedback answered"),
    "portal.invite": _l("Invited to the portal"), "email_change.request": _l("Email change asked"),
    "data.export": _l("Data downloaded"), "data.export_prepared": _l("Data download prepared"),
    "data.erasure_link_sent": _l("Erasure confirmation sent"),
    "data.erasure_confirmed": _l("Erasure confirmed"),
    "consent.optin_sent": _l("Opt-in confirmation sent"),
    "staff.create": _l("Staff account created"), "staff.role": _l("Staff role changed"),
    "staff.deactivate": _l("Staff deactivated"), "staff.reactivate": _l("Staff reactivated"),
    "tier.override": _l("Tier overridden"), "tier.override_remove": _l("Tier override removed"),
    "purchase.create": _l("Purchase added"), "purchase.update": _l("Purchase changed"),
    "purchase.delete": _l("Purchase deleted"), "interaction.create": _l("Interaction logged"),
    "service.create": _l("Service record added"), "task.create": _l("Follow-up created"),
    "task.done": _l("Follow-up done"), "demo.seed": _l("Demo data loaded"),
    "campaign.create": _l("Campaign created"), "campaign.update": _l("Campaign changed"),
    "campaign.delete": _l("Campaign deleted"), "campaign.test": _l("Campaign test sent"),
    "campaign.schedule": _l("Campaign scheduled"),
    "campaign.unschedule": _l("Campaign schedule cancelled"),
    "campaign.schedule_failed": _l("Scheduled campaign could not start"),
    "campaign.start": _l("Campaign sending started"), "campaign.pause": _l("Campaign paused"),
    "campaign.resume": _l("Campaign resumed"), "campaign.cancel": _l("Campaign cancelled"),
    "campaign.finish": _l("Campaign sent"),
    "survey.create": _l("Survey created"), "survey.update": _l("Survey changed"),
    "survey.status": _l("Survey status changed"), "survey.invite": _l("Survey invitation sent"),
    "survey.remind": _l("Survey reminder sent"),
    "survey.remind_skipped": _l("Survey reminder skipped"),
}
ENTITY_LABELS = {"customer": _l("Card"), "change_request": _l("Change request"),
                 "custom_field": _l("Custom field"), "feedback": _l("Feedback"),
                 "staff": _l("Staff account"), "portal_account": _l("Portal account"),
                 "data_request": _l("Data request"), "tier": _l("Tier"), "task": _l("Follow-up"),
                 "purchase": _l("Purchase"), "interaction": _l("Interaction"),
                 "campaign": _l("Campaign"), "survey": _l("Survey"),
                 "survey_invite": _l("Survey invitation"), "segment": _l("Segment")}

# Labels of the change keys that name a member of staff (audit_log.STAFF_KEYS).
STAFF_KEY_LABELS = {"staff": _l("Staff member"), "owner": _l("Owner"),
                    "assignee": _l("Assigned to")}


class LogFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form

    actor = SelectField(_l("Who"), default="", validators=[Optional()])
    staff = SelectField(_l("Staff member"), default="", validators=[Optional()])
    action = StringField(_l("Action"), validators=[Optional()])
    entity = SelectField(_l("About"), default="", validators=[Optional()])
    card = StringField(_l("Card id"), validators=[Optional()])
    date_from = DateField(_l("Date from"), validators=[Optional()])
    date_to = DateField(_l("Date to"), validators=[Optional()])


def _choices(labels, anything):
    return [SelectChoice("", anything)] + [SelectChoice(k, v) for k, v in labels.items()]


def _filter_form():
    form = LogFilterForm(request.args)
    form.actor.choices = _choices(ACTOR_LABELS, _("Anyone"))
    form.entity.choices = _choices(ENTITY_LABELS, _("Anything"))
    staff = StaffUser.select(StaffUser.public_id, StaffUser.name).order_by(StaffUser.name)
    form.staff.choices = _choices({s.public_id: s.name for s in staff}, _("Any staff member"))
    form.validate()
    return form


def _utc(day, zone):
    local = datetime.datetime.combine(day, datetime.time(), tzinfo=zone)
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


def _filters(form):
    """The service's filters from a validated form; a bad value filters by nothing found."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    filters = audit_log.Filters(actor_kind=form.actor.data or None,
                                action=(form.action.data or "").strip()[:64] or None,
                                entity=form.entity.data or None)
    if form.staff.data:
        staff = StaffUser.get_or_none(StaffUser.public_id == form.staff.data)
        filters.staff_id = staff.id if staff else -1
    if form.card.data:
        public_id = form.card.data.strip().rsplit("/", 1)[-1]
        card = None if "\x00" in public_id else Customer.get_or_none(
            Customer.public_id == public_id)
        filters.customer_id = card.id if card else -1
    if form.date_from.data and not form.date_from.errors:
        filters.date_from = _utc(form.date_from.data, zone)
    if form.date_to.data and not form.date_to.errors:
        filters.date_to = _utc(form.date_to.data + datetime.timedelta(days=1), zone)
    return filters


def _render(template, page, **context):
    return render_template(template, page=page, changes=audit_log.changes,
                           fields=audit_log.field_labels(page.items), actors=ACTOR_LABELS,
                           actions=ACTION_LABELS, entities=ENTITY_LABELS,
                           staff_keys=audit_log.STAFF_KEYS, staff_key_labels=STAFF_KEY_LABELS,
                           staff_names=audit_log.staff_names(page.items), **context)


@bp.route("/cards/<public_id>/history")
def card_history(public_id):
    customer = None if "\x00" in public_id else cards.get_card(public_id)
    if customer is None:
        abort(404)
    rows, count = audit_log.card_history(customer)
    return _render("backoffice/audit/card_history.html", Page(rows, PER_PAGE, count_query=count),
                   customer=customer)


@bp.route("/audit/")
def index():
    form = _filter_form()
    rows, count = audit_log.log(_filters(form))
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return _render("backoffice/audit/index.html", Page(rows, PER_PAGE, count_query=count),
                   form=form, args=args, verify_form=EmptyForm())


@bp.route("/audit/verify", methods=["POST"])
def verify():
    """Walk the whole hash chain and say whether it is intact."""
    if not EmptyForm().validate_on_submit():
        abort(400)
    ok, broken, total = audit_log.verify()
    if ok:
        flash(_("The audit chain is intact: %(num)s events checked.", num=total), "success")
    else:
        flash(_("The audit chain is broken at event #%(id)s: it or an event before it was "
                "changed outside the application.", id=broken), "danger")
    return redirect(url_for("audit.index"))
