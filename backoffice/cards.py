"""The card list: one search box (as you type with htmx, or a plain GET form), filters, sort,
pagination, the staff member's saved views, and bulk actions on the checked rows or on every
card the filter finds (those ask for confirmation first); and "New card"."""
from urllib.parse import urlencode

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
from flask_login import current_user

from backoffice import card_rows
from backoffice.card import staff_choices
from backoffice.forms import CardNewForm, keep_current
from models import Customer
from services import DomainError, card_bulk, card_list, card_options, customers, saved_views
from services.access import can
from webcore.forms import show_errors
from webcore.signin import staff_actor

bp = Blueprint("cards", __name__, url_prefix="/cards")

PER_PAGE = 50


def _filters(pairs=None):
    return card_list.parse(request.args.items(multi=True) if pairs is None else pairs)


def _tz():
    return current_app.config.get("BABEL_DEFAULT_TIMEZONE", "Asia/Shanghai")


def _page(filters):
    return card_list.list_page(filters, current_user.user, _tz(),
                               max(1, request.args.get("page", 1, type=int)), PER_PAGE)


def _list_url(filters, page=1):
    query = urlencode(filters.as_query() + ([("page", page)] if page > 1 else []))
    return url_for("cards.index") + ("?" + query if query else "")



def _query_args(pairs):
    """Query pairs as url_for keywords (a repeated key becomes a list)."""
    args = {}
    for key, value in pairs:
        args.setdefault(key, []).append(value)
    return {key: values[0] if len(values) == 1 else values for key, values in args.items()}


def _filter_errors(filters):
    """{query name: message} for filter values that cannot match, shown at their inputs."""
    return {name: _(message, **params)
            for name, (message, params) in card_list.filter_errors(filters).items()}


def _context(filters):
    query = filters.as_query()
    choices = card_options.list_options(current_user.user)
    page = _page(filters)
    errors = _filter_errors(filters)
    found_nothing = not page.items and filters.get("q") and can(current_user.role, "cards.edit")
    return {"filters": filters, "page": page, "query": query,
            "new_card_url": url_for("cards.new", **customers.prefill(filters.get("q")))
            if found_nothing else None,
            "rows_html": card_rows.rows_html(page.items, can(current_user.role, "cards.edit")),
            "filter_errors": errors,
            "panel_key": None if errors else (choices["key"], bool(filters.get("q")),
                                              tuple(p for p in query if p[0] != "q")),
            "query_args": _query_args(query), "choices": choices, "views": choices["views"],
            "owners": choices["staff"], "statuses": choices["statuses"],
            "list_url": _list_url(filters)}


@bp.route("/")
def index():
    filters = _filters()
    if any(not v.strip() for v in request.args.values()) or filters.get("sort") == "updated":
        # the plain form sends every field: show (and let staff bookmark) the short address
        page = request.args.get("page", 1, type=int)
        return redirect(_list_url(filters, page))
    return render_template("backoffice/cards/index.html", **_context(filters))


