"""Survey results: invitation funnel, NPS, rating averages and choice distributions (each one
GROUP BY in SQL, never a Python loop over all answers), the text answers page by page, and the
exports (CSV with a BOM, XLSX), safe to open in Excel and audited."""
import csv
import io
import json
import re
from functools import lru_cache

from babel.support import Translations
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from peewee import JOIN, fn

import config
import models
from models import (
    Customer,
    Segment,
    SegmentMember,
    SurveyAnswer,
    SurveyInvite,
    SurveyQuestion,
    SurveyResponse,
    Tier,
)
from services import N_, audit, consent, survey_reminders
from services.surveys import SCORE_RANGES, questions, text_in

TEXT_KINDS = ("short_text", "long_text")
CHOICE_KINDS = ("single_choice", "multi_choice")
EXPORT_HEADER = (N_("Response"), N_("Submitted (UTC)"), N_("Card"))
FORMULA_START = ("=", "+", "-", "@")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Filters:
    """Which responses the results count: all, or those of one tier and/or one segment."""

    def __init__(self, tier=None, segment=None):
        self.tier, self.segment = tier, segment

    def customers(self, query, column):
        """``query`` narrowed to rows whose customer ``column`` is in the filter."""
        if self.tier is not None:
            query = query.where(column.in_(Customer.select(Customer.id)
                                           .where(Customer.tier == self.tier)))
        if self.segment is not None:
            query = query.where(column.in_(SegmentMember.select(SegmentMember.customer)
                                           .where(SegmentMember.segment == self.segment)))
        return query


def responses(survey, filters):
    """The ids of the responses the results count."""
    query = SurveyResponse.select(SurveyResponse.id).where(SurveyResponse.survey == survey)
    return filters.customers(query, SurveyResponse.customer)


def funnel(survey, filters):
    """Invitations made, sent, opened and answered, reminders sent (and skipped at send time),
    responses in all, and the response rate."""
    query = filters.customers(
        SurveyInvite.select(fn.COUNT(SurveyInvite.id).alias("invited"),
                            fn.COUNT(SurveyInvite.sent_at).alias("sent"),
                            fn.COUNT(SurveyInvite.opened_at).alias("opened"),
                            fn.COUNT(SurveyInvite.responded_at).alias("answered"))
        .where(SurveyInvite.survey == survey), SurveyInvite.customer)
    row = query.dicts().get()
    invites = filters.customers(SurveyInvite.select(SurveyInvite.public_id)
                                .where(SurveyInvite.survey == survey), SurveyInvite.customer)
    reminders = survey_reminders.reminder_counts(invites)
    row["reminded"], row["reminder_skipped"] = reminders["sent"], reminders["skipped"]
    row["responses"] = responses(survey, filters).count()
    # Rates over every invitation: a campaign may invite before its mail is sent.
    row["rate"] = row["answered"] / row["invited"] if row["invited"] else None
    row["open_rate"] = row["opened"] / row["invited"] if row["invited"] else None
    return row


def _score_counts(response_ids):
    """{question id: {score: count}} for NPS and rating questions (one GROUP BY)."""
    counts = {}
    rows = (SurveyAnswer.select(SurveyAnswer.question, SurveyAnswer.number,
                                fn.COUNT(SurveyAnswer.id).alias("n"))
            .where(SurveyAnswer.response.in_(response_ids), SurveyAnswer.number.is_null(False))
            .group_by(SurveyAnswer.question, SurveyAnswer.number).tuples())
    for question_id, number, n in rows:
        counts.setdefault(question_id, {})[number] = n
    return counts


def _choice_counts(response_ids):
    """{question id: {choice code: count}} for choice questions: the JSON value (a code, or a
    list of codes) unnested in SQL and counted with one GROUP BY."""
    sub_sql, params = response_ids.sql()
    if models.is_postgres():
        codes = ("CROSS JOIN LATERAL jsonb_array_elements_text(CASE WHEN jsonb_typeof(a.value) "
                 "= 'array' THEN a.value ELSE jsonb_build_array(a.value) END) AS j(code)")
        code = "j.code"
    else:  # SQLite's json_each yields a scalar itself, and each item of an array
        codes, code = ", json_each(a.value) AS j", "j.value"
    sql = (f"SELECT a.question_id, {code}, COUNT(*) FROM survey_answer AS a "
           f"JOIN survey_question AS q ON q.id = a.question_id {codes} "
           f"WHERE q.kind IN ('single_choice', 'multi_choice') AND a.response_id IN ({sub_sql}) "
           f"GROUP BY a.question_id, {code}")
    counts = {}
    for question_id, choice, n in models.db.execute_sql(sql, params).fetchall():
        counts.setdefault(question_id, {})[str(choice)] = n
    return counts


def _answered_counts(response_ids):
    rows = (SurveyAnswer.select(SurveyAnswer.question, fn.COUNT(SurveyAnswer.id))
            .where(SurveyAnswer.response.in_(response_ids))
            .group_by(SurveyAnswer.question).tuples())
    return dict(rows)


def nps(counts):
    """Promoters (9-10), passives (7-8), detractors (0-6) and the score (-100 to 100)."""
    total = sum(counts.values())
    promoters = sum(n for score, n in counts.items() if score >= 9)
    detractors = sum(n for score, n in counts.items() if score <= 6)
    return {"promoters": promoters, "passives": total - promoters - detractors,
            "detractors": detractors,
            "score": round((promoters - detractors) * 100 / total) if total else None}


