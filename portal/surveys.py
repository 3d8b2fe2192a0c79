"""Answering a survey from an emailed link or the survey's anonymous link, without signing in.

GET shows the form and never submits (mail scanners follow links); it records the first opening
of a personal link. POST validates and stores the answers once. The anonymous link is bounded
per browser (a mark in the signed session cookie) and per IP address (a shared rate limit).
"""
from flask import Blueprint, current_app, render_template, request, session
from flask_babel import get_locale
from flask_babel import gettext as _

from services import survey_answers
from services.profile import FieldErrors
from services.survey_answers import SurveyUnavailable
from services.surveys import questions, text_in
from webcore.errors import render_error
from webcore.forms import EmptyForm
from webcore.signin import AttemptLimiter, client_ip

bp = Blueprint("surveys", __name__)

PUBLIC_RATE = "20 per hour"  # anonymous answers per IP address and survey
ANSWERED_KEY = "answered_surveys"  # survey ids this browser answered anonymously
STATUS = {"invalid": 404, "expired": 410, "closed": 410, "answered": 200}


@bp.record_once
def _limiter(state):
    state.app.extensions["cc_survey_limiter"] = AttemptLimiter(
        state.app.config["RATELIMIT_STORAGE_URI"], PUBLIC_RATE)


def _lang():
    return str(get_locale() or "zh")[:2]


def _unavailable(exc):
    return render_template("portal/surveys/unavailable.html", reason=exc.reason,
                           message=_(exc.message)), STATUS[exc.reason]


def _submitted(survey_questions):
    names = [survey_answers.field_name(q) for q in survey_questions]
    return {name: request.form.getlist(name) for name in names}


def _page(survey, customer=None, values=None, errors=None):
    lang = _lang()
    return render_template("portal/surveys/answer.html", survey=survey, customer=customer,
                           questions=questions(survey), values=values or {},
                           errors=errors or {}, form=EmptyForm(), field_name=survey_answers.field_name,
                           text=lambda obj, field: text_in(obj, field, lang))


def _errors(exc):
    return {name: _(message, **params) for name, (message, params) in exc.errors.items()}


def _where():
    return {"ip": client_ip(), "user_agent": request.user_agent.string}


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token):
    try:
        invite = survey_answers.open_personal(token)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    survey, customer = invite.survey, invite.customer
    if request.method == "GET":
        survey_answers.mark_opened(invite)
        return _page(survey, customer)
    submitted = _submitted(questions(survey))
    if not EmptyForm().validate_on_submit():
        return _page(survey, customer, submitted), 400
    try:
        survey_answers.submit_personal(token, submitted, _lang(), **_where())
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    except FieldErrors as exc:
        return _page(survey, customer, submitted, _errors(exc))
    return render_template("portal/surveys/thanks.html", survey=survey, customer=customer)


@bp.route("/survey/p/<token>", methods=["GET", "POST"])
def answer_public(token):
    try:
        survey = survey_answers.open_public(token)
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    if survey.public_id in session.get(ANSWERED_KEY, []):
        return _unavailable(SurveyUnavailable("answered"))
    if request.method == "GET":
        return _page(survey)
    submitted = _submitted(questions(survey))
    if not EmptyForm().validate_on_submit():
        return _page(survey, values=submitted), 400
    limiter = current_app.extensions["cc_survey_limiter"]
    if not limiter.allow(f"survey-{survey.public_id}", f"ip:{client_ip()}"):
        return render_error(429)
    try:
        survey_answers.submit_public(token, submitted, _lang(), **_where())
    except SurveyUnavailable as exc:
        return _unavailable(exc)
    except FieldErrors as exc:
        return _page(survey, values=submitted, errors=_errors(exc))
    session[ANSWERED_KEY] = (session.get(ANSWERED_KEY, []) + [survey.public_id])[-50:]
    return render_template("portal/surveys/thanks.html", survey=survey, customer=None)
