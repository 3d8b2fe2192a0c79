"""Segments (campaigns.manage): the list, a dynamic segment's criteria form with a live count
(htmx as the form changes; a "Count" button without JS), static lists built by card number or
from a card-list search, the members page, refreshing saved members, and delete."""
import datetime
from urllib.parse import parse_qsl, urlencode, urlsplit

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
from flask_babel import format_date, get_locale, ngettext
from flask_babel import gettext as _
from webcore.i18n import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from peewee import JOIN
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from models import Customer, Segment, Survey, Tier
from services import (
    DomainError,
    card_list,
    card_options,
    custom_fields,
    segment_criteria,
    segments,
    static_lists,
)
from services.profile import FieldErrors
from webcore.forms import EmptyForm, show_error
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("segments", __name__, url_prefix="/segments")

PER_PAGE = 50
KIND_LABELS = {"dynamic": _l("Dynamic (a saved filter)"), "static": _l("Static (a list)")}
NPS_LABELS = {"detractor": _l("Detractors (0-6)"), "passive": _l("Passives (7-8)"),
              "promoter": _l("Promoters (9-10)")}


class SegmentForm(FlaskForm):
    name = StringField(_l("Name"), render_kw={"maxlength": segments.NAME_MAX})
    description = TextAreaField(_l("Description (optional)"),
                                render_kw={"rows": 2, "maxlength": segments.DESCRIPTION_MAX})
    kind = SelectField(_l("Kind"), default="dynamic",
                       choices=lambda: [SelectChoice(k, t) for k, t in KIND_LABELS.items()])


class AddCardsForm(FlaskForm):
    ids = TextAreaField(_l("Card numbers, one a line"), render_kw={"rows": 4})


class AddFoundForm(FlaskForm):
    list_query = StringField(_l("Address of a card list search"),
                             render_kw={"maxlength": 4000,
                                        "placeholder": "/staff/cards/?city=上海&tag=VIP"})



def _tz():
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", segment_criteria.DEFAULT_TZ)


def _segment_or_404(public_id):
    segment = None if "\x00" in public_id else Segment.get_or_none(
        Segment.public_id == public_id)
    if segment is None:
        abort(404)
    return segment


def _criteria_form():
    """The criteria pairs of the submitted form (POST) or query string (GET)."""
    source = request.form if request.method == "POST" else request.args
    return segment_criteria.criteria_pairs(source.items(multi=True))


def _count_or_none(pairs):
    try:
        return segment_criteria.count(segment_criteria.clean_criteria(pairs), _tz())
    except FieldErrors:
        return None


def _editor(form, segment=None, pairs=(), errors=None, status=200):
    """The segment form with its live count (None: the criteria have errors, shown at their
    fields: a saved criterion gone stale is kept and marked rather than dropped)."""
    kind = segment.kind if segment else form.kind.data
    if kind not in segments.KINDS:
        kind = "dynamic"
    counted, choices = None, card_options.list_options(None)
    if kind == "dynamic" and not errors:
        try:
            counted = segment_criteria.count(segment_criteria.clean_criteria(pairs), _tz())
        except FieldErrors as exc:
            errors = {key: _(message, **params) for key, (message, params) in exc.errors.items()}
    months = [(m, format_date(datetime.date(2000, m, 1), "LLLL")) for m in range(1, 13)]
    return render_template(
        "backoffice/segments/form.html", form=form, segment=segment, kind=kind,
        current=dict(pairs), tags=[v for k, v in pairs if k == "tag"],
        fields={k[3:]: v for k, v in pairs if k.startswith(card_list.FIELD_PREFIX)},
        others=_unformed(pairs, choices["fields"]), shown=_shown, errors=errors or {},
        counted=counted, months=months, choices=choices,
        surveys=segment_criteria.nps_surveys(), nps_labels=NPS_LABELS, kinds=KIND_LABELS), status


def _unformed(pairs, fields):
    """The criteria no input of the form holds, as (query name, label, value): a custom field
    the list no longer offers, or a filter its kind of input cannot show. The form keeps them
    as ticked boxes, so that saving it unchanged keeps every criterion."""
    inputs = set()
    for f in fields:
        name = card_list.FIELD_PREFIX + f.key
        inputs |= {name + ".from", name + ".to"} if f.field_kind in ("number", "date") else {name}
    odd = [(k, v) for k, v in pairs if k.startswith(card_list.FIELD_PREFIX) and k not in inputs]
    labels = custom_fields.fields_by_key({k[3:].partition(".")[0] for k, _v in odd})
    return [(k, _field_label(labels, k), v) for k, v in odd]


def _errors_at_fields(form, exc):
    """Name and description errors on the form; the criteria's in a dict for the template."""
    criteria = {}
    for field, (message, params) in exc.errors.items():
        text = _(message, **params)
        if field in ("name", "description", "kind"):
            getattr(form, field).errors = list(getattr(form, field).errors) + [text]
        else:
            criteria[field] = text
    return criteria


