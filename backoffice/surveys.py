"""Surveys in the back office: the list, the builder (settings, questions, order, status, the
anonymous link, invitations by card number, reminders) and the results with their exports."""
import re

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, NumberRange, Optional

from models import Segment, SurveyQuestion, Tier
from services import (
    DomainError,
    survey_invites,
    survey_reminders,
    survey_results,
    surveys,
)
from webcore.forms import EmptyForm, show_error, show_errors
from webcore.i18n import lazy_gettext as _l
from webcore.pagination import Page
from webcore.signin import staff_actor

bp = Blueprint("surveys", __name__, url_prefix="/surveys")

STATUS_LABELS = {"draft": _l("Draft"), "open": _l("Open"), "closed": _l("Closed")}
KIND_LABELS = {"nps": _l("NPS (0-10)"), "rating": _l("Rating (1-5)"),
               "single_choice": _l("Single choice"), "multi_choice": _l("Multiple choice"),
               "short_text": _l("Short text"), "long_text": _l("Long text")}
OUTCOME_LABELS = {"sent": _l("sent"), "no_consent": _l("skipped: no email-marketing consent"),
                  "erased": _l("skipped: erased card"), "no_email": _l("skipped: no email"),
                  "answered": _l("skipped: already answered"), "unknown": _l("not found"),
                  "undeliverable": _l("skipped: the address cannot be used")}
REMINDERS_PER_CLICK = 500  # the hourly job sends the rest


class SurveyForm(FlaskForm):
    title_zh = StringField(_l("Title (Chinese)"), render_kw={"maxlength": surveys.TITLE_MAX})
    title_en = StringField(_l("Title (English)"), render_kw={"maxlength": surveys.TITLE_MAX})
    intro_zh = TextAreaField(_l("Introduction (Chinese)"), render_kw={"rows": 3})
    intro_en = TextAreaField(_l("Introduction (English)"), render_kw={"rows": 3})
    invite_days = IntegerField(_l("Personal links stay valid for (days)"), default=14,
                               validators=[InputRequired(_l("Enter a number of days.")),
                                           NumberRange(*surveys.INVITE_DAYS)])
    # Empty means no reminder; the range is the service's rule (message at the field).
    reminder_days = IntegerField(_l("Remind after (days)"), validators=[Optional()],
                                 render_kw={"min": surveys.REMINDER_DAYS[0],
                                            "max": surveys.REMINDER_DAYS[1]})
    task_on_detractor = BooleanField(_l("Create a follow-up task for the card's owner when "
                                        "a customer gives NPS 0-6 or a rating of 1-2"),
                                     default=True)


class QuestionForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: [SelectChoice(code, text)
                                                    for code, text in KIND_LABELS.items()])
    text_zh = TextAreaField(_l("Question (Chinese)"), render_kw={"rows": 2})
    text_en = TextAreaField(_l("Question (English)"), render_kw={"rows": 2})
    required = BooleanField(_l("An answer is required"), default=True)
    choices_zh = TextAreaField(_l("Choices (Chinese), one per line"), render_kw={"rows": 4})
    choices_en = TextAreaField(_l("Choices (English), one per line"), render_kw={"rows": 4})
    maps_to = SelectField(_l("Save the answer to the card"), validate_choice=False)


class InviteForm(FlaskForm):
    public_ids = TextAreaField(_l("Card numbers, one per line"), render_kw={"rows": 4})


def _lang():
    return str(get_locale() or "zh")[:2]



def _survey_or_404(public_id):
    return surveys.find(public_id) or abort(404)


def _question_or_404(survey, question_id):
    if not question_id.isascii() or not question_id.isdigit() or len(question_id) > 12:
        abort(404)
    return (SurveyQuestion.get_or_none(SurveyQuestion.id == int(question_id),
                                       SurveyQuestion.survey == survey) or abort(404))


