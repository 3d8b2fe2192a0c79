"""My preferences: the customer keeps their own preferences (styles, sizes, channels, quiet
hours, special needs) under each field's portal policy. The form is built from the
CustomField rows of section "preference"; labels, choices and help come in the page's
language."""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm

from services import DomainError, preferences
from services.actors import Actor
from webcore.signin import client_ip

bp = Blueprint("preferences", __name__, url_prefix="/preferences")

LONG_HELP = 40  # help longer than this asks for more than a line: a textarea


class PreferencesForm(FlaskForm):
    """Only the CSRF token: the fields come from the CustomField rows."""


def _lang():
    return str(get_locale() or "zh")[:2]


def _text(field, name, lang):
    return getattr(field, f"{name}_{lang}", None) or getattr(field, f"{name}_zh", "") or ""


def submitted(fields):
    """{key: raw value} for every editable field, read from the posted form only by the
    allowed keys (anything else posted is never looked at)."""
    data = {}
    for key, field in fields.items():
        if field.kind == "multi_choice":
            data[key] = request.form.getlist(key)
        else:
            data[key] = request.form.get(key)
    return data


def _shown(field, value):
    """What an input shows for a stored value: text for inputs, a list for checkboxes."""
    if field.kind == "multi_choice":
        return [str(v) for v in (value or [])] if isinstance(value, list) else \
            ([str(value)] if value else [])
    if field.kind == "bool":
        return bool(value)
    return "" if value is None else str(value)


@bp.route("/", methods=["GET", "POST"])
def edit():
    customer = current_user.customer
    lang = _lang()
    fields = preferences.portal_fields()
    allowed = preferences.editable(fields)
    stored = preferences.values(customer, fields)
    form = PreferencesForm()
    errors, typed = {}, {}
    if form.validate_on_submit():
        typed = submitted(allowed)
        actor = Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)
        try:
            applied, queued = preferences.update_preferences(customer, typed, actor)
        except preferences.FieldErrors as exc:
            errors = {key: _(message, **params) for key, (message, params) in exc.errors.items()}
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash_outcome(applied, queued, _("Your preferences are saved."))
            return redirect(url_for("preferences.edit"))
    inputs, locked = build_inputs(customer, fields, allowed, stored, typed, errors, lang)
    return render_template("portal/preferences/edit.html", form=form, inputs=inputs,
                           locked=locked, has_errors=bool(errors))


def build_inputs(customer, fields, allowed, stored, typed, errors, lang):
    """(inputs, locked) the page shows: one dict per editable field (label, help, choices, the
    typed or stored value, its error, a value waiting for review), and (label, value) for the
    fields the customer sees but may not change. Also used for card fields in My details."""
    waiting = preferences.pending(customer)
    inputs, locked = [], []
    for field in fields:
        if field.key not in allowed:
            locked.append((_text(field, "label", lang),
                           preferences.display(field, stored.get(field.key), lang)))
            continue
        value = typed[field.key] if field.key in typed else stored.get(field.key)
        help_text = _text(field, "help", lang)
        inputs.append({
            "key": field.key, "id": f"pref-{field.key}", "kind": field.kind,
            "label": _text(field, "label", lang), "help": help_text,
            "long": field.kind == "text" and len(help_text) > LONG_HELP,
            "required": field.required, "review": field.portal_policy == "review",
            "choices": [(str(c.get("value")), c.get(lang) or c.get("zh") or c.get("value"))
                        for c in (field.choices or [])],
            "value": _shown(field, value), "error": errors.get(field.key),
            "pending": (preferences.display(field, waiting[field.key], lang) or "—")
            if field.key in waiting else None,
        })
    return inputs, locked


def flash_outcome(applied, queued, saved, waiting=None, unchanged=None):
    """Tell the customer what became of a change: saved, waiting for staff, or nothing."""
    if applied:
        flash(saved, "success")
    if queued:
        flash(waiting or _("Thank you. Some of your changes are checked by our staff first; "
                           "until then your card keeps the old value."), "info")
    if not applied and not queued:
        flash(unchanged or _("Nothing changed."), "info")
