"""One customer card: the page, its edits and its records."""
import datetime
from typing import NamedTuple

from babel import dates
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, get_timezone
from flask_login import current_user
from markupsafe import Markup
from werkzeug.routing import BuildError
from wtforms.fields.choices import SelectChoice

from backoffice.forms import RECORD_FORMS, CardEditForm, DeleteRecordForm, keep_current
from backoffice.tiers import OverrideForm
from models import StaffUser
from services import DomainError, card_edit, cards, customer_access, profile, records
from services.access import can
from webcore import formatting
from webcore.forms import EmptyForm, show_error, show_errors
from webcore.html import escape_all
from webcore.i18n import gettext as _
from webcore.labels import translated
from webcore.signin import staff_actor
from webcore.urls import fast_url_for

bp = Blueprint("card", __name__, url_prefix="/cards")

UTC = datetime.UTC


def _card_or_404(public_id):
    customer = None if "\x00" in public_id else cards.get_card(public_id)
    if customer is None:
        abort(404)
    return customer



def staff_choices(blank):
    """The owner and staff selects: ``blank`` first, then every active member of staff."""
    return [SelectChoice("", blank)] + [SelectChoice(s.public_id, s.name)
                                        for s in cards.active_staff()]


def _zone():
    return dates.get_timezone(str(get_timezone()))


def to_utc(local):
    """A naive local time (the business's zone) as the naive UTC the database stores."""
    zone = _zone()
    aware = zone.localize(local) if hasattr(zone, "localize") else local.replace(tzinfo=zone)
    return aware.astimezone(UTC).replace(tzinfo=None)


def to_local(utc):
    return utc.replace(tzinfo=UTC).astimezone(_zone()).replace(tzinfo=None, second=0,
                                                                 microsecond=0)


CARD_LABELS = ("status", "contact", "customer_kind", "gender", "record_kind", "channel",
               "direction", "outcome", "payment", "sales_channel", "order_status",
               "service_type")


@bp.route("/<public_id>")
def detail(public_id):
    customer = _card_or_404(public_id)
    extras, detail = _page_extras(customer), cards.card_detail(customer, current_user.role)
    edit_label = _("Edit") if can(current_user.role, "cards.edit") else None
    extras["timeline_html"] = timeline_html(
        detail["timeline"], extras["labels"],
        fast_url_for("card.detail", public_id=customer.public_id), edit_label)
    return render_template("backoffice/card/detail.html", **extras, **detail)


def _timeline_texts(kind, r, when, labels, fmt):
    """One record's texts on the timeline: when, kind, meta line, public id, title, detail,
    note (not escaped yet)."""
    if kind == "purchase":
        status = "" if r.order_status == "completed" else \
            " · " + labels["order_status"][r.order_status]
        return (when, labels["record_kind"][kind],
                labels["sales_channel"][r.channel] if r.channel else "", r.public_id,
                r.product or "", f" × {fmt.number(r.quantity)} · "
                f"{fmt.money(r.amount, r.currency)}{status}", "")
    if kind == "interaction":
        return (when, labels["record_kind"][kind],
                f"{labels['channel'][r.channel]} · {labels['direction'][r.direction]}"
                f" · {r.staff_name or ''}", r.public_id, r.subject or "",
                f" — {r.request}" if r.request else "", r.resolution or "")
    rating = f" · {r.satisfaction}/5" if r.satisfaction else ""
    return (when, labels["record_kind"][kind],
            f"{labels['service_type'][r.service_type]} · {r.staff_name or ''}", r.public_id,
            "", (r.description or "") + rating, "")


def timeline_html(timeline, labels, card_url, edit_label=None):
    """The card's timeline (``cards.card_detail``: (kind, row) newest first) as list items,
    formatted and escaped here in one pass: ``<li class="timeline-item timeline-KIND">`` with
    when · kind, the meta line, the edit link (none if ``edit_label`` is None), title and
    detail, note.

    The page's heaviest loop: in the template each of 150 records cost a dozen filter calls,
    escapes and attribute lookups, more than the rest of the card."""
    fmt = formatting.Formatter()
    texts = []
    for kind, r in timeline:
        texts.extend(_timeline_texts(kind, r, fmt.datetime_(r.occurred_at, "short"),
                                     labels, fmt))
    escaped = escape_all(texts)
    edit = None if edit_label is None else tuple(escape_all((card_url, edit_label)))
    parts = []
    for i, (kind, _row) in enumerate(timeline):
        when, kind_label, meta, public_id, title, detail, note = escaped[7 * i:7 * i + 7]
        parts.append(f'<li class="timeline-item timeline-{kind}">\n'
                     f'<span class="small text-body-secondary">{when} · <span class="badge'
                     f' text-bg-light border">{kind_label}</span> {meta}</span>\n')
        if edit is not None:
            parts.append(f'<a class="small ms-1" href="{edit[0]}/{kind}/{public_id}/edit">'
                         f'{edit[1]}</a>\n')
        parts.append(f"<div><strong>{title}</strong>{detail}" if title else f"<div>{detail}")
        if note:
            parts.append(f'<div class="small">{note}</div>')
        parts.append("</div>\n</li>\n")
    return Markup("".join(parts))


