"""Segments in the service layer: each criterion (the card list's and the segment's own: RFM
figures, birthday month, NPS detractors of a survey), static lists added to and removed from
idempotently, refresh_members materialising a dynamic segment, and delete refused while a
campaign uses the segment."""
import datetime
from decimal import Decimal

import pytest

import models
from models import (
    AuditEvent,
    Campaign,
    Customer,
    SegmentMember,
    SurveyAnswer,
    SurveyQuestion,
    SurveyResponse,
)
from services import (
    DomainError,
    card_bulk,
    segment_criteria,
    segments,
    static_lists,
    survey_results,
)
from services.profile import FieldErrors
from tests import factories

SYSTEM = factories.SYSTEM


def card(name, **columns):
    customer = factories.make_customer(name=name, account=False)[0]
    if columns:
        Customer.update(**columns).where(Customer.id == customer.id).execute()
    return Customer.get_by_id(customer.id)


def names(pairs):
    pairs = segment_criteria.clean_criteria(pairs)
    assert segment_criteria.count(pairs) == len(list(Customer.select().where(
        *segment_criteria.conditions(pairs))))
    return sorted(c.name for c in Customer.select().where(*segment_criteria.conditions(pairs)))


def days_ago(days):
    return models.utcnow() - datetime.timedelta(days=days)


@pytest.fixture
def people(db):
    gold = models.Tier.create(code="gold", name_zh="金卡", name_en="Gold", rank=3)
    recent = card("Recent", last_purchase_at=days_ago(10), purchase_count=5,
                  total_spend=Decimal("5000.00"), tier=gold, city="上海",
                  birthday=datetime.date(1990, 3, 15))
    lapsed = card("Lapsed", last_purchase_at=days_ago(400), purchase_count=1,
                  total_spend=Decimal("99.00"), city="北京", birthday=datetime.date(1985, 12, 1))
    never = card("Never", city="上海")
    gone = card("Gone", purchase_count=9, total_spend=Decimal(9000), erased_at=models.utcnow())
    return {"recent": recent, "lapsed": lapsed, "never": never, "gone": gone, "gold": gold}


def test_rfm_figures_select_the_right_live_cards(people):
    assert names([("purchase_within_days", "30")]) == ["Recent"]
    assert names([("purchase_before_days", "365")]) == ["Lapsed"]
    assert names([("min_purchases", "2")]) == ["Recent"]  # the erased card is never a member
    assert names([("max_purchases", "1")]) == ["Lapsed", "Never"]
    assert names([("min_spend", "1,000")]) == ["Recent"]
    assert names([("max_spend", "¥100")]) == ["Lapsed", "Never"]
    assert names([("min_spend", "50"), ("max_spend", "100")]) == ["Lapsed"]


def test_the_card_list_criteria_are_reused(people):
    assert names([("tier", "gold")]) == ["Recent"]
    assert names([("tier", "none")]) == ["Lapsed", "Never"]
    assert names([("city", "上海")]) == ["Never", "Recent"]
    assert names([("city", "上海"), ("max_purchases", "0")]) == ["Never"]
    card_bulk.bulk_apply("tag", "VIP", Customer.select(Customer.id).where(
        Customer.id == people["lapsed"].id), SYSTEM)
    assert names([("tag", "VIP")]) == ["Lapsed"]


def test_birthday_month(people):
    assert names([("birthday_month", "3")]) == ["Recent"]
    assert names([("birthday_month", "12")]) == ["Lapsed"]
    assert names([("birthday_month", "7")]) == []


def nps_survey():
    return factories.make_survey()


def answer(survey, customer, score):
    question = SurveyQuestion.get(SurveyQuestion.survey == survey, SurveyQuestion.kind == "nps")
    response = SurveyResponse.create(survey=survey, customer=customer)
    SurveyAnswer.create(response=response, question=question, value=score, number=score)


def test_nps_detractors_of_one_survey(people):
    survey, other = nps_survey(), nps_survey()
    answer(survey, people["recent"], 3)
    answer(survey, people["lapsed"], 9)
    answer(survey, people["never"], 7)
    answer(other, people["lapsed"], 0)  # a detractor of another survey only
    answer(survey, people["gone"], 1)  # erased
    assert names([("survey", survey.public_id), ("nps", "detractor")]) == ["Recent"]
    assert names([("survey", survey.public_id), ("nps", "promoter")]) == ["Lapsed"]
    assert names([("survey", survey.public_id), ("nps", "passive")]) == ["Never"]
    assert names([("survey", other.public_id), ("nps", "detractor")]) == ["Lapsed"]


