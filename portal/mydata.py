"""My data: download a copy of everything held about me, and ask for it to be erased.

Both flows run for the signed-in customer only; their links (the download link and the emailed
erasure confirmation) open a page first (GET changes nothing) and act on POST, once.
"""
from flask import (
    Blueprint,
    Response,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from portal.access import link_error
from services import DomainError, data_requests
from services.actors import Actor
from services.links import LinkError
from webcore.forms import EmptyForm
from webcore.signin import client_ip

bp = Blueprint("mydata", __name__)


def _actor():
    return Actor.for_customer(current_user.user, client_ip(), request.user_agent.string)


def _lang():
    return str(get_locale() or "zh")[:2]


def _index(error=None, status=200):
    error = _(error.message, **error.params) if error else None
    return render_template("portal/mydata/index.html", form=EmptyForm(), error=error,
                           erasure=data_requests.open_erasure(current_user.customer_id),
                           labels=data_requests.STATUS_LABELS), status


@bp.route("/my-data/")
def index():
    return _index()


@bp.route("/my-data/download", methods=["POST"])
def prepare():
    token = data_requests.prepare_download(current_user.customer, _actor())
    return render_template("portal/mydata/ready.html", form=EmptyForm(), token=token)


@bp.route("/my-data/download/<token>", methods=["GET", "POST"])
def download(token):
    try:
        data_requests.check_download(token, current_user.customer_id)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            filename, body = data_requests.download(token, current_user.customer, _actor(),
                                                    _lang())
        except LinkError as exc:
            return link_error(exc)
        return Response(body, mimetype="application/zip", headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store"})
    return render_template("portal/mydata/ready.html", form=form, token=token)


@bp.route("/my-data/erase", methods=["POST"])
def erase():
    try:
        existing, email = data_requests.request_erasure(current_user.customer, _actor())
    except DomainError as exc:
        return _index(exc, 400)
    if existing is not None:
        flash(_("You have already asked us to erase your data. Its status is below."), "info")
        return redirect(url_for(".index"))
    return render_template("portal/mydata/check_email.html", email=email)


@bp.route("/my-data/erase/<token>", methods=["GET", "POST"])
def confirm_erasure(token):
    try:
        data_requests.check_erasure(token, current_user.customer_id)
    except LinkError as exc:
        return link_error(exc)
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            data_requests.confirm_erasure(token, current_user.customer, _actor())
        except LinkError as exc:
            return link_error(exc)
        flash(_("Thank you: your request to erase your data is confirmed."), "success")
        return redirect(url_for(".index"))
    return render_template("portal/mydata/confirm_erasure.html", form=form)
