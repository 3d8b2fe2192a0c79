"""Email campaigns (campaigns.manage): the list, the draft's form with a live audience count,
the campaign page (settings, a preview as a real recipient gets it, a test to oneself, send now
or schedule after a confirm step, pause/resume/cancel with a live progress bar) and the results
(figures and rates, per tier with a chart, the recipients by status)."""
import datetime

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice

from backoffice.card import to_local, to_utc
from models import Campaign, Segment, utcnow
from services import (
    N_,
    DomainError,
    campaign_lifecycle,
    campaign_mail,
    campaign_results,
    campaigns,
)
from webcore.forms import EmptyForm, show_errors
from webcore.i18n import lazy_gettext as _l
from webcore.labels import LABELS
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns")

PER_PAGE = 50
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
# The status actions of the campaign page: form value -> (service function, message when done).
ACTIONS = {"unschedule": (campaign_lifecycle.unschedule, _l("The schedule is cancelled: the campaign "
                                                   "is a draft again.")),
           "pause": (campaign_lifecycle.pause, _l("Sending is paused.")),
           "resume": (campaign_lifecycle.resume, _l("Sending resumes.")),
           "cancel": (campaign_lifecycle.cancel, _l("The campaign is cancelled: nobody else gets it."))}
# Recipient filters of the results page: the statuses, plus the skipped and waiting groups.
FILTERS = ("sent", "failed", "skipped", "skipped_consent", "skipped_erased",
           "skipped_no_email", "waiting", "cancelled")


class CampaignForm(FlaskForm):
    """What staff type; every rule (lengths, placeholders, who may do what) is the service's."""
    name = StringField(_l("Campaign name"), render_kw={"maxlength": campaigns.NAME_MAX})
    goal = TextAreaField(_l("Goal (for your team, not sent)"),
                         render_kw={"rows": 2, "maxlength": campaigns.GOAL_MAX})
    segment = SelectField(_l("Send to (segment or list)"), validate_choice=False)
    survey = SelectField(_l("Survey (optional)"), validate_choice=False)
    subject_zh = StringField(_l("Subject (Chinese)"), render_kw={"maxlength":
                                                                 campaigns.SUBJECT_MAX})
    body_zh = TextAreaField(_l("Text (Chinese)"), render_kw={"rows": 10})
    subject_en = StringField(_l("Subject (English)"), render_kw={"maxlength":
                                                                 campaigns.SUBJECT_MAX})
    body_en = TextAreaField(_l("Text (English)"), render_kw={"rows": 10})
    track_opens = BooleanField(_l("Track opens"))
    rate_per_minute = StringField(_l("At most this many emails a minute (optional)"),
                                  render_kw={"inputmode": "numeric", "maxlength": 6})
    attribution_days = StringField(_l("Count purchases within this many days as conversions"),
                                   default="30", render_kw={"inputmode": "numeric",
                                                            "maxlength": 3})
    is_transactional = BooleanField(_l("Service notice (transactional)"))



def _campaign_or_404(public_id):
    return campaigns.find(public_id) or abort(404)


def _form(data=None):
    """The form with its choices; ``data`` (a campaign's values) for a GET, else the POST."""
    form = CampaignForm() if data is None else CampaignForm(data=data)
    form.segment.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(s.public_id, f"{s.name} · {_('list') if s.kind == 'static' else _('segment')}")
        for s in campaigns.segment_choices()]
    form.survey.choices = [SelectChoice("", _("No survey"))] + [
        SelectChoice(s.public_id, _survey_title(s)) for s in campaigns.survey_choices()]
    return form


def _data(form):
    """The form's values for the service; a segment id with a NUL byte (which PostgreSQL
    cannot even compare) is no segment."""
    data = dict(form.data)
    if "\x00" in (data.get("segment") or ""):
        data["segment"] = ""
    return data


def _lang():
    return str(get_locale() or "zh")[:2]


def _survey_title(survey):
    return getattr(survey, f"title_{_lang()}", "") or survey.title_zh or survey.title_en


