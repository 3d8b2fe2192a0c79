"""The demo survey and the campaign that sent it."""
import datetime

import models
from models import (
    Campaign,
    CampaignRecipient,
    Customer,
    Segment,
    SegmentMember,
    Survey,
    SurveyAnswer,
    SurveyInvite,
    SurveyQuestion,
    SurveyResponse,
    Task,
)
from services import audit
from services.actors import Actor
from services.demo.bulk import bulk_insert
from services.demo.common import SHANGHAI
from services.demo.reference import STYLE_CHOICES


class Marketing:
    """The satisfaction survey and its campaign (a part of DemoBusiness)."""

    def survey_and_campaign(self):
        rng, now = self.rng, self.now
        marketer = self.staff["marketer"]
        actor = Actor.for_staff(marketer)
        started = now - datetime.timedelta(days=6)
        survey = Survey.create(
            title_zh="2026 客户满意度调查", title_en="2026 customer satisfaction survey",
            intro_zh="感谢您抽出 3 分钟时间告诉我们您的体验，您的意见将帮助我们做得更好。",
            intro_en="Thank you for taking three minutes to tell us about your experience; "
                     "your answers help us do better.",
            status="open", invite_days=30, reminder_days=7, created_by=marketer,
            created_at=started - datetime.timedelta(days=2))
        specs = (
            ("nps", "您有多大可能向朋友或同事推荐我们？（0-10 分）",
             "How likely are you to recommend us to a friend or colleague? (0-10)", True,
             None, None),
            ("rating", "您对最近一次购物或服务体验的满意度如何？（1-5 星）",
             "How satisfied were you with your most recent purchase or service? (1-5 stars)",
             True, None, None),
            ("single_choice", "您最常通过哪个渠道购物？", "Where do you shop with us most often?",
             True, [{"value": "store", "zh": "门店", "en": "In store"},
                    {"value": "online", "zh": "官网", "en": "Online shop"},
                    {"value": "wechat_mall", "zh": "微信商城", "en": "WeChat mall"}], None),
            ("multi_choice", "您喜欢哪些穿搭风格？（可多选）", "Which styles do you like? (choose any)",
             False, STYLE_CHOICES, "pref:style"),
            ("long_text", "您还有什么建议想告诉我们吗？",
             "Is there anything else you would like to tell us?", False, None, None),
        )
        questions = [SurveyQuestion.create(survey=survey, position=position, kind=kind,
                                           text_zh=text_zh, text_en=text_en, required=required,
                                           choices=choices, maps_to=maps_to)
                     for position, (kind, text_zh, text_en, required, choices, maps_to)
                     in enumerate(specs, 1)]
        audit.record(actor, "survey.create", "survey", survey.public_id,
                     after={"title": survey.title_zh, "questions": len(questions)})
        campaign = Campaign.create(
            name="2026 客户满意度调查邀请", goal="了解客户满意度与风格偏好，找出需要回访的客户。",
            channel="email", survey=survey, status="finished", segment=None, track_opens=True,
            subject_zh="邀请您参加 2026 客户满意度调查",
            subject_en="Tell us how we did: 2026 customer satisfaction survey",
            body_zh="尊敬的客户，您好！\n\n感谢您一直以来的支持。我们诚邀您花 3 分钟填写 2026 客户满意度调查，"
                    "您的意见将帮助我们改进商品与服务。\n\n点击下方链接即可开始，链接 30 天内有效：\n"
                    "{{ survey_link }}",
            body_en="Hello,\n\nThank you for shopping with us. Would you spend three minutes on "
                    "our 2026 customer satisfaction survey? Your answers help us improve our "
                    "products and service.\n\nThe link below stays valid for 30 days:\n"
                    "{{ survey_link }}",
            created_by=marketer, created_at=started - datetime.timedelta(days=1),
            scheduled_at=started, started_at=started,
            finished_at=started + datetime.timedelta(minutes=12))
        audit.record(actor, "campaign.create", "campaign", campaign.public_id,
                     after={"name": campaign.name, "survey": survey.public_id})
        email_purpose = self.purposes["email_marketing"].id
        eligible = [card for card in self.cards
                    if card["email"] and email_purpose in card.get("consent", ())]
        demo_cards = [card for card in eligible if card["demo"]]
        others = [card for card in eligible if not card["demo"]]
        chosen = demo_cards + rng.sample(others, min(60 - len(demo_cards), len(others)))
        chosen_others = [card for card in chosen if not card["demo"]]
        responders = {id(card) for card in rng.sample(chosen_others, min(25, len(chosen_others)))}
        audience = Segment.create(name="满意度调查名单", kind="static", created_by=marketer,
                                  description="2026 客户满意度调查的收件人",
                                  created_at=campaign.created_at, updated_at=campaign.created_at)
        bulk_insert(SegmentMember, [{"segment": audience.id, "customer": card["customer"].id,
                                     "added_at": campaign.created_at} for card in chosen])
        Campaign.update(segment=audience).where(Campaign.id == campaign.id).execute()
        recipient_rows, invite_rows = [], []
        for card in chosen:
            sent = started + datetime.timedelta(seconds=rng.randint(0, 700))
            responded = self.between(sent, now) if id(card) in responders else None
            opened = (responded - datetime.timedelta(minutes=rng.randint(1, 30)) if responded
                      else (self.between(sent, now) if rng.random() < 0.4 else None))
            card["invite_public_id"] = models.new_public_id()
            card["responded_at"] = responded
            recipient_rows.append({
                "campaign": campaign.id, "customer": card["customer"].id, "email": card["email"],
                "status": "sent",
                "message_id": f"<campaign.{campaign.public_id}.{len(recipient_rows)}"
                              "@cards.example.com>",
                "attempts": 1, "sent_at": sent, "opened_at": opened})
            invite_rows.append({
                "public_id": card["invite_public_id"], "survey": survey.id,
                "customer": card["customer"].id, "campaign": campaign.id, "created_at": sent,
                "expires_at": sent + datetime.timedelta(days=30), "sent_at": sent,
                "opened_at": opened, "reminded_at": None, "responded_at": responded})
        bulk_insert(CampaignRecipient, recipient_rows)
        # Each recipient with the tier its card had when the campaign went out (results by tier).
        (CampaignRecipient.update(tier=Customer.select(Customer.tier).where(
            Customer.id == CampaignRecipient.customer))
         .where(CampaignRecipient.campaign == campaign.id).execute())
        invite_ids = bulk_insert(SurveyInvite, invite_rows, returning=True)
        nps_q, rating_q, channel_q, style_q, text_q = questions
        response_rows, answers = [], []
        comments = {"zh": ("希望多一些新款尺码。", "店员服务很好！", "线上下单后希望能更快发货。"),
                    "en": ("More sizes online, please.", "Great service in store.",
                           "Faster delivery would be nice.")}
        for card in chosen:
            if not card["responded_at"]:
                continue
            lang = card["lang"]
            score = rng.choices(range(11), (1, 1, 1, 2, 2, 4, 6, 10, 18, 25, 30))[0]
            rating = max(1, min(5, round(score / 2)))
            styles = card.get("fields", {}).get("style") or [rng.choice(STYLE_CHOICES)["value"]]
            public_id = models.new_public_id()
            card["response_public_id"] = public_id
            response_rows.append({"public_id": public_id, "survey": survey.id,
                                  "invite": invite_ids[card["invite_public_id"]],
                                  "customer": card["customer"].id, "locale": lang,
                                  "submitted_at": card["responded_at"]})
            card_answers = [(nps_q, score, score), (rating_q, rating, rating),
                            (channel_q, rng.choice(("store", "online", "wechat_mall")), None),
                            (style_q, styles, None)]
            if rng.random() < 0.5:
                card_answers.append((text_q, rng.choice(comments[lang]), None))
            answers.append((public_id, card_answers))
            card["nps"] = score
        response_ids = bulk_insert(SurveyResponse, response_rows, returning=True)
        bulk_insert(SurveyAnswer, [
            {"response": response_ids[public_id], "question": question.id, "value": value,
             "number": number}
            for public_id, card_answers in answers for question, value, number in card_answers])
        # a detractor gets a follow-up call (the survey's task_on_detractor rule)
        tasks = []
        for card in chosen:
            if card.get("nps") is not None and card["nps"] <= 6:
                name = card["customer"].name
                assignee = card["owner"] or self.staff["manager"]
                tasks.append({"public_id": models.new_public_id(),
                              "customer": card["customer"].id, "kind": "follow_up",
                              "title": (f"NPS follow-up: {name} (score {card['nps']})"
                                        if card["lang"] == "en"
                                        else f"NPS 贬损者回访：{name}（{card['nps']} 分）"),
                              "notes": "", "interaction": None,
                              "due_date": (card["responded_at"] + SHANGHAI).date()
                              + datetime.timedelta(days=3),
                              "assignee": assignee.id, "done_at": None, "done_by": None,
                              "created_at": card["responded_at"]})
        bulk_insert(Task, tasks)
