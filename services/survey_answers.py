"""Answering a survey: the personal emailed link (one response per invitation, enforced by the
database), the anonymous public link, validation of the answers, and what an answer sets off:
mapped card updates (preferences, consent) and a follow-up task for a detractor, all in the one
transaction that stores the response."""
import datetime
import unicodedata

from peewee import IntegrityError

import models
from models import StaffUser, Survey, SurveyAnswer, SurveyInvite, SurveyResponse
from services import N_, DomainError, audit, consent, links, preferences, tasks
from services.actors import Actor
from services.links import LinkError
from services.profile import FieldErrors
from services.survey_invites import LINK_PURPOSE
from services.surveys import SCORE_RANGES, questions, text_in

TEXT_LIMITS = {"short_text": 500, "long_text": 5000}
DETRACTOR = {"nps": 6, "rating": 2}  # this score or lower asks for a follow-up
FOLLOW_UP_DAYS = 1


UNAVAILABLE = {
    "invalid": N_("This survey link is not valid. Check that you copied all of it."),
    "expired": N_("This survey link has expired. Thank you for your interest."),
    "closed": N_("This survey is closed. Thank you for your interest."),
    "answered": N_("You have already answered this survey. Thank you!"),
}


class SurveyUnavailable(DomainError):
    """The survey cannot be answered through this link: ``reason`` is invalid, expired,
    closed or answered."""

    def __init__(self, reason):
        super().__init__(UNAVAILABLE[reason])
        self.reason = reason


# --- opening a link -----------------------------------------------------------------------------

def open_personal(token):
    """The invitation behind a personal link, if it can be answered now; else
    SurveyUnavailable. Changes nothing (GET pages call it)."""
    try:
        row = links.peek(LINK_PURPOSE, token)
    except LinkError as exc:
        raise SurveyUnavailable("expired" if exc.reason == "expired" else "invalid") from exc
    invite = (SurveyInvite.select(SurveyInvite, Survey).join(Survey)
              .where(SurveyInvite.public_id == (row.data or {}).get("invite"),
                     SurveyInvite.customer == row.customer_id).first())
    if invite is None or invite.customer.erased_at is not None:
        raise SurveyUnavailable("invalid")
    if invite.responded_at is not None:
        raise SurveyUnavailable("answered")
    if invite.survey.status != "open":
        raise SurveyUnavailable("closed")
    if invite.expires_at <= models.utcnow():
        raise SurveyUnavailable("expired")
    return invite


def mark_opened(invite):
    """Record the first time the customer opened the link (for the response rate)."""
    (SurveyInvite.update(opened_at=models.utcnow())
     .where(SurveyInvite.id == invite.id, SurveyInvite.opened_at.is_null()).execute())


def open_public(token):
    """The survey behind an anonymous public link, if it is open; else SurveyUnavailable."""
    survey = (None if not token or "\x00" in token
              else Survey.get_or_none(Survey.public_token == token))
    if survey is None:
        raise SurveyUnavailable("invalid")
    if survey.status != "open":
        raise SurveyUnavailable("closed")
    return survey


# --- validation ---------------------------------------------------------------------------------

def field_name(question):
    return f"q{question.id}"


def _one(raw):
    items = [item for item in (raw or []) if item is not None]
    return str(items[-1]).strip() if items else ""


def _clean_score(question, raw):
    text = unicodedata.normalize("NFKC", _one(raw))
    if not text:
        return None, None
    low, high = SCORE_RANGES[question.kind]
    if not text.isdigit() or not low <= int(text) <= high:
        raise DomainError(N_("Choose a score from %(low)d to %(high)d."), low=low, high=high)
    return int(text), int(text)


def _clean_choice(question, raw):
    codes = [str(c.get("value")) for c in (question.choices or [])]
    chosen = {str(item).strip() for item in (raw or []) if str(item).strip()}
    if chosen - set(codes):
        raise DomainError(N_("Choose from the options shown."))
    if question.kind == "single_choice":
        if len(chosen) > 1:
            raise DomainError(N_("Choose one option."))
        return (chosen.pop() if chosen else None), None
    return ([code for code in codes if code in chosen] or None), None


def _clean_text(question, raw):
    text = unicodedata.normalize("NFC", _one(raw)).replace("\r\n", "\n")
    if question.kind == "short_text":
        text = " ".join(text.split())
    if any(unicodedata.category(ch) == "Cc" and ch not in "\n\t" for ch in text):
        raise DomainError(N_("This text contains characters that cannot be saved."))
    limit = TEXT_LIMITS[question.kind]
    if len(text) > limit:
        raise DomainError(N_("Use at most %(max)d characters (now %(count)d)."),
                          max=limit, count=len(text))
    return (text.strip() or None), None


