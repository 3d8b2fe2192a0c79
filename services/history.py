"""A customer's own history, read-only: purchases, service visits and survey answers.

Each function takes the signed-in customer's id and returns (rows, count query) for one paginated
list; a page of rows is one query (joins, never a query per row).
"""
from peewee import JOIN

from models import (
    Purchase,
    ServiceRecord,
    StaffUser,
    Survey,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)


def purchases(customer_id):
    """My purchases (not deleted), newest first."""
    mine = (Purchase.customer == customer_id) & Purchase.deleted_at.is_null()
    rows = (Purchase.select().where(mine)
            .order_by(Purchase.occurred_at.desc(), Purchase.id.desc()).namedtuples())
    return rows, Purchase.select(Purchase.id).where(mine)


def service_records(customer_id):
    """My service visits (not deleted), newest first, with the name of who served me."""
    mine = (ServiceRecord.customer == customer_id) & ServiceRecord.deleted_at.is_null()
    rows = (ServiceRecord.select(ServiceRecord, StaffUser.name.alias("staff_name"))
            .join(StaffUser, JOIN.LEFT_OUTER).where(mine)
            .order_by(ServiceRecord.occurred_at.desc(), ServiceRecord.id.desc()).namedtuples())
    return rows, ServiceRecord.select(ServiceRecord.id).where(mine)


def survey_responses(customer_id):
    """My submitted surveys, newest first, each with its survey (joined)."""
    mine = SurveyResponse.customer == customer_id
    rows = (SurveyResponse.select(SurveyResponse, Survey).join(Survey).where(mine)
            .order_by(SurveyResponse.submitted_at.desc(), SurveyResponse.id.desc()))
    return rows, SurveyResponse.select(SurveyResponse.id).where(mine)


def with_answers(responses):
    """[(response, [answer, ...])] for one page of responses: their answers and question texts
    in a single query, in question order."""
    by_response = {response.id: [] for response in responses}
    if by_response:
        answers = (SurveyAnswer.select(SurveyAnswer, SurveyQuestion).join(SurveyQuestion)
                   .where(SurveyAnswer.response.in_(list(by_response)))
                   .order_by(SurveyQuestion.position, SurveyQuestion.id))
        for answer in answers:
            by_response[answer.response_id].append(answer)
    return [(response, by_response[response.id]) for response in responses]