def _editor(form, campaign=None, status=200):
    return render_template("backoffice/campaigns/form.html", form=form, campaign=campaign,
                           placeholders=campaigns.PLACEHOLDERS,
                           counted=_count(form.segment.data)), status


def _count(public_id):
    """How many cards the chosen segment or list holds now (None: none chosen)."""
    if not public_id or "\x00" in public_id:
        return None
    segment = Segment.get_or_none(Segment.public_id == public_id)
    return None if segment is None else campaigns.audience_count(Campaign(segment=segment))


@bp.route("/")
def index():
    # objects(): the joined segment's name lands on the campaign (as a model it would
    # replace the segment and lose its id).
    page = Page(campaigns.list_query().objects(), per_page=PER_PAGE,
                count_query=Campaign.select(Campaign.id))
    return render_template("backoffice/campaigns/index.html", page=page)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _form()
    if form.validate_on_submit():
        try:
            campaign = campaigns.create(staff_actor(), current_user.user, _data(form))
        except DomainError as exc:
            show_errors(form, exc)
            return _editor(form, status=400)
        flash(_("Campaign saved as a draft. Check the preview, then send it."), "success")
        return redirect(url_for(".detail", public_id=campaign.public_id))
    return _editor(form, status=400 if form.errors else 200)


@bp.route("/<public_id>/edit", methods=["GET", "POST"])
def edit(public_id):
    campaign = _campaign_or_404(public_id)
    if campaign.status not in campaigns.EDITABLE:
        flash(_("Only a draft can be changed."), "warning")
        return redirect(url_for(".detail", public_id=public_id))
    form = _form(data=campaigns.form_data(campaign)) if request.method == "GET" else _form()
    if form.validate_on_submit():
        try:
            campaigns.update(campaign, staff_actor(), current_user.user, _data(form))
        except DomainError as exc:
            show_errors(form, exc)
            return _editor(form, campaign, status=400)
        flash(_("Campaign saved."), "success")
        return redirect(url_for(".detail", public_id=public_id))
    return _editor(form, campaign, status=400 if form.errors else 200)


@bp.route("/audience")
def audience():
    """The live "N cards" next to the audience select (htmx); as a page, the new-campaign
    form."""
    if not request.headers.get("HX-Request"):
        return redirect(url_for(".new"))
    return render_template("backoffice/campaigns/_audience.html",
                           counted=_count(request.args.get("segment", "")))


def _default_send_at():
    soon = to_local(utcnow() + datetime.timedelta(hours=1))
    return soon.replace(minute=0).strftime(LOCAL_FORMAT)


def _show(campaign, send_at=None, send_at_error=None, status=200):
    sample = campaigns.sample_customer(campaign)
    previews = {lang: campaign_mail.preview(campaign, sample, lang) for lang in ("zh", "en")}
    return render_template(
        "backoffice/campaigns/detail.html", campaign=campaign, sample=sample, previews=previews,
        audience=campaigns.audience_count(campaign) if campaign.status in ("draft", "scheduled")
        else None, progress=campaign_results.progress(campaign),
        creator=campaigns.creator_name(campaign), send_at=send_at or _default_send_at(), send_at_error=send_at_error,
        empty=EmptyForm()), status


@bp.route("/<public_id>")
def detail(public_id):
    return _show(_campaign_or_404(public_id))


@bp.route("/<public_id>/progress")
def progress(public_id):
    """The progress block, polled every 2 s while the campaign sends."""
    campaign = _campaign_or_404(public_id)
    if not request.headers.get("HX-Request"):
        return redirect(url_for(".detail", public_id=public_id))
    return render_template("backoffice/campaigns/_progress.html", campaign=campaign,
                           progress=campaign_results.progress(campaign), polled=True,
                           empty=EmptyForm())


def _send_at():
    """The schedule time of the form (naive UTC), None to send now; DomainError if wrong."""
    if request.values.get("mode") != "schedule":
        return None
    text = (request.values.get("send_at") or "").strip()
    try:
        local = datetime.datetime.strptime(text, LOCAL_FORMAT)
    except ValueError:
        raise DomainError(N_("Enter the date and time."), "send_at") from None
    return campaign_lifecycle.check_send_at(to_utc(local))