def _page_extras(customer):
    """What the card page needs from the request: the locale's labels, the local date, the
    data's freshness in days, and the links to other areas."""
    now = datetime.datetime.now(UTC).replace(tzinfo=None)
    verified = customer.last_verified_at
    try:
        history_url = fast_url_for("audit.card_history", public_id=customer.public_id)
    except BuildError:  # the audit pages are not in this build
        history_url = None
    return {"labels": translated(CARD_LABELS), "today": to_local(now).date(),
            "verified_days": None if verified is None else max(0, (now - verified).days),
            "birthday_lunar": profile.birthday_as_typed(customer)
            if customer.birthday_lunar else None,
            "history_url": history_url, "yes": _("Yes"), "no": _("No"),
            "staff_choices": _follow_up_assignees(customer),
            "tier_form": _tier_form(customer) if can(current_user.role, "tiers.manage")
            else None}


class TierForm(NamedTuple):
    """The tier panel's override form: what its fields' HTML follows from (``key``: the card's
    tier and every tier) and how to build it (as backoffice.tiers.tier_override_form does) when
    that HTML is not cached yet."""
    key: tuple
    build: object


def _tier_form(customer):
    choices = tuple(cards.tier_choices())  # one prepared query
    selected = customer.tier.code if customer.tier_id else None

    def build():
        form = OverrideForm(formdata=None)
        lang = str(get_locale() or "zh")[:2]
        form.tier.choices = [SelectChoice(t.code, getattr(t, f"name_{lang}", None) or t.name_zh)
                             for t in choices]
        if selected is not None:
            form.tier.data = selected
        return form
    return TierForm((selected, choices), build)


def _follow_up_assignees(customer):
    """The card's quick follow-up goes to me or to the card's owner (the tasks pages reassign
    to anyone)."""
    choices = [SelectChoice("", _("Me"))]
    if customer.owner_public_id and customer.owner_public_id != current_user.user.public_id:
        choices.append(SelectChoice(customer.owner_public_id, customer.owner_name))
    return choices


@bp.route("/<public_id>/<kind>/")
def records_tab(public_id, kind):
    """One kind of record as a table: the card's tab asks for it (htmx) when first opened;
    without htmx it is a page of its own."""
    customer, kind = _card_or_404(public_id), _kind_or_404(kind)
    template = ("backoffice/card/_records.html" if request.headers.get("HX-Request")
                else "backoffice/card/records.html")
    return render_template(template, customer=customer, kind=kind, editable=can(current_user.role, "cards.edit"),
                           rows=cards.record_rows(kind, customer),
                           labels=translated(CARD_LABELS))


@bp.route("/<public_id>/invite", methods=["POST"])
def invite(public_id):
    """Email the customer an invitation to the portal (or send it again)."""
    customer = _card_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        account = customer_access.invite(customer, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "warning")
    else:
        flash(_("Invitation sent to %(email)s.", email=account.email), "success")
    return redirect(url_for("card.detail", public_id=public_id))


def _edit_form(formdata=None, values=None):
    form = CardEditForm(formdata=formdata, data=values)
    form.owner.choices = staff_choices(_("Nobody"))
    return form


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id):
    customer = _card_or_404(public_id)
    if request.method == "GET":
        values = card_edit.edit_values(customer)
        values.update(tags=", ".join(values["tags"]), version=customer.version)
        form = _edit_form(values=values)
        if values["owner"] and values["owner"] not in {c.value for c in form.owner.choices}:
            # a deactivated owner stays the owner until someone picks another
            form.owner.choices.append(SelectChoice(values["owner"], customer.owner_name))
        return _render_edit(customer, form)
    form = _edit_form(request.form)
    keep_current(form.owner, form.owner.data)  # a deactivated owner: the service decides
    conflict = None
    if form.validate_on_submit():
        submitted = {f: form[f].data for f in card_edit.EDIT_FIELDS}
        try:
            changed = card_edit.update_card(customer, submitted, _version(form), staff_actor())
        except card_edit.EditConflict as exc:
            conflict, form.version.data = exc, exc.version
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("The card is saved.") if changed else _("Nothing was changed."), "success")
            return redirect(url_for("card.detail", public_id=public_id))
    return _render_edit(customer, form, conflict), 409 if conflict else 400