def _save(form, segment=None):
    """Create or update from the posted form; the response (redirect or the form again)."""
    pairs = _criteria_form()
    if request.form.get("action") == "count":
        return _editor(form, segment, pairs)
    if not form.validate_on_submit():
        return _editor(form, segment, pairs, status=400)
    try:
        if segment is None:
            segment = segments.create_segment(staff_actor(), current_user.user, form.name.data,
                                              form.description.data, form.kind.data, pairs)
        else:
            segments.update_segment(segment, staff_actor(), form.name.data, form.description.data,
                                    pairs)
    except FieldErrors as exc:
        return _editor(form, segment, pairs, errors=_errors_at_fields(form, exc), status=400)
    flash(_("Segment saved."), "success")
    return redirect(url_for("segments.detail", public_id=segment.public_id))


@bp.route("/")
def index():
    rows = Segment.select().order_by(Segment.updated_at.desc(), Segment.id.desc())
    page = Page(rows, per_page=PER_PAGE)
    counts = segments.member_counts([s.id for s in page.items])
    return render_template("backoffice/segments/index.html", page=page, counts=counts,
                           kinds=KIND_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = SegmentForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in \
            segments.KINDS else "dynamic"
        return _editor(form, pairs=_criteria_form())
    return _save(form)


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id):
    segment = _segment_or_404(public_id)
    form = SegmentForm(obj=segment) if request.method == "GET" else SegmentForm()
    form.kind.data = segment.kind
    if request.method == "GET":
        return _editor(form, segment, segments.criteria_of(segment))
    return _save(form, segment)


@bp.route("/count")
def count():
    """The live count of the criteria in the query string (htmx swaps it into the form).
    Opened as a page of its own, it is the new-segment form with those criteria."""
    pairs = _criteria_form()
    if not request.headers.get("HX-Request"):
        return redirect(url_for("segments.new", kind="dynamic") + "&" + urlencode(pairs))
    return render_template("backoffice/segments/_count.html",
                           counted=_count_or_none(pairs))


@bp.route("/<public_id>")
def detail(public_id):
    return _detail(_segment_or_404(public_id))


def _detail(segment, add_form=None, found_form=None, status=200):
    """The members page (paginated, tier joined), with a static list's forms."""
    members = segments.members_query(segment, _tz())
    rows = (members.select(Customer, Tier).join(Tier, JOIN.LEFT_OUTER)
            .order_by(Customer.name_pinyin, Customer.id))
    page = Page(rows, per_page=PER_PAGE, count_query=members.select(Customer.id))
    saved = segments.member_counts([segment.id]).get(segment.id, 0)
    return render_template(
        "backoffice/segments/detail.html", segment=segment, page=page, saved=saved,
        criteria=_describe(segments.criteria_of(segment)), kinds=KIND_LABELS,
        add_form=add_form or AddCardsForm(), found_form=found_form or AddFoundForm(),
        button_form=EmptyForm()), status


def _describe(pairs):
    """The criteria in words: (label, value) for the members page."""
    labels = {
        "q": _("Search"), "tier": _("Tier"), "status": _("Status"), "owner": _("Owner"),
        "tag": _("Tag"), "province": _("Province"), "city": _("City"), "source": _("Source"),
        "industry": _("Industry"), "consent": _("Consent"), "consent_state": _("Consent state"),
        "purchase_from": _("Last purchase from"), "purchase_to": _("Last purchase to"),
        "contact_from": _("Last contact from"), "contact_to": _("Last contact to"),
        "purchase_within_days": _("Bought within the last (days)"),
        "purchase_before_days": _("Last purchase more than (days) ago"),
        "min_purchases": _("Purchases at least"), "max_purchases": _("Purchases at most"),
        "min_spend": _("Total spend at least"), "max_spend": _("Total spend at most"),
        "birthday_month": _("Birthday month"), "survey": _("Survey"), "nps": _("Answer")}
    fields = custom_fields.fields_by_key(
        {k[3:].partition(".")[0] for k, _v in pairs if k.startswith(card_list.FIELD_PREFIX)})
    described = []
    for key, value in pairs:
        described.append((labels.get(key) or _field_label(fields, key), _shown(key, value)))
    return described


def _field_label(fields, key):
    """A custom field's criterion in words: its label, "from" or "to" for a range."""
    name, _dot, end = key[len(card_list.FIELD_PREFIX):].partition(".")
    field = fields.get(name)
    lang = str(get_locale() or "zh")[:2]
    label = (getattr(field, f"label_{lang}", None) or field.label_zh) if field else name
    if end in card_list.RANGE_ENDS:
        return _("%(field)s from", field=label) if end == "from" else _("%(field)s to",
                                                                        field=label)
    return label


