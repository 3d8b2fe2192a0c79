"""My history in the portal: purchases, service visits and survey answers, read-only, only ever
the signed-in customer's own, paginated, and one query per page whatever its length."""
import datetime
import logging

import pytest

import models
from models import ServiceRecord, Survey, SurveyAnswer, SurveyInvite, SurveyQuestion, SurveyResponse
from tests import factories
from tests.conftest import post_form

DAY = datetime.timedelta(days=1)
START = datetime.datetime(2025, 1, 1, 4, 0)




@pytest.fixture
def me(client, customer_login):
    """A customer signed in with the portal in English; returns the Customer."""
    post_form(client, "/language", {"lang": "en", "next": "/login"}, token_from="/login")
    customer, _ = customer_login(preferred_language="en")
    return customer


def html(client, path):
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def buy(customer, n, **fields):
    return factories.make_purchase(customer, product=f"Item {n:02d}", amount="10.00",
                                   occurred_at=START + n * DAY, **fields)


def visit(customer, **fields):
    fields.setdefault("occurred_at", START)
    return ServiceRecord.create(customer=customer, **fields)


def answer_survey(customer, title="Spring survey"):
    """A survey the customer answered: an NPS score, a channel choice, some styles, a comment."""
    survey = Survey.create(title_zh=f"{title}（中文）", title_en=title, status="open")
    questions = [
        SurveyQuestion.create(survey=survey, position=1, kind="nps",
                              text_zh="推荐我们的可能性？",
                              text_en="How likely are you to recommend us?"),
        SurveyQuestion.create(survey=survey, position=2, kind="single_choice",
                              text_zh="您在哪里购物？", text_en="Where do you shop?",
                              choices=[{"value": "store", "zh": "门店", "en": "In store"},
                                       {"value": "online", "zh": "官网", "en": "Online shop"}]),
        SurveyQuestion.create(survey=survey, position=3, kind="multi_choice",
                              text_zh="喜欢的风格", text_en="Styles you like",
                              choices=[{"value": "casual", "zh": "休闲", "en": "Casual"},
                                       {"value": "formal", "zh": "正装", "en": "Formal"},
                                       {"value": "sport", "zh": "运动", "en": "Sporty"}]),
        SurveyQuestion.create(survey=survey, position=4, kind="long_text",
                              text_zh="其他建议", text_en="Anything else?"),
    ]
    invite = SurveyInvite.create(survey=survey, customer=customer,
                                 expires_at=models.utcnow() + 30 * DAY)
    response = SurveyResponse.create(survey=survey, invite=invite, customer=customer,
                                     locale="en", submitted_at=START)
    values = [(9, 9), ("online", None), (["casual", "sport"], None),
              (f"<i>Comment</i> from {customer.name}", None)]
    for question, (value, number) in zip(questions, values):
        SurveyAnswer.create(response=response, question=question, value=value, number=number)
    return response


def test_purchases_show_only_mine(client, me):
    buy(me, 1, channel="online", payment_method="alipay")
    deleted = buy(me, 2)
    deleted.deleted_at = models.utcnow()
    deleted.save()
    other, _ = factories.make_customer()
    factories.make_purchase(other, product="Someone else's sofa", amount="9999.00")
    page = html(client, "/history/purchases")
    assert "Item 01" in page and "CN¥10.00" in page
    assert "Online shop" in page and "Alipay" in page  # codes shown by their labels
    assert "Jan 2, 2025" in page
    assert "Item 02" not in page  # deleted
    assert "sofa" not in page and "9,999" not in page
    # Nothing in the URL chooses whose history it is.
    assert "sofa" not in html(client, f"/history/purchases?customer_id={other.id}"
                                      f"&customer={other.public_id}")


def test_sixty_purchases_are_paginated(client, me):
    for n in range(60):
        buy(me, n)
    first = html(client, "/history/purchases")
    assert first.count("<li class=\"list-group-item\">") == 20
    assert "Item 59" in first and "Item 40" in first and "Item 39" not in first
    assert "Page 1 of 3 · 60 in all" in first and 'href="/history/purchases?page=2"' in first
    third = html(client, "/history/purchases?page=3")
    assert third.count("<li class=\"list-group-item\">") == 20
    assert "Item 19" in third and "Item 00" in third and "Item 20" not in third
    assert "Page 3 of 3 · 60 in all" in third


def test_service_visits_show_only_mine(client, me):
    staff = factories.make_staff(name="Li Jing")
    visit(me, service_type="repair", staff=staff, description="Fridge door seal",
          result="Seal replaced", satisfaction=5)
    visit(me, service_type="install", description="Removed visit", deleted_at=models.utcnow())
    other, _ = factories.make_customer()
    visit(other, service_type="consult", description="Another customer's consultation")
    page = html(client, "/history/services")
    assert "Repair" in page and "Fridge door seal" in page and "Seal replaced" in page
    assert "Served by Li Jing" in page and "Your satisfaction: 5 of 5" in page
    assert "Removed visit" not in page
    assert "Another customer" not in page and "Consultation" not in page


def test_survey_answers_show_the_questions_and_my_answers(client, me):
    answer_survey(me)
    other, _ = factories.make_customer(name="Other Person")
    answer_survey(other, title="Their survey")
    page = html(client, "/history/surveys")
    assert "Spring survey" in page and "Their survey" not in page
    assert "How likely are you to recommend us?" in page and "9 of 10" in page
    assert "Where do you shop?" in page and "Online shop" in page
    assert "Casual" in page and "Sporty" in page and "Formal" not in page
    assert "&lt;i&gt;Comment&lt;/i&gt; from " + me.name in page  # escaped
    assert "Other Person" not in page
    # Questions in their order.
    assert page.index("How likely") < page.index("Where do you shop") < page.index("Anything")


def test_survey_answers_in_chinese(client, customer_login):
    customer, _ = customer_login(preferred_language="zh")
    answer_survey(customer)
    page = client.get("/history/surveys", headers={"Accept-Language": "zh-CN"}).get_data(
        as_text=True)
    assert "Spring survey（中文）" in page and "推荐我们的可能性？" in page
    assert "官网" in page and "休闲" in page


def test_empty_history_pages_say_so(client, me):
    assert "No purchases yet." in html(client, "/history/purchases")
    assert "No service visits yet." in html(client, "/history/services")
    assert "You have not answered any survey yet." in html(client, "/history/surveys")


@pytest.fixture
def count_queries(caplog):
    """Run a callable and return how many SQL statements it sent."""
    def _count(action):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            action()
        return sum(1 for record in caplog.records if record.name == "peewee")
    return _count


@pytest.mark.parametrize("path", ["/history/purchases", "/history/services",
                                  "/history/surveys", "/feedback/"])
def test_a_page_costs_the_same_queries_for_two_rows_or_twenty(client, me, count_queries,
                                                              path):
    from services import feedback
    from services.actors import Actor
    staff = factories.make_staff()

    def add_rows(count):
        for n in range(count):
            purchase = buy(me, n)
            visit(me, service_type="repair", staff=staff)
            answer_survey(me, title=f"Survey {n}")
            feedback.submit_feedback(me, Actor.system("tests"), "product", 4, f"Note {n}",
                                     purchase_public_id=purchase.public_id)

    add_rows(2)
    few = count_queries(lambda: html(client, path))
    add_rows(18)
    many = count_queries(lambda: html(client, path))
    assert few == many, (path, few, many)


def test_history_needs_a_signed_in_customer(client, db):
    for path in ("/history/purchases", "/history/services", "/history/surveys"):
        assert client.get(path).headers["Location"].startswith("/login?next=")