@bp.route("/<public_id>/start", methods=["GET", "POST"])
def start(public_id):
    """GET: the confirm step (how many cards, when); POST: send now or schedule."""
    campaign = _campaign_or_404(public_id)
    try:
        when = _send_at()
        if request.method == "GET":
            if campaign.status != "draft":
                raise DomainError(N_("Only a draft can be sent or scheduled."))
            campaign_lifecycle.check_ready(campaign)
    except DomainError as exc:
        if exc.field == "send_at":
            return _show(campaign, request.values.get("send_at"), _(exc.message, **exc.params),
                         status=400)
        flash(_(exc.message, **exc.params), "danger")
        return redirect(url_for(".detail", public_id=public_id))
    if request.method == "GET":
        return render_template("backoffice/campaigns/confirm.html", campaign=campaign,
                               when=when, send_at=request.values.get("send_at", ""),
                               audience=campaigns.audience_count(campaign))
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        campaign = campaign_lifecycle.start(campaign, staff_actor(), when=when)
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
        return redirect(url_for(".detail", public_id=public_id))
    messages = {"scheduled": _("The campaign is scheduled."),
                "finished": _("The campaign has been sent.")}
    now = Campaign.get_by_id(campaign.id).status  # a worker may have finished it already
    flash(messages.get(now, _("Sending has started.")), "success")
    return redirect(url_for(".detail", public_id=public_id))


@bp.route("/<public_id>/status", methods=["POST"])
def status(public_id):
    campaign = _campaign_or_404(public_id)
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None or not EmptyForm().validate_on_submit():
        abort(400)
    act, done = action
    try:
        act(campaign, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
    else:
        flash(str(done), "success")
    return redirect(url_for(".detail", public_id=public_id))


@bp.route("/<public_id>/test", methods=["POST"])
def send_test(public_id):
    campaign = _campaign_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    row = campaign_mail.send_test(campaign, current_user.user, staff_actor())
    flash(_("A test was sent to %(email)s.", email=row.to_addr), "success")
    return redirect(url_for(".detail", public_id=public_id) + "#preview")


@bp.route("/<public_id>/delete", methods=["POST"])
def delete(public_id):
    campaign = _campaign_or_404(public_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        campaigns.delete(campaign, staff_actor())
    except DomainError as exc:
        flash(_(exc.message, **exc.params), "danger")
        return redirect(url_for(".detail", public_id=public_id))
    flash(_("Campaign deleted."), "success")
    return redirect(url_for(".index"))


@bp.route("/<public_id>/results")
def results(public_id):
    campaign = _campaign_or_404(public_id)
    shown = request.args.get("status", "")
    shown = shown if shown in FILTERS else ""
    tiers, (_total, total, revenue) = campaign_results.by_tier(campaign)
    query = campaign_results.recipients_query(campaign, shown or None)
    page = Page(query, per_page=PER_PAGE, count_query=query.select(campaign_results.R.id)
                .order_by())
    response = make_response(render_template(
        "backoffice/campaigns/results.html", campaign=campaign, tiers=tiers, total=total,
        revenue=revenue, rates=campaign_results.rates(total), rates_of=campaign_results.rates,
        page=page, shown=shown, filters=FILTERS, chart=_chart(campaign, tiers),
        statuses=LABELS["recipient_status"]))
    response.headers["Cache-Control"] = "no-store"  # names and addresses
    return response


def _chart(campaign, tiers):
    """The per-tier bar chart's data (drawn by static/js/app.js): sent, opened (if tracked),
    answered (if there is a survey) and converted."""
    def name(tier):
        if tier is None:
            return _("No tier")
        return getattr(tier, f"name_{_lang()}", "") or tier.name_zh
    series = [("sent", _("Sent"))] + ([("opened", _("Opened"))] if campaign.track_opens
                                      else []) \
        + ([("answered", _("Answered"))] if campaign.survey_id else []) \
        + [("converted", _("Converted"))]
    return {"labels": [name(tier) for tier, _m, _r in tiers],
            "series": [{"name": text, "values": [m[key] for _t, m, _r in tiers]}
                       for key, text in series]}
