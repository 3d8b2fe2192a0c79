"""Surveys: the builder (titles, intros and questions in zh and en, their order, the status)
and answer-to-card mappings (preference or consent). Reaching people (the anonymous link and
personal invitations) lives in services/survey_invites.py, answering in
services/survey_answers.py, results in services/survey_results.py."""
from peewee import fn

import models
from models import (
    QUESTION_KINDS,
    ConsentPurpose,
    Survey,
    SurveyQuestion,
    SurveyResponse,
)
from services import N_, DomainError, audit, preferences
from services.profile import FieldErrors
from services.text import clean_text

STATUSES = ("draft", "open", "closed")
CHOICE_KINDS = ("single_choice", "multi_choice")
SCORE_RANGES = {"nps": (0, 10), "rating": (1, 5)}
TITLE_MAX, INTRO_MAX, QUESTION_MAX, CHOICE_MAX, MAX_CHOICES = 200, 4000, 1000, 200, 20
MAX_QUESTIONS = 50
INVITE_DAYS = (1, 365)
REMINDER_DAYS = (1, 60)  # empty: no reminder
YES_NO = [{"value": "yes", "zh": "是", "en": "Yes"}, {"value": "no", "zh": "否", "en": "No"}]
# preference field kind -> the question kind that can fill it
PREF_KINDS = {"choice": "single_choice", "multi_choice": "multi_choice"}


def text_in(obj, field, lang):
    """obj.<field>_<lang>, falling back to the other language when staff left it blank."""
    other = "en" if lang == "zh" else "zh"
    return getattr(obj, f"{field}_{lang}", "") or getattr(obj, f"{field}_{other}", "") or ""


def _collect(checks):
    """Run each (key, callable) check; {key: value} or FieldErrors naming every wrong field."""
    values, errors = {}, {}
    for key, check in checks:
        try:
            values[key] = check()
        except DomainError as exc:
            errors[exc.field or key] = (exc.message, exc.params)
    if errors:
        raise FieldErrors(errors)
    return values


def _clean_settings(data):
    def titles():
        zh = clean_text(data.get("title_zh"), "title_zh", TITLE_MAX)
        en = clean_text(data.get("title_en"), "title_en", TITLE_MAX)
        if not zh and not en:
            raise DomainError(N_("Give the survey a title in Chinese or in English."), "title_zh")
        return zh, en

    def days():
        value = data.get("invite_days")
        if not isinstance(value, int) or not INVITE_DAYS[0] <= value <= INVITE_DAYS[1]:
            raise DomainError(N_("Enter a number of days from %(low)d to %(high)d."),
                              "invite_days", low=INVITE_DAYS[0], high=INVITE_DAYS[1])
        return value

    def reminder():
        value = data.get("reminder_days")
        if value is None or value == "":
            return None
        if not isinstance(value, int) or not REMINDER_DAYS[0] <= value <= REMINDER_DAYS[1]:
            raise DomainError(N_("Enter a number of days from %(low)d to %(high)d, or leave it "
                                 "empty for no reminder."), "reminder_days",
                              low=REMINDER_DAYS[0], high=REMINDER_DAYS[1])
        invite_days = data.get("invite_days")
        if isinstance(invite_days, int) and value >= invite_days:
            # The link would have expired before the reminder went out.
            raise DomainError(N_("Remind before the links expire: use fewer days than they "
                                 "stay valid (%(days)d)."), "reminder_days", days=invite_days)
        return value

    values = _collect([
        ("titles", titles),
        ("intro_zh", lambda: clean_text(data.get("intro_zh"), "intro_zh", INTRO_MAX,
                                        multiline=True)),
        ("intro_en", lambda: clean_text(data.get("intro_en"), "intro_en", INTRO_MAX,
                                        multiline=True)),
        ("invite_days", days), ("reminder_days", reminder)])
    values["title_zh"], values["title_en"] = values.pop("titles")
    values["task_on_detractor"] = bool(data.get("task_on_detractor"))
    return values


def _snapshot(survey):
    return {"title_zh": survey.title_zh, "title_en": survey.title_en, "status": survey.status,
            "invite_days": survey.invite_days, "reminder_days": survey.reminder_days,
            "task_on_detractor": survey.task_on_detractor}


