"""The card's own fields (custom fields of section "card" and the ID number): the staff edit
form, and revealing a sensitive value to a role that may (audited)."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from services import (
    DomainError,
    card_field_edit,
    cards,
    crypto,
    custom_fields,
    field_values,
)
from services.profile import FieldErrors
from webcore.forms import EmptyForm
from webcore.signin import staff_actor

bp = Blueprint("card_fields", __name__, url_prefix="/cards")


def current_lang():
    return str(get_locale() or "zh")[:2]


def _card_or_404(public_id):
    customer = None if "\x00" in public_id else cards.get_card(public_id)
    if customer is None:
        abort(404)
    return customer



def _submitted(fields):
    """{key: raw value} for the fields the role sees (nothing else posted is read)."""
    data = {key: request.form.getlist(key) if field.kind == "multi_choice"
            else request.form.get(key) for key, field in fields.items()}
    data[custom_fields.ID_NUMBER] = request.form.get(custom_fields.ID_NUMBER)
    allowed = set(fields) | {custom_fields.ID_NUMBER}
    data["clear"] = {key for key in request.form.getlist("clear") if key in allowed}
    return data


def _inputs(customer, fields, typed, errors):
    """What the form shows per field: label, help, choices, value (typed or stored), error.
    Sensitive values are never put into an input: the input shows the masked value as a hint."""
    lang = current_lang()
    stored = field_values.clear_values(customer, list(fields.values()))
    id_now = card_field_edit.current_id_number(customer)
    rows = [{"key": custom_fields.ID_NUMBER, "kind": "text", "sensitive": True,
             "label": custom_fields.ID_LABELS[lang], "help": "", "required": False,
             "choices": [], "masked": crypto.mask(id_now),
             "value": typed.get(custom_fields.ID_NUMBER) or "",
             "error": errors.get(custom_fields.ID_NUMBER)}]
    for key, field in fields.items():
        value = typed[key] if key in typed else stored.get(key)
        rows.append({
            "key": key, "kind": field.kind, "sensitive": field.sensitive,
            "label": getattr(field, f"label_{lang}") or field.label_zh,
            "help": getattr(field, f"help_{lang}") or field.help_zh, "required": field.required,
            "choices": [(str(c.get("value")), c.get(lang) or c.get("zh") or c.get("value"))
                        for c in (field.choices or [])],
            "masked": crypto.mask(stored.get(key)) if field.sensitive else None,
            "value": (typed.get(key) or "") if field.sensitive else _shown(field, value),
            "error": errors.get(key)})
    return rows


def _shown(field, value):
    if field.kind == "multi_choice":
        return [str(v) for v in value] if isinstance(value, list) else ([str(value)] if value else [])
    if field.kind == "bool":
        return bool(value)
    return "" if value is None else str(value)


@bp.route("/<public_id>/fields", methods=["GET", "POST"])
def edit(public_id):
    customer = _card_or_404(public_id)
    fields = {f.key: f for f in custom_fields.card_fields(current_user.role)}
    form = EmptyForm()
    typed, errors = {}, {}
    if form.validate_on_submit():
        typed = _submitted(fields)
        try:
            changed = card_field_edit.update_card_fields(
                customer, typed, staff_actor(), current_user.role,
                version=request.form.get("version"))
        except FieldErrors as exc:
            errors = {key: _(message, **params) for key, (message, params) in exc.errors.items()}
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("The card's fields are saved.") if changed else _("Nothing changed."),
                  "success" if changed else "info")
            return redirect(url_for("card_fields.edit", public_id=public_id)
                            if not changed else url_for("card.detail", public_id=public_id))
    return render_template("backoffice/card/fields_edit.html", customer=customer, form=form,
                           inputs=_inputs(customer, fields, typed, errors),
                           cleared=typed.get("clear", set()), has_errors=bool(errors),
                           version=request.form.get("version") or customer.version)


@bp.route("/<public_id>/fields/<key>/reveal", methods=["POST"])
def reveal(public_id, key):
    """The clear value: an htmx fragment in place of the masked one, or a page without JS."""
    customer = _card_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        value = card_field_edit.reveal(customer, key, staff_actor(), current_user.role)
    except DomainError:
        abort(404)
    template = ("backoffice/card/fields_revealed.html" if request.headers.get("HX-Request")
                else "backoffice/card/fields_reveal.html")
    response = render_template(template, customer=customer, key=key, value=value,
                               label=_field_label(key))
    return response, 200, {"Cache-Control": "no-store"}


def _field_label(key):
    lang = current_lang()
    if key == custom_fields.ID_NUMBER:
        return custom_fields.ID_LABELS[lang]
    field = custom_fields.fields_by_key([key]).get(key)
    return (getattr(field, f"label_{lang}") or field.label_zh) if field else key
