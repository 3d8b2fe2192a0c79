"""Tiers (managers): the list with each tier's rules and benefits, add / edit / delete, the
"recalculate now" button (a background job), and a card's manual override. Also the words for a
tier change's reason, in the reader's language (``tier_reason`` in templates)."""
import datetime
from decimal import Decimal, InvalidOperation
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
from flask_babel import ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from models import Customer, Tier
from services import N_, DomainError, runtime, tiers
from webcore import formatting
from webcore.forms import EmptyForm, show_error
from webcore.i18n import lazy_gettext as _l
from webcore.signin import staff_actor
from webcore.urls import safe_next

bp = Blueprint("tiers", __name__, url_prefix="/tiers")


class TierForm(FlaskForm):
    code = StringField(_l("Code"), render_kw={"maxlength": 32})
    name_zh = StringField(_l("Name in Chinese"), render_kw={"maxlength": tiers.NAME_MAX})
    name_en = StringField(_l("Name in English"), render_kw={"maxlength": tiers.NAME_MAX})
    rank = StringField(_l("Rank (higher is better)"), render_kw={"inputmode": "numeric"})
    colour = StringField(_l("Colour"), default="#6c757d", render_kw={"type": "color"})
    min_spend = StringField(_l("Minimum spend (¥)"), render_kw={"inputmode": "decimal"})
    min_orders = StringField(_l("Minimum number of purchases"), render_kw={"inputmode": "numeric"})
    window_days = StringField(_l("Counted over the last (days)"), default="365",
                              render_kw={"inputmode": "numeric"})
    min_tenure_days = StringField(_l("Customer for at least (days)"),
                                  render_kw={"inputmode": "numeric"})
    benefits = TextAreaField(_l("Benefits"), render_kw={"rows": 4,
                                                        "maxlength": tiers.BENEFITS_MAX})
    is_default = BooleanField(_l("Default tier (cards that earn no other tier, prospects)"))


class OverrideForm(FlaskForm):
    tier = SelectField(_l("Tier"))
    reason = StringField(_l("Reason"), render_kw={"maxlength": tiers.REASON_MAX})
    until = StringField(_l("Until (optional)"), render_kw={"type": "date"})



def _tier_or_404(code):
    tier = None if "\x00" in code else Tier.get_or_none(Tier.code == code)
    if tier is None:
        abort(404)
    return tier


def _card_or_404(public_id):
    card = None if "\x00" in public_id else Customer.get_or_none(
        Customer.public_id == public_id, Customer.erased_at.is_null())
    if card is None:
        abort(404)
    return card


def _tier_choices():
    return [SelectChoice(t.code, _tier_name(t)) for t in tiers.ranked()]


@bp.app_template_global()
def tier_override_form(customer):
    """The override form for the card's tier panel, the card's tier chosen."""
    form = OverrideForm(formdata=None)
    form.tier.choices = _tier_choices()
    if customer.tier_id:
        form.tier.data = Tier.get_by_id(customer.tier_id).code
    return form


def _tier_name(tier):
    lang = _lang()
    return getattr(tier, f"name_{lang}", None) or tier.name_zh


def _lang():
    from flask_babel import get_locale
    return str(get_locale() or "zh")[:2]


# --- the reason in words ----------------------------------------------------------------------

def _money(text):
    try:
        amount = Decimal(str(text))
    except (InvalidOperation, ValueError):
        return str(text)
    return formatting.money(amount, current_app.config["CURRENCY"])


def _rule_words(reason):
    days = reason.get("window", 365)
    parts = []
    if "min_spend" in reason:
        parts.append(_("spent %(spend)s in the last %(days)s days ≥ %(min)s",
                       spend=_money(reason.get("spend", 0)), days=days,
                       min=_money(reason["min_spend"])))
    if "min_orders" in reason:
        orders = int(reason.get("orders", 0))
        parts.append(ngettext("%(num)s purchase in the last %(days)s days ≥ %(min)s",
                              "%(num)s purchases in the last %(days)s days ≥ %(min)s",
                              orders, days=days, min=reason["min_orders"]))
    if "min_tenure" in reason:
        parts.append(_("a customer for at least %(days)s days", days=reason["min_tenure"]))
    return _("; ").join(parts)


def _fallback_words(reason, default):
    days, orders = reason.get("window", 365), int(reason.get("orders", 0))
    if orders == 0:
        return (_("no purchases in the last %(days)s days: the default tier", days=days)
                if default else _("no purchases in the last %(days)s days: no tier", days=days))
    figures = ngettext("%(spend)s from %(num)s purchase in the last %(days)s days",
                       "%(spend)s from %(num)s purchases in the last %(days)s days",
                       orders, spend=_money(reason.get("spend", 0)), days=days)
    return (_("no higher tier's rules hold (%(figures)s): the default tier", figures=figures)
            if default else _("no tier's rules hold (%(figures)s)", figures=figures))