def create_survey(actor, staff, data):
    """A new draft survey from ``data`` (titles, intros, invite_days, reminder_days,
    task_on_detractor)."""
    values = _clean_settings(data)
    with models.atomic():
        survey = Survey.create(created_by=staff, **values)
        audit.record(actor, "survey.create", "survey", survey.public_id,
                     after=_snapshot(survey))
    return survey


def update_survey(survey, actor, data):
    """Change a survey's titles, intros and settings (allowed in every status)."""
    values = _clean_settings(data)
    with models.atomic():
        before = _snapshot(survey)
        for key, value in values.items():
            setattr(survey, key, value)
        survey.save(only=[getattr(Survey, key) for key in values])
        audit.record(actor, "survey.update", "survey", survey.public_id, before=before,
                     after=_snapshot(survey))
    return survey


def has_responses(survey):
    return SurveyResponse.select().where(SurveyResponse.survey == survey).exists()


def questions_editable(survey):
    """Questions change only while the survey is a draft or nobody has answered yet."""
    return survey.status == "draft" or not has_responses(survey)


def set_status(survey, status, actor):
    """Open, close, reopen or return to draft (only while nobody has answered)."""
    if status not in STATUSES:
        raise DomainError(N_("Choose a status."), "status")
    if status == "open" and not survey.questions.exists():
        raise DomainError(N_("Add at least one question before opening the survey."), "status")
    if status == "draft" and has_responses(survey):
        raise DomainError(N_("This survey has answers: it can be closed, not made a draft "
                             "again."), "status")
    with models.atomic():
        before = _snapshot(survey)
        survey.status = status
        survey.save(only=[Survey.status])
        audit.record(actor, "survey.status", "survey", survey.public_id, before=before,
                     after=_snapshot(survey))
    return survey


def find(public_id):
    if not public_id or "\x00" in public_id:
        return None
    return Survey.get_or_none(Survey.public_id == public_id)


def list_query():
    """Surveys newest first, each with its number of answers (one query)."""
    answered = (SurveyResponse.select(fn.COUNT(SurveyResponse.id))
                .where(SurveyResponse.survey == Survey.id))
    return (Survey.select(Survey, answered.alias("response_count"))
            .order_by(Survey.created_at.desc(), Survey.id.desc()))


# --- questions ----------------------------------------------------------------------------------

def mapping_targets():
    """[(code, label_zh, label_en, question kind)] a question can fill: preference fields the
    portal lets customers edit (choice kinds), and non-sensitive consent purposes (yes/no)."""
    targets = []
    for field in preferences.editable(preferences.portal_fields()).values():
        if field.kind in PREF_KINDS and field.choices:
            targets.append((f"pref:{field.key}", field.label_zh, field.label_en,
                            PREF_KINDS[field.kind]))
    for purpose in (ConsentPurpose.select()
                    .where(ConsentPurpose.active == True,
                           ConsentPurpose.is_sensitive == False)
                    .order_by(ConsentPurpose.position, ConsentPurpose.id)):
        targets.append((f"consent:{purpose.code}", purpose.name_zh, purpose.name_en,
                        "single_choice"))
    return targets


def _choices_from_lines(zh_text, en_text):
    zh = [" ".join(x.split()) for x in (zh_text or "").splitlines() if x.strip()]
    en = [" ".join(x.split()) for x in (en_text or "").splitlines() if x.strip()]
    if not zh and not en:
        raise DomainError(N_("Write the choices, one per line."), "choices_zh")
    if zh and en and len(zh) != len(en):
        raise DomainError(N_("Write as many English choices as Chinese ones (%(zh)d and "
                             "%(en)d now), in the same order."), "choices_en",
                          zh=len(zh), en=len(en))
    count = max(len(zh), len(en))
    if count < 2 or count > MAX_CHOICES:
        raise DomainError(N_("Give from 2 to %(max)d choices."), "choices_zh", max=MAX_CHOICES)
    for text in zh + en:
        if len(text) > CHOICE_MAX or "\x00" in text:
            raise DomainError(N_("Each choice can have at most %(max)d characters."),
                              "choices_zh", max=CHOICE_MAX)
    return [{"value": f"c{i + 1}", "zh": zh[i] if zh else en[i], "en": en[i] if en else zh[i]}
            for i in range(count)]