def test_bad_criteria_are_named_field_by_field(people):
    with pytest.raises(FieldErrors) as caught:
        segment_criteria.clean_criteria([("purchase_within_days", "soon"), ("birthday_month", "13"),
                                 ("min_spend", "-1"), ("min_purchases", "5"),
                                 ("max_purchases", "2"), ("survey", "nosuch"),
                                 ("tier", "platinum"), ("purchase_from", "yesterday")])
    assert set(caught.value.errors) == {"purchase_within_days", "birthday_month", "min_spend",
                                        "max_purchases", "survey", "tier", "purchase_from"}
    with pytest.raises(FieldErrors) as caught:
        segment_criteria.clean_criteria([("nps", "detractor")])
    assert set(caught.value.errors) == {"survey"}


def test_a_dynamic_segment_is_saved_and_materialised(people):
    staff = factories.make_staff(role="manager")
    segment = segments.create_segment(SYSTEM, staff, "  Big spenders ", "", "dynamic",
                                      [("min_spend", "1000"), ("sort", "name"), ("junk", "x")])
    assert segment.name == "Big spenders"
    assert segment.filters == {"query": [["min_spend", "1000.00"]]}
    members = SegmentMember.select().where(SegmentMember.segment == segment)
    assert [m.customer_id for m in members] == [people["recent"].id]
    assert [c.id for c in segments.members_query(segment)] == [people["recent"].id]
    Customer.update(total_spend=Decimal(2000)).where(
        Customer.id == people["lapsed"].id).execute()
    assert segments.refresh_members(segment, SYSTEM) == 2
    assert segments.refresh_members(segment, SYSTEM) == 2  # a re-run does not duplicate
    assert members.count() == 2
    event = AuditEvent.select().where(AuditEvent.action == "segment.refresh").order_by(
        AuditEvent.id.desc()).get()
    assert event.after == {"members": 2} and event.entity_id == segment.public_id
    # survey results filter on the saved members
    filters = survey_results.Filters(segment=segment)
    assert filters.segment == segment
    segments.update_segment(segment, SYSTEM, "Big spenders", "x", [("min_spend", "4000")])
    assert [m.customer_id for m in members] == [people["recent"].id]


def test_a_failed_refresh_changes_nothing(people, monkeypatch):
    segment = segments.create_segment(SYSTEM, None, "Gold", "", "dynamic", [("tier", "gold")])

    def broken(*args, **kwargs):
        raise RuntimeError("audit down")
    monkeypatch.setattr(segments.audit, "record", broken)
    with pytest.raises(RuntimeError):
        segments.refresh_members(segment, SYSTEM)
    assert SegmentMember.select().where(SegmentMember.segment == segment).count() == 1


def test_static_lists_add_and_remove_idempotently(people):
    segment = segments.create_segment(SYSTEM, None, "Hand-picked", "", "static")
    ids = static_lists.parse_ids(f"{people['recent'].public_id}\n{people['never'].public_id}, "
                             f"nosuchcard {people['gone'].public_id}")
    added, missing = static_lists.add_cards(segment, ids, SYSTEM)
    assert (added, missing) == (2, ["nosuchcard", people["gone"].public_id])
    assert static_lists.add_cards(segment, ids, SYSTEM)[0] == 0  # already in: nothing changes
    assert sorted(c.name for c in segments.members_query(segment)) == ["Never", "Recent"]
    assert static_lists.add_found(segment, [("city", "上海"), ("q", "")], SYSTEM) == 0
    assert static_lists.add_found(segment, [("city", "北京")], SYSTEM) == 1
    assert segments.members_query(segment).count() == 3
    assert static_lists.remove_cards(segment, [people["never"].public_id], SYSTEM) == 1
    assert static_lists.remove_cards(segment, [people["never"].public_id], SYSTEM) == 0
    assert sorted(c.name for c in segments.members_query(segment)) == ["Lapsed", "Recent"]
    with pytest.raises(DomainError):
        static_lists.add_found(segment, [("sort", "name")], SYSTEM)  # no filter: not "everyone"
    with pytest.raises(DomainError):
        segments.refresh_members(segment, SYSTEM)


def test_delete_is_refused_while_a_campaign_uses_the_segment(people):
    segment = segments.create_segment(SYSTEM, None, "Gold", "", "dynamic", [("tier", "gold")])
    campaign = Campaign.create(name="Spring", segment=segment)
    with pytest.raises(DomainError):
        segments.delete_segment(segment, SYSTEM)
    campaign.delete_instance()
    segments.delete_segment(segment, SYSTEM)
    assert SegmentMember.select().count() == 0


def test_counting_is_one_query(people, monkeypatch):
    pairs = segment_criteria.clean_criteria([("min_spend", "10"), ("birthday_month", "3"),
                                     ("tier", "gold")])
    executed = []
    original = models.db.execute_sql
    monkeypatch.setattr(models.db.obj, "execute_sql",
                        lambda sql, *a, **k: executed.append(sql) or original(sql, *a, **k))
    assert segment_criteria.count(pairs) == 1
    assert len(executed) == 1 and "COUNT" in executed[0].upper()