def _version(form):
    try:
        return int(form.version.data)
    except (TypeError, ValueError):
        abort(400)


def _render_edit(customer, form, conflict=None):
    return render_template("backoffice/card/edit.html", customer=customer, form=form,
                           conflict=conflict,
                           owners={c.value: c.label for c in form.owner.choices})


def _record_form(kind, formdata=None, obj=None):
    form = RECORD_FORMS[kind](formdata=formdata, obj=obj)
    if "staff" in form:
        form.staff.choices = staff_choices("—")
    for name in ("payment_method", "channel", "service_type", "outcome"):
        if name in form:  # free-text codes (imports) stay as they are; the service checks them
            keep_current(form[name], form[name].data)
    return form


def _filled_form(kind, record):
    form = _record_form(kind, obj=record)
    form.occurred_at.data = to_local(record.occurred_at)
    if "staff" in form:
        form.staff.data = (StaffUser.select(StaffUser.public_id)
                           .where(StaffUser.id == record.staff_id).scalar() or "")
        keep_current(form.staff, form.staff.data)
    return form


def _submitted(kind, form):
    values = {f: form[f].data for f in records.KINDS[kind][1] if f in form}
    values["occurred_at"] = to_utc(form.occurred_at.data)
    return values


def _kind_or_404(kind):
    if kind not in records.KINDS:
        abort(404)
    return kind


@bp.route("/<public_id>/<kind>/new", methods=["GET", "POST"])
def record_new(public_id, kind):
    customer, kind = _card_or_404(public_id), _kind_or_404(kind)
    form = _record_form(kind, request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.occurred_at.data = to_local(datetime.datetime.now(UTC).replace(tzinfo=None))
        if "staff" in form:
            form.staff.data = current_user.user.public_id
    elif form.validate_on_submit():
        try:
            records.add_record(kind, customer, staff_actor(), _submitted(kind, form))
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("card.detail", public_id=public_id, _anchor=f"tab-{kind}"))
    return _render_record(customer, kind, form, None), 200 if request.method == "GET" else 400


def _record_or_404(customer, kind, record_id):
    record = None if "\x00" in record_id else records.get_live(kind, customer, record_id)
    if record is None:
        abort(404)
    return record


@bp.route("/<public_id>/<kind>/<record_id>/edit", methods=["GET", "POST"])
def record_edit(public_id, kind, record_id):
    customer, kind = _card_or_404(public_id), _kind_or_404(kind)
    record = _record_or_404(customer, kind, record_id)
    if request.method == "GET":
        return _render_record(customer, kind, _filled_form(kind, record), record)
    form = _record_form(kind, request.form)
    if form.validate_on_submit():
        try:
            records.edit_record(kind, record, staff_actor(), _submitted(kind, form))
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("card.detail", public_id=public_id, _anchor=f"tab-{kind}"))
    return _render_record(customer, kind, form, record), 400


@bp.route("/<public_id>/<kind>/<record_id>/delete", methods=["POST"])
def record_delete(public_id, kind, record_id):
    customer, kind = _card_or_404(public_id), _kind_or_404(kind)
    record = _record_or_404(customer, kind, record_id)
    form = DeleteRecordForm()
    if form.validate_on_submit():
        try:
            records.delete_record(kind, record, staff_actor(), form.reason.data)
        except DomainError as exc:
            show_error(form, exc, "reason")
        else:
            flash(_("The record is deleted."), "success")
            return redirect(url_for("card.detail", public_id=public_id, _anchor=f"tab-{kind}"))
    return _render_record(customer, kind, _filled_form(kind, record), record,
                          delete_form=form), 400


def _render_record(customer, kind, form, record, delete_form=None):
    return render_template("backoffice/card/record.html", customer=customer, kind=kind,
                           form=form, record=record,
                           delete_form=delete_form or DeleteRecordForm(formdata=None))