@bp.route("/results")
def results():
    """The results part of the list, for htmx as the staff type; the address bar shows the
    full list's URL so that reload and back work. Opened as a page of its own (a new tab),
    it is the whole list."""
    filters = _filters()
    if not request.headers.get("HX-Request"):
        return render_template("backoffice/cards/index.html", **_context(filters))
    response = current_app.make_response(
        render_template("backoffice/cards/_results.html", **_context(filters)))
    response.headers["HX-Push-Url"] = _list_url(filters)
    return response


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A card for a walk-in or a phone call, by the edit form's rules; the query string fills
    the form (a search that found nothing links here). A mobile, email or WeChat ID already on
    a live card shows that card first; ticking "create anyway" creates it all the same."""
    if request.method == "GET":
        values = {"status": Customer.status.default, "owner": current_user.user.public_id}
        values.update((f, request.args[f]) for f in CardNewForm.CARD_FIELDS if f in request.args)
        return _render_new(_new_form(values=values))
    form = _new_form(request.form)
    keep_current(form.owner, form.owner.data)  # the service says what is wrong with it
    duplicates = None
    if form.validate_on_submit():
        try:
            customer = customers.create_customer(
                staff_actor(), check_duplicates=not form.create_anyway.data,
                **{f: form[f].data for f in CardNewForm.CARD_FIELDS})
        except customers.PossibleDuplicates as exc:
            duplicates = exc.cards
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Card created."), "success")
            return redirect(url_for("card.detail", public_id=customer.public_id))
    return _render_new(form, duplicates), 409 if duplicates else 400


def _new_form(formdata=None, values=None):
    form = CardNewForm(formdata=formdata, data=values)
    form.owner.choices = staff_choices(_("Nobody"))
    return form


def _render_new(form, duplicates=None):
    # the cursor goes where the staff member acts next: the first wrong field, "create anyway"
    # under a duplicate warning, else the first empty one
    wrong = [f for f in form if f.errors and f.type != "CSRFTokenField"]
    empty = [f for f in (form.name, form.mobile) if not f.data]
    focus = (wrong or ([form.create_anyway] if duplicates else empty) or [form.name])[0]
    focus.render_kw = {**(focus.render_kw or {}), "autofocus": True}
    return render_template("backoffice/cards/new.html", form=form, duplicates=duplicates)


@bp.route("/views", methods=["POST"])
def view_save():
    filters = _filters(request.form.items(multi=True))
    try:
        saved_views.save_view(current_user.user, request.form.get("view_name", ""), filters,
                              staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
    else:
        flash(_("View saved."), "success")
    return redirect(_list_url(filters))


@bp.route("/views/<view_id>")
def view_open(view_id):
    view = saved_views.get_view(current_user.user, view_id) if view_id.isdigit() else None
    if view is None:
        abort(404)
    return redirect(_list_url(_filters([tuple(pair) for pair in view.query])))


@bp.route("/views/<view_id>/delete", methods=["POST"])
def view_delete(view_id):
    if not view_id.isdigit():
        abort(404)
    try:
        saved_views.delete_view(current_user.user, int(view_id), staff_actor())
    except DomainError:
        abort(404)
    flash(_("View deleted."), "success")
    return redirect(url_for("cards.index"))


@bp.route("/bulk", methods=["POST"])
def bulk():
    """Apply a bulk action; to every card the filter finds only after a confirmation page
    that names the count (the count asked to confirm must still hold)."""
    filters = _filters(request.form.items(multi=True))
    action = request.form.get("action", "")
    value = request.form.get(action + "_value", "")
    every = request.form.get("scope") == "all"
    ids = None if every else request.form.getlist("ids")
    if not every and not ids:
        flash(_("Tick at least one card, or choose all the cards the filter finds."), "danger")
        return redirect(_list_url(filters))
    if every and card_list.filter_errors(filters):
        flash(_("Correct the marked filters first."), "danger")
        return redirect(_list_url(filters))
    targets = card_bulk.target_query(filters, ids, current_user.user, _tz())
    try:
        shown = card_bulk.bulk_value(action, value)[1]
        total = targets.count() if every or action == "list" else None
        if every and request.form.get("confirmed") != str(total):
            return render_template("backoffice/cards/bulk_confirm.html", total=total,
                                   action=action, value=value, query=filters.as_query(),
                                   owner_name=card_options.staff_name(value), shown=shown,
                                   list_url=_list_url(filters))
        changed = card_bulk.bulk_apply(action, value, targets, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
    else:
        _flash_done(action, changed, total, shown)
    return redirect(_list_url(filters))


def _flash_done(action, changed, total, shown):
    if action != "list":
        flash(_("%(num)s cards changed.", num=changed), "success")
        return
    flash(ngettext("%(num)s card added to the list %(list)s.",
                   "%(num)s cards added to the list %(list)s.", changed, list=shown),
          "success")
    if total and total > changed:
        flash(ngettext("%(num)s card was already in this list.",
                       "%(num)s cards were already in this list.", total - changed), "info")