def clean_answers(survey_questions, submitted):
    """{question: (value, number)} of the answered questions, from ``submitted`` (field name ->
    list of strings); FieldErrors names every wrong or missing required answer at once."""
    cleaned, errors = {}, {}
    for question in survey_questions:
        raw = submitted.get(field_name(question))
        try:
            if question.kind in SCORE_RANGES:
                value, number = _clean_score(question, raw)
            elif question.kind in ("single_choice", "multi_choice"):
                value, number = _clean_choice(question, raw)
            else:
                value, number = _clean_text(question, raw)
            if value is None and question.required:
                raise DomainError(N_("Please answer this question."))
        except DomainError as exc:
            errors[field_name(question)] = (exc.message, exc.params)
            continue
        if value is not None:
            cleaned[question] = (value, number)
    if errors:
        raise FieldErrors(errors)
    return cleaned


# --- submitting ---------------------------------------------------------------------------------

def submit_personal(token, submitted, locale, ip=None, user_agent=None):
    """Store the invited customer's answers once, with their mapped card updates and a
    follow-up task for a detractor. A second submission (or a double click racing the first)
    raises SurveyUnavailable("answered"); the database's unique invite makes sure."""
    invite = open_personal(token)
    survey, customer = invite.survey, invite.customer
    answers = clean_answers(questions(survey), submitted)
    actor = Actor("link", customer.id, "survey link", ip, (user_agent or "")[:255] or None)
    try:
        with models.atomic():
            response = SurveyResponse.create(survey=survey, invite=invite, customer=customer,
                                             locale=_locale(locale))
            _store(response, answers)
            (SurveyInvite.update(responded_at=response.submitted_at)
             .where(SurveyInvite.id == invite.id).execute())
            _apply_mappings(customer, answers, actor, ip, user_agent)
            if survey.task_on_detractor:
                _follow_up(survey, customer, answers, actor)
            audit.record(actor, "survey.respond", "survey_response", response.public_id,
                         customer_id=customer.id,
                         after={"survey": survey.public_id, "answers": len(answers)})
    except IntegrityError as exc:
        raise SurveyUnavailable("answered") from exc
    return response


def submit_public(token, submitted, locale, ip=None, user_agent=None):
    """Store an anonymous response through the survey's public link (no card is touched)."""
    survey = open_public(token)
    answers = clean_answers(questions(survey), submitted)
    actor = Actor("link", None, "public survey link", ip, (user_agent or "")[:255] or None)
    with models.atomic():
        response = SurveyResponse.create(survey=survey, locale=_locale(locale))
        _store(response, answers)
        audit.record(actor, "survey.respond", "survey_response", response.public_id,
                     after={"survey": survey.public_id, "answers": len(answers)})
    return response


def _locale(locale):
    return locale if locale in ("zh", "en") else "zh"


def _store(response, answers):
    rows = [{"response": response.id, "question": question.id, "value": value,
             "number": number} for question, (value, number) in answers.items()]
    if rows:
        SurveyAnswer.insert_many(rows).execute()


def _apply_mappings(customer, answers, actor, ip, user_agent):
    """Mapped answers update the card through the portal's own services (same rules, same
    audit). A mapping that no longer fits (the field was locked, the purpose retired) is
    skipped: the customer's response still counts."""
    editable = preferences.editable(preferences.portal_fields())
    prefs = {}
    for question, (value, _number) in answers.items():
        target = question.maps_to or ""
        if target.startswith("pref:") and target[5:] in editable:
            prefs[target[5:]] = value
        elif target.startswith("consent:") and value in ("yes", "no"):
            change = consent.grant if value == "yes" else consent.withdraw
            try:
                change(customer, target[8:], actor, "survey", ip, user_agent)
            except DomainError:
                continue
    if prefs:
        try:
            preferences.update_preferences(customer, prefs, actor)
        except DomainError:  # refused before anything was written
            pass


def _follow_up(survey, customer, answers, actor):
    low = [(question, number) for question, (_value, number) in answers.items()
           if question.kind in DETRACTOR and number is not None
           and number <= DETRACTOR[question.kind]]
    if not low:
        return
    owner = (StaffUser.get_or_none(StaffUser.id == customer.owner_id, StaffUser.is_active == True)
             if customer.owner_id else None)
    scores = ", ".join(f"{'NPS' if q.kind == 'nps' else '★'} {n}/{SCORE_RANGES[q.kind][1]}"
                       for q, n in low)
    title = f"{scores} · {text_in(survey, 'title', 'zh')}"[:tasks.TITLE_MAX]
    notes = "\n".join(f"{text_in(q, 'text', 'zh')}: {n}" for q, n in low)[:tasks.NOTES_MAX]
    tasks.create_follow_up(customer, actor, title=title,
                           due_date=tasks.today() + datetime.timedelta(days=FOLLOW_UP_DAYS),
                           assignee=owner, kind="survey", notes=notes)