def _mapped_choices(maps_to, kind):
    """The fixed choices of a mapped question (the field's, or yes/no), or DomainError."""
    target = {code: target_kind for code, _zh, _en, target_kind in mapping_targets()}
    if maps_to not in target:
        raise DomainError(N_("Choose a card field from the list."), "maps_to")
    if target[maps_to] != kind:
        raise DomainError(N_("This card field needs a question of another kind: single choice "
                             "for a choice field or a consent, multiple choice for a "
                             "multiple-choice field."), "maps_to")
    if maps_to.startswith("consent:"):
        return [dict(choice) for choice in YES_NO]
    field = preferences.fields_by_key([maps_to[len("pref:"):]])[maps_to[len("pref:"):]]
    return [{"value": str(c.get("value")), "zh": c.get("zh") or str(c.get("value")),
             "en": c.get("en") or c.get("zh") or str(c.get("value"))} for c in field.choices]


def _clean_question(data):
    kind = data.get("kind")
    if kind not in QUESTION_KINDS:
        raise FieldErrors({"kind": (N_("Choose a kind of question."), {})})
    maps_to = (data.get("maps_to") or "").strip() or None

    def texts():
        zh = clean_text(data.get("text_zh"), "text_zh", QUESTION_MAX, multiline=True)
        en = clean_text(data.get("text_en"), "text_en", QUESTION_MAX, multiline=True)
        if not zh and not en:
            raise DomainError(N_("Write the question in Chinese or in English."), "text_zh")
        return zh, en

    def choices():
        if maps_to:
            return _mapped_choices(maps_to, kind)
        if kind in CHOICE_KINDS:
            return _choices_from_lines(data.get("choices_zh"), data.get("choices_en"))
        return None

    values = _collect([("texts", texts), ("choices", choices)])
    values["text_zh"], values["text_en"] = values.pop("texts")
    values.update(kind=kind, maps_to=maps_to, required=bool(data.get("required")))
    return values


def _question_snapshot(question):
    return {"kind": question.kind, "text_zh": question.text_zh, "text_en": question.text_en,
            "required": question.required, "choices": question.choices,
            "maps_to": question.maps_to, "position": question.position}


def _require_editable(survey):
    if not questions_editable(survey):
        raise DomainError(N_("People have answered this survey, so its questions can no longer "
                             "change. Copy it into a new survey to ask something else."))


def add_question(survey, actor, data):
    """Append a question (kind, texts, required, choices or a card-field mapping)."""
    _require_editable(survey)
    values = _clean_question(data)
    with models.atomic():
        count = survey.questions.count()
        if count >= MAX_QUESTIONS:
            raise DomainError(N_("A survey can have at most %(max)d questions."),
                              max=MAX_QUESTIONS)
        last = (SurveyQuestion.select(fn.MAX(SurveyQuestion.position))
                .where(SurveyQuestion.survey == survey).scalar())
        question = SurveyQuestion.create(survey=survey, position=(last or 0) + 1, **values)
        audit.record(actor, "survey.question_add", "survey", survey.public_id,
                     after=_question_snapshot(question))
    return question


def update_question(question, actor, data):
    """Change a question while the survey's questions are still editable."""
    _require_editable(question.survey)
    values = _clean_question(data)
    with models.atomic():
        before = _question_snapshot(question)
        for key, value in values.items():
            setattr(question, key, value)
        question.save()
        audit.record(actor, "survey.question_update", "survey", question.survey.public_id,
                     before=before, after=_question_snapshot(question))
    return question


def delete_question(question, actor):
    _require_editable(question.survey)
    with models.atomic():
        audit.record(actor, "survey.question_delete", "survey", question.survey.public_id,
                     before=_question_snapshot(question))
        question.delete_instance()


def move_question(question, direction, actor):
    """Swap a question with its neighbour above ("up") or below ("down")."""
    _require_editable(question.survey)
    ordered = list(question.survey.questions.order_by(SurveyQuestion.position,
                                                      SurveyQuestion.id))
    index = next(i for i, q in enumerate(ordered) if q.id == question.id)
    other = index - 1 if direction == "up" else index + 1
    if direction not in ("up", "down") or not 0 <= other < len(ordered):
        return
    ordered[index], ordered[other] = ordered[other], ordered[index]
    with models.atomic():
        for position, item in enumerate(ordered, start=1):
            if item.position != position:
                SurveyQuestion.update(position=position).where(
                    SurveyQuestion.id == item.id).execute()
        audit.record(actor, "survey.question_move", "survey", question.survey.public_id,
                     after={"order": [q.id for q in ordered]})


def questions(survey):
    return list(survey.questions.order_by(SurveyQuestion.position, SurveyQuestion.id))