@bp.app_template_global()
def tier_reason(change):
    """A TierChange's reason in words, in the page's language."""
    reason = tiers.parse_reason(change.reason)
    code = reason.get("code")
    if code == "rule":
        words = _rule_words(reason)
    elif code in ("default", "none"):
        words = _fallback_words(reason, code == "default")
    elif code == "override":
        words = _("set by hand: %(note)s", note=reason.get("note", ""))
        if reason.get("until"):
            until = datetime.datetime.fromisoformat(reason["until"])
            words += " " + _("(until %(date)s)", date=formatting.date(until))
    else:
        words = reason.get("note", "")
    if change.source == "expiry":
        return _("The override ended; %(reason)s", reason=words)
    if change.source == "removed":
        return _("The override was removed; %(reason)s", reason=words)
    return words


# --- the tier list and its forms --------------------------------------------------------------

@bp.route("/")
def index():
    return render_template("backoffice/tiers/index.html", tiers=tiers.ranked(),
                           counts=tiers.card_counts(),
                           last=tiers.last_recalculation(), form=EmptyForm())


def _values(form):
    return {name: getattr(form, name).data for name in tiers.TIER_FIELDS}


def _render_form(form, tier=None, status=200):
    return render_template("backoffice/tiers/form.html", form=form, tier=tier), status


@bp.route("/new", methods=["GET", "POST"])
def create():
    form = TierForm()
    if form.validate_on_submit():
        try:
            tier = tiers.create_tier(staff_actor(), _values(form))
        except DomainError as exc:
            show_error(form, exc, "code")
        else:
            flash(_("Tier %(name)s added. Recalculate to apply its rules.",
                    name=_tier_name(tier)), "success")
            return redirect(url_for("tiers.index"))
        return _render_form(form, status=400)
    return _render_form(form, status=400 if request.method == "POST" else 200)


@bp.route("/<code>/edit", methods=["GET", "POST"])
def edit(code):
    tier = _tier_or_404(code)
    form = TierForm(obj=tier) if request.method == "GET" else TierForm()
    if form.validate_on_submit():
        try:
            tiers.update_tier(tier, staff_actor(), _values(form))
        except DomainError as exc:
            show_error(form, exc, "code")
        else:
            flash(_("Tier %(name)s saved. Recalculate to apply its rules.",
                    name=_tier_name(tier)), "success")
            return redirect(url_for("tiers.index"))
        return _render_form(form, tier, 400)
    return _render_form(form, tier, 400 if request.method == "POST" else 200)


@bp.route("/<code>/delete", methods=["POST"])
def delete(code):
    tier = _tier_or_404(code)
    if EmptyForm().validate_on_submit():
        try:
            tiers.delete_tier(tier, staff_actor())
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("Tier %(name)s deleted.", name=_tier_name(tier)), "success")
    return redirect(url_for("tiers.index"))


@bp.route("/recalculate", methods=["POST"])
def recalculate():
    if EmptyForm().validate_on_submit():
        tiers.request_recalculation(staff_actor())
        flash(_("Recalculation started. Its result shows below when it is done."), "info")
    return redirect(url_for("tiers.index"))


# --- a card's override ------------------------------------------------------------------------

def _until(text):
    """The end of the chosen local day, as naive UTC (None if empty or not a date)."""
    try:
        day = datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None
    zone = ZoneInfo(runtime.get("BABEL_DEFAULT_TIMEZONE"))
    local = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(),
                                      tzinfo=zone)
    return local.astimezone(datetime.UTC).replace(tzinfo=None)


def _back_to_card(card):
    return redirect(safe_next(request.form.get("next"))
                    or url_for("card.detail", public_id=card.public_id))


@bp.route("/card/<public_id>/override", methods=["GET", "POST"])
def override(public_id):
    card = _card_or_404(public_id)
    if request.method == "GET":
        form = tier_override_form(card)
        return render_template("backoffice/tiers/override.html", form=form, customer=card)
    form = OverrideForm()
    form.tier.choices = _tier_choices()
    if form.validate_on_submit():
        until_text = (form.until.data or "").strip()
        until = _until(until_text)
        try:
            if until_text and until is None:
                raise DomainError(N_("Enter a date, or leave it empty."), "until")
            tiers.set_override(card, staff_actor(), Tier.get_or_none(Tier.code == form.tier.data),
                               form.reason.data, until)
        except DomainError as exc:
            show_error(form, exc, "reason")
        else:
            flash(_("Tier set by hand."), "success")
            return _back_to_card(card)
    return render_template("backoffice/tiers/override.html", form=form, customer=card), 400


@bp.route("/card/<public_id>/override/remove", methods=["POST"])
def remove_override(public_id):
    card = _card_or_404(public_id)
    if EmptyForm().validate_on_submit():
        try:
            tiers.remove_override(card, staff_actor())
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("Override removed: the tier rules apply again."), "success")
    return _back_to_card(card)