def question_results(survey, filters, lang):
    """Per question: how many answered, and its distribution as chart data."""
    ids = responses(survey, filters)
    scores, choices, answered = _score_counts(ids), _choice_counts(ids), _answered_counts(ids)
    results = []
    for question in questions(survey):
        item = {"question": question, "answered": answered.get(question.id, 0)}
        if question.kind in SCORE_RANGES:
            counts = scores.get(question.id, {})
            low, high = SCORE_RANGES[question.kind]
            total = sum(counts.values())
            item["average"] = (sum(s * n for s, n in counts.items()) / total) if total else None
            item["chart"] = {"labels": [str(s) for s in range(low, high + 1)],
                             "values": [counts.get(s, 0) for s in range(low, high + 1)]}
            if question.kind == "nps":
                item["nps"] = nps(counts)
        elif question.kind in CHOICE_KINDS:
            counts = choices.get(question.id, {})
            item["chart"] = {"labels": [c.get(lang) or c.get("zh") or c["value"]
                                        for c in question.choices or []],
                             "values": [counts.get(str(c["value"]), 0)
                                        for c in question.choices or []]}
        results.append(item)
    return results


def text_answers(survey, filters, question=None):
    """The text answers, newest first, with their question (paginate it)."""
    query = (SurveyAnswer.select(SurveyAnswer, SurveyQuestion, SurveyResponse)
             .join(SurveyQuestion).switch(SurveyAnswer).join(SurveyResponse)
             .where(SurveyQuestion.survey == survey, SurveyQuestion.kind.in_(TEXT_KINDS),
                    SurveyAnswer.response.in_(responses(survey, filters)))
             .order_by(SurveyResponse.submitted_at.desc(), SurveyAnswer.id.desc()))
    if question is not None:
        query = query.where(SurveyAnswer.question == question)
    return query


def tiers_and_segments():
    """The filters the results page offers: every tier, and the segments that have members."""
    tiers = list(Tier.select().order_by(Tier.rank.desc(), Tier.id))
    segments = list(Segment.select().where(fn.EXISTS(
        SegmentMember.select(SegmentMember.id).where(SegmentMember.segment == Segment.id)))
        .order_by(Segment.name))
    return tiers, segments


# --- exports ------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _catalogue(lang):
    return Translations.load(str(config.BASE_DIR / "translations"), [lang])


def _answer_text(question, value, lang):
    if value is None:
        return ""
    labels = {str(c.get("value")): c.get(lang) or c.get("zh") or c.get("value")
              for c in (question.choices or [])}
    if isinstance(value, list):
        return "; ".join(str(labels.get(str(v), v)) for v in value)
    return str(labels.get(str(value), value))


def export_rows(survey, filters, lang):
    """The header and one row per response (answers in question order), streamed from one
    query over the responses and their answers."""
    gettext = _catalogue(lang).gettext
    survey_questions = questions(survey)
    column = {q.id: i for i, q in enumerate(survey_questions)}
    by_id = {q.id: q for q in survey_questions}
    yield [gettext(title) for title in EXPORT_HEADER] + [
        text_in(q, "text", lang) for q in survey_questions]
    rows = (SurveyResponse.select(SurveyResponse.public_id, SurveyResponse.submitted_at,
                                  Customer.public_id.alias("card"), SurveyAnswer.question,
                                  SurveyAnswer.value)
            .join(Customer, JOIN.LEFT_OUTER).switch(SurveyResponse)
            .join(SurveyAnswer, JOIN.LEFT_OUTER)
            .where(SurveyResponse.id.in_(responses(survey, filters)))
            .order_by(SurveyResponse.submitted_at, SurveyResponse.id).namedtuples())
    current, cells = None, None
    for row in rows.iterator():
        if row.public_id != current:
            if cells is not None:
                yield cells
            current = row.public_id
            cells = [row.public_id, row.submitted_at.strftime("%Y-%m-%d %H:%M:%S"),
                     row.card or ""] + [""] * len(survey_questions)
        if row.question in column:
            cells[3 + column[row.question]] = _answer_text(by_id[row.question],
                                                           _loads(row.value), lang)
    if cells is not None:
        yield cells


def _loads(value):
    """namedtuples() gives SurveyAnswer.value decoded on PostgreSQL, raw JSON text on SQLite."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _audit_export(survey, actor, kind):
    audit.record(actor, "survey.export", "survey", survey.public_id, after={"format": kind})


def export_csv(survey, filters, lang, actor):
    """The responses as UTF-8 CSV with a BOM; no cell can run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in export_rows(survey, filters, lang):
        writer.writerow([consent.safe_cell(value) for value in row])
    _audit_export(survey, actor, "csv")
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _xlsx_cell(sheet, value):
    text = _CONTROL.sub("", str(value))
    if text[:1] not in FORMULA_START:
        return text
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # text: "=cmd|..." is shown, never calculated
    return cell


def export_xlsx(survey, filters, lang, actor):
    """The responses as an Excel workbook (write-only: rows streamed); every cell is text."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Responses")
    for row in export_rows(survey, filters, lang):
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    out = io.BytesIO()
    workbook.save(out)
    _audit_export(survey, actor, "xlsx")
    return out.getvalue()