def _question_form(formdata=None, obj=None):
    form = QuestionForm(formdata=formdata, obj=obj)
    lang = _lang()
    form.maps_to.choices = [SelectChoice("", _("Nothing (only in the results)"))] + [
        SelectChoice(code, (label_en if lang == "en" else label_zh) or label_zh)
        for code, label_zh, label_en, _kind in surveys.mapping_targets()]
    if obj is not None and formdata is None and obj.choices and not obj.maps_to:
        form.choices_zh.data = "\n".join(c.get("zh", "") for c in obj.choices)
        form.choices_en.data = "\n".join(c.get("en", "") for c in obj.choices)
    return form


@bp.route("/")
def index():
    page = Page(surveys.list_query(), per_page=50)
    return render_template("backoffice/surveys/index.html", page=page, statuses=STATUS_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            survey = surveys.create_survey(staff_actor(), current_user.user, form.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Survey created. Now add its questions."), "success")
            return redirect(url_for(".detail", public_id=survey.public_id))
    return render_template("backoffice/surveys/new.html", form=form)


def _show(survey, settings_form=None, question_form=None, invite_form=None, counts=None):
    if settings_form is None:
        settings_form = SurveyForm(obj=survey)
    public_url = survey_invites.public_link(survey) if survey.public_token else None
    return render_template(
        "backoffice/surveys/detail.html", survey=survey, form=settings_form,
        question_form=question_form or _question_form(), invite_form=invite_form or InviteForm(),
        questions=surveys.questions(survey), editable=surveys.questions_editable(survey),
        has_responses=surveys.has_responses(survey), statuses=STATUS_LABELS,
        kinds=KIND_LABELS, targets={c: (zh, en) for c, zh, en, _k in surveys.mapping_targets()},
        public_url=public_url, counts=counts, outcomes=OUTCOME_LABELS, empty=EmptyForm(),
        reminders=survey_reminders.overview(survey))


@bp.route("/<public_id>")
def detail(public_id):
    return _show(_survey_or_404(public_id))


@bp.route("/<public_id>/settings", methods=["POST"])
def settings(public_id):
    survey = _survey_or_404(public_id)
    form = SurveyForm()
    if form.validate_on_submit():
        try:
            surveys.update_survey(survey, staff_actor(), form.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Survey saved."), "success")
            return redirect(url_for(".detail", public_id=public_id))
    return _show(survey, settings_form=form)


@bp.route("/<public_id>/status", methods=["POST"])
def status(public_id):
    survey = _survey_or_404(public_id)
    if EmptyForm().validate_on_submit():
        try:
            surveys.set_status(survey, request.form.get("status"), staff_actor())
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            flash(_("The survey is now %(status)s.", status=STATUS_LABELS[survey.status]),
                  "success")
    return redirect(url_for(".detail", public_id=public_id))


@bp.route("/<public_id>/questions", methods=["POST"])
def add_question(public_id):
    survey = _survey_or_404(public_id)
    form = _question_form(request.form)
    if form.validate_on_submit():
        try:
            surveys.add_question(survey, staff_actor(), form.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Question added."), "success")
            return redirect(url_for(".detail", public_id=public_id) + "#questions")
    return _show(survey, question_form=form)


@bp.route("/<public_id>/questions/<question_id>", methods=["GET", "POST"])
def edit_question(public_id, question_id):
    survey = _survey_or_404(public_id)
    question = _question_or_404(survey, question_id)
    form = (_question_form(request.form) if request.method == "POST"
            else _question_form(obj=question))
    if form.validate_on_submit():
        try:
            surveys.update_question(question, staff_actor(), form.data)
        except DomainError as exc:
            show_errors(form, exc)
        else:
            flash(_("Question saved."), "success")
            return redirect(url_for(".detail", public_id=public_id) + "#questions")
    return render_template("backoffice/surveys/question.html", survey=survey,
                           question=question, form=form,
                           editable=surveys.questions_editable(survey))


def _question_action(public_id, question_id, act, done):
    survey = _survey_or_404(public_id)
    question = _question_or_404(survey, question_id)
    if EmptyForm().validate_on_submit():
        try:
            act(question)
        except DomainError as exc:
            flash(_(exc.message, **exc.params), "danger")
        else:
            if done:
                flash(done, "success")
    return redirect(url_for(".detail", public_id=public_id) + "#questions")


@bp.route("/<public_id>/questions/<question_id>/move", methods=["POST"])
def move_question(public_id, question_id):
    direction = request.form.get("direction")
    return _question_action(public_id, question_id,
                            lambda q: surveys.move_question(q, direction, staff_actor()), None)


@bp.route("/<public_id>/questions/<question_id>/delete", methods=["POST"])
def delete_question(public_id, question_id):
    return _question_action(public_id, question_id,
                            lambda q: surveys.delete_question(q, staff_actor()),
                            _("Question deleted."))


@bp.route("/<public_id>/public-link", methods=["POST"])
def public_link(public_id):
    survey = _survey_or_404(public_id)
    if EmptyForm().validate_on_submit():
        if request.form.get("action") == "revoke":
            survey_invites.revoke_public_token(survey, staff_actor())
            flash(_("The anonymous link no longer works."), "success")
        else:
            survey_invites.ensure_public_token(survey, staff_actor())
            flash(_("Anonymous link ready: anyone with it can answer, without a name."),
                  "success")
    return redirect(url_for(".detail", public_id=public_id) + "#sharing")


@bp.route("/<public_id>/invites", methods=["POST"])
def invite(public_id):
    survey = _survey_or_404(public_id)
    form = InviteForm()
    counts = None
    if form.validate_on_submit():
        try:
            counts = survey_invites.send_invites(
                survey, re.split(r"[\s,，;；]+", form.public_ids.data or ""), staff_actor())
        except DomainError as exc:
            show_error(form, exc, "public_ids")
        else:
            flash(_("Invitations: %(sent)s sent.", sent=counts["sent"]), "success")
    return _show(survey, invite_form=form, counts=counts)


@bp.route("/<public_id>/reminders", methods=["POST"])
def send_reminders(public_id):
    survey = _survey_or_404(public_id)
    if EmptyForm().validate_on_submit():
        counts = survey_reminders.send_reminders(limit=REMINDERS_PER_CLICK, survey=survey,
                                                 actor=staff_actor())
        skipped = "; ".join(f"{n} {OUTCOME_LABELS[code]}" for code, n in counts.items()
                            if n and code != "sent")
        flash(_("Reminders: %(sent)s sent.", sent=counts["sent"])
              + (f" {skipped}" if skipped else ""), "success")
    return redirect(url_for(".detail", public_id=public_id) + "#reminders")


# --- results ------------------------------------------------------------------------------------

def _filters():
    tier = request.args.get("tier", "")
    segment = request.args.get("segment", "")
    return survey_results.Filters(
        tier=Tier.get_or_none(Tier.code == tier) if tier else None,
        segment=(Segment.get_or_none(Segment.public_id == segment)
                 if segment and "\x00" not in segment else None))


@bp.route("/<public_id>/results")
def results(public_id):
    survey = _survey_or_404(public_id)
    filters = _filters()
    tiers, segments = survey_results.tiers_and_segments()
    page = Page(survey_results.text_answers(survey, filters), per_page=20)
    return render_template(
        "backoffice/surveys/results.html", survey=survey, filters=filters,
        funnel=survey_results.funnel(survey, filters),
        results=survey_results.question_results(survey, filters, _lang()), page=page,
        tiers=tiers, segments=segments, kinds=KIND_LABELS, statuses=STATUS_LABELS,
        args={k: v for k, v in request.args.items() if k in ("tier", "segment") and v})


def _download(body, mimetype, filename):
    return Response(body, mimetype=mimetype, headers={
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store"})


@bp.route("/<public_id>/results.csv")
def export_csv(public_id):
    survey = _survey_or_404(public_id)
    body = survey_results.export_csv(survey, _filters(), _lang(), staff_actor())
    return _download(body, "text/csv; charset=utf-8", f"survey-{survey.public_id}.csv")


@bp.route("/<public_id>/results.xlsx")
def export_xlsx(public_id):
    survey = _survey_or_404(public_id)
    body = survey_results.export_xlsx(survey, _filters(), _lang(), staff_actor())
    return _download(body, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     f"survey-{survey.public_id}.xlsx")