def _shown(key, value):
    """A criterion's value as staff know it: names rather than codes."""
    if key == "nps":
        return NPS_LABELS.get(value, value)
    if key == "birthday_month" and value.isdigit() and 1 <= int(value) <= 12:
        return format_date(datetime.date(2000, int(value), 1), "LLLL")
    lang = str(get_locale() or "zh")[:2]
    if key == "tier" and value != "none":
        tier = Tier.get_or_none(Tier.code == value)
        return (getattr(tier, f"name_{lang}", None) or tier.name_zh) if tier else value
    if key == "survey":
        survey = Survey.get_or_none(Survey.public_id == value)
        return (getattr(survey, f"title_{lang}", None) or survey.title_zh) if survey else value
    if key == "owner" and value != "none":
        return card_options.staff_name(value) or value
    return value


@bp.route("/<public_id>/add", methods=["POST"])
def add(public_id):
    segment = _segment_or_404(public_id)
    form = AddCardsForm()
    if form.validate_on_submit():
        try:
            added, missing = static_lists.add_cards(
                segment, static_lists.parse_ids(form.ids.data), staff_actor())
        except DomainError as exc:
            show_error(form, exc, "ids")
        else:
            flash(ngettext("%(num)s card added.", "%(num)s cards added.", added), "success")
            if missing:
                flash(_("Not found (or erased): %(ids)s", ids=", ".join(missing[:50])),
                      "warning")
            return redirect(url_for("segments.detail", public_id=public_id))
    return _detail(segment, add_form=form, status=400)


@bp.route("/<public_id>/add-found", methods=["POST"])
def add_found(public_id):
    segment = _segment_or_404(public_id)
    form = AddFoundForm()
    if form.validate_on_submit():
        text = (form.list_query.data or "").strip()
        query = urlsplit(text).query if "?" in text else text.lstrip("?")
        try:
            added = static_lists.add_found(segment, parse_qsl(query), staff_actor(),
                                           current_user.user, _tz())
        except DomainError as exc:
            show_error(form, exc, "list_query")
        else:
            flash(ngettext("%(num)s card added.", "%(num)s cards added.", added), "success")
            return redirect(url_for("segments.detail", public_id=public_id))
    return _detail(segment, found_form=form, status=400)


@bp.route("/<public_id>/remove", methods=["POST"])
def remove(public_id):
    segment = _segment_or_404(public_id)
    if EmptyForm().validate_on_submit():
        try:
            removed = static_lists.remove_cards(segment, [request.form.get("card", "")],
                                                staff_actor())
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(ngettext("%(num)s card removed.", "%(num)s cards removed.", removed),
                  "success")
        return redirect(url_for("segments.detail", public_id=public_id))
    abort(400)


@bp.route("/<public_id>/refresh", methods=["POST"])
def refresh(public_id):
    segment = _segment_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        saved = segments.refresh_members(segment, staff_actor(), _tz())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
    else:
        flash(ngettext("%(num)s member saved.", "%(num)s members saved.", saved), "success")
    return redirect(url_for("segments.detail", public_id=public_id))


@bp.route("/<public_id>/delete", methods=["POST"])
def delete(public_id):
    segment = _segment_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        segments.delete_segment(segment, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
        return redirect(url_for("segments.detail", public_id=public_id))
    flash(_("Segment deleted."), "success")
    return redirect(url_for("segments.index"))


# --- a card's static lists (loaded into the card page by htmx) -----------------------------------

def _card_or_404(public_id):
    customer = None if "\x00" in public_id else Customer.get_or_none(
        Customer.public_id == public_id, Customer.erased_at.is_null())
    if customer is None:
        abort(404)
    return customer


def _card_lists(customer, message=None, level="success", error=None, status=200):
    """The card's lists control: a part for htmx (always 200: htmx swaps in nothing else),
    else a page of its own (no JS)."""
    partial = bool(request.headers.get("HX-Request"))
    template = f"backoffice/segments/{'_' if partial else ''}card_lists.html"
    return render_template(template, customer=customer,
                           member_of=static_lists.lists_of(customer),
                           lists=static_lists.static_lists(), message=message, level=level,
                           error=error), 200 if partial else status


@bp.route("/card/<public_id>")
def card_lists(public_id):
    return _card_lists(_card_or_404(public_id))


def _change_card(public_id, change, done, unchanged):
    """Add the card to (or remove it from) the posted static list; the control again."""
    customer = _card_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        segment = static_lists.static_list(request.form.get("segment"))
        changed = change(segment, customer, staff_actor())
    except DomainError as exc:
        return _card_lists(customer, error=_(exc.message, **exc.params), status=400)
    message = (done if changed else unchanged) % {"list": segment.name}
    if not request.headers.get("HX-Request"):
        flash(message, "success" if changed else "info")
        return redirect(url_for("card.detail", public_id=public_id))
    return _card_lists(customer, message, "success" if changed else "info")


@bp.route("/card/<public_id>/add", methods=["POST"])
def card_add(public_id):
    return _change_card(public_id, static_lists.add_card, _("Added to the list %(list)s."),
                        _("Already in this list: %(list)s."))


@bp.route("/card/<public_id>/remove", methods=["POST"])
def card_remove(public_id):
    return _change_card(public_id, static_lists.remove_card,
                        _("Removed from the list %(list)s."), _("Not in this list: %(list)s."))
