"""Demo records: purchases, services, interactions, consent, fields, tags, tasks, feedback."""
import datetime
from decimal import Decimal

import models
from models import (
    ConsentEvent,
    CustomerTag,
    CustomFieldValue,
    Feedback,
    Interaction,
    Purchase,
    ServiceRecord,
    Task,
    TierChange,
)
from services.demo.bulk import bulk_insert, refresh_totals, set_tiers
from services.demo.common import CENT, SHANGHAI
from services.demo.reference import (
    CHANNEL_CHOICES,
    STYLE_CHOICES,
    pick_tier,
    window_stats,
)
from services.demo.vocabulary import (
    ALLERGIES,
    BRANDS,
    FEEDBACK,
    INSTALLED,
    INTERACTIONS,
    PRODUCT_BY_SKU,
    QUIET_HOURS,
)


class Records:
    """Records on the demo cards (a part of DemoBusiness)."""

    def records(self):
        rng = self.rng
        now = self.now
        purchase_rows, service_rows, interaction_rows, consent_rows = [], [], [], []
        field_rows, tag_rows, tier_rows = [], [], []
        tier_by_customer = {}
        for card in self.cards:
            customer, lang, owner = card["customer"], card["lang"], card["owner"]
            staff_id = owner.id if owner else self.staff["agent"].id
            intl = lang == "en"
            card["purchase_ids"] = []
            for sku, quantity, unit_price, when in card["purchases"]:
                product = PRODUCT_BY_SKU[sku]
                channel = (rng.choices(("store", "online"), (5, 5))[0] if intl else
                           rng.choices(("store", "online", "wechat_mall"), (55, 30, 15))[0])
                payment = (rng.choices(("credit card", "cash", "支付宝", "微信支付"), (70, 15, 10, 5))[0]
                           if intl else
                           rng.choices(("微信支付", "支付宝", "银联", "cash"), (45, 35, 10, 10))[0])
                public_id = models.new_public_id()
                card["purchase_ids"].append(public_id)
                purchase_rows.append({
                    "public_id": public_id, "customer": customer.id, "occurred_at": when,
                    "product": product[2] if intl else product[1], "sku": sku,
                    "quantity": Decimal(quantity), "unit_price": unit_price,
                    "amount": (unit_price * quantity).quantize(CENT), "currency": "CNY",
                    "payment_method": payment, "order_status": "completed", "channel": channel,
                    "created_by": staff_id if channel == "store" else None,
                    "created_at": when, "updated_at": when})
                service_rows.extend(self.services_for(customer, lang, staff_id, sku, when))
            if card["purchases"] and rng.random() < 0.2:
                service_rows.append(self.service_row(
                    customer, staff_id, "consult", self.between(card["created"], now),
                    "穿搭咨询：为客户搭配秋冬通勤造型" if not intl else
                    "Styling consultation for autumn work outfits",
                    "推荐了三套搭配，客户试穿后购买一套" if not intl else
                    "Suggested three outfits; the customer bought one"))
            interaction_rows.extend(self.interactions_for(card, staff_id))
            consent_rows.extend(self.consent_for(card))
            field_rows.extend(self.field_values_for(card))
            stats = window_stats([(p[3], (p[2] * p[1]).quantize(CENT))
                                   for p in card["purchases"]], now)
            tier, reason = pick_tier(list(self.tiers.values()), stats)
            tier_by_customer[customer.id] = tier
            card["tier"], card["stats"] = tier, stats
            tier_rows.append({"customer": customer.id, "from_tier": None, "to_tier": tier.id,
                              "reason": reason, "source": "rule", "changed_by": None,
                              "created_at": now})
            tag_rows.extend({"customer": customer.id, "tag": self.tags[name].id}
                            for name in self.tags_for(card))
        self.purchase_ids = bulk_insert(Purchase, purchase_rows, returning=True)
        bulk_insert(ServiceRecord, service_rows)
        interaction_ids = bulk_insert(Interaction, interaction_rows, returning=True)
        bulk_insert(ConsentEvent, consent_rows)
        bulk_insert(CustomFieldValue, field_rows)
        bulk_insert(CustomerTag, tag_rows)
        bulk_insert(TierChange, tier_rows)
        set_tiers(tier_by_customer)
        refresh_totals()
        self.tasks_and_feedback(interaction_rows, interaction_ids)

    def service_row(self, customer, staff_id, kind, when, description, result):
        satisfaction = self.rng.choices((1, 2, 3, 4, 5), (3, 5, 12, 35, 45))[0]
        return {"public_id": models.new_public_id(), "customer": customer.id,
                "occurred_at": when, "service_type": kind, "staff": staff_id,
                "description": description, "result": result, "satisfaction": satisfaction,
                "created_at": when, "updated_at": when}

    def services_for(self, customer, lang, staff_id, sku, when):
        rng = self.rng
        intl = lang == "en"
        product = PRODUCT_BY_SKU[sku]
        name = product[2] if intl else product[1]
        rows = []
        if sku in INSTALLED and rng.random() < 0.8:
            at = min(when + datetime.timedelta(days=rng.randint(1, 5)), self.now)
            rows.append(self.service_row(
                customer, staff_id, "install", at,
                f"Home installation of the {name.lower()}" if intl else f"上门安装{name}",
                "Installed and showed how to use it" if intl else "安装完成，已演示使用方法"))
            if rng.random() < 0.2:
                at = when + datetime.timedelta(days=rng.randint(30, 300))
                if at < self.now:
                    rows.append(self.service_row(
                        customer, staff_id, "repair", at,
                        f"{name} stopped working" if intl else f"{name}故障报修：无法开机",
                        "Replaced the power board; working again" if intl
                        else "更换电源板，已恢复正常"))
        elif sku == "BT-FACE-07":
            rows.append(self.service_row(
                customer, staff_id, "treatment", when,
                "Hydrating facial treatment" if intl else "补水面部护理疗程",
                "Skin calmer; next session in four weeks" if intl
                else "皮肤状态改善，建议四周后复诊"))
        return rows

    def interactions_for(self, card, staff_id):
        rng = self.rng
        lang, customer = card["lang"], card["customer"]
        templates = [t for t in INTERACTIONS[lang] if not (lang == "en" and t[0] == "wechat")]
        count = 0 if rng.random() < 0.25 else rng.randint(1, 4)
        if card["demo"]:
            count = 4
        moments = [self.between(card["created"], self.now) for _ in range(count)]
        if card["demo"] or (card["purchases"] and rng.random() < 0.08):
            moments.append(self.now - datetime.timedelta(days=rng.uniform(0.2, 8)))
            recent = True
        else:
            recent = False
        rows = []
        for index, when in enumerate(moments):
            is_recent = recent and index == len(moments) - 1
            pool = [t for t in templates if t[2] == "follow_up"] if is_recent else templates
            channel, direction, outcome, subject, request, resolution = rng.choice(pool)
            follow_up = None
            if outcome == "follow_up":
                follow_up = (when + SHANGHAI).date() + datetime.timedelta(days=rng.randint(3, 10))
            rows.append({"public_id": models.new_public_id(), "customer": customer.id,
                         "occurred_at": when, "channel": channel, "direction": direction,
                         "staff": staff_id, "subject": subject, "request": request,
                         "resolution": resolution, "outcome": outcome,
                         "next_follow_up": follow_up,
                         "visible_to_customer": rng.random() < 0.3, "created_at": when})
        return rows

    def consent_for(self, card):
        rng = self.rng
        customer, lang = card["customer"], card["lang"]
        if not card["demo"] and rng.random() < 0.25:
            return []
        chances = {"email_marketing": 0.75 if card["email"] else 0,
                   "sms": 0.5 if lang == "zh" else 0.2, "phone": 0.4,
                   "wechat": 0.6 if lang == "zh" else 0, "profiling": 0.35,
                   "third_party": 0.1, "cross_border": 0.1 if lang == "zh" else 0.6}
        if card["demo"]:
            chances.update(email_marketing=1, profiling=1)
        rows = []
        start = card["created"]
        for code, chance in chances.items():
            if rng.random() >= chance:
                continue
            granted_at = self.between(start, min(start + datetime.timedelta(days=30), self.now))
            rows.append(self.consent_row(customer, code, True, granted_at))
            if not card["demo"] and rng.random() < 0.1:
                rows.append(self.consent_row(customer, code, False,
                                             self.between(granted_at, self.now)))
        card["consent"] = {row["purpose"] for row in rows if row["granted"]} - {
            row["purpose"] for row in rows if not row["granted"]}
        return rows

    def consent_row(self, customer, code, granted, when):
        return {"customer": customer.id, "purpose": self.purposes[code].id, "granted": granted,
                "policy_version": 1, "source": "import", "actor_kind": "system",
                "actor_id": None, "ip": None, "user_agent": None, "created_at": when}

    def field_values_for(self, card):
        rng = self.rng
        customer, lang = card["customer"], card["lang"]
        values = {}
        if card["demo"] or rng.random() < 0.6:
            values["style"] = sorted(rng.sample([c["value"] for c in STYLE_CHOICES],
                                                rng.randint(1, 2)))
            values["size"] = rng.choice(("S", "M", "M", "L", "L", "XL"))
            values["channels"] = sorted(rng.sample(
                [c["value"] for c in CHANNEL_CHOICES if lang == "zh" or c["value"] != "wechat"],
                rng.randint(1, 2)))
            if rng.random() < 0.5:
                values["favourite_brands"] = rng.choice(BRANDS[lang])
            if rng.random() < 0.3:
                values["quiet_hours"] = rng.choice(QUIET_HOURS[lang])
            if rng.random() < 0.12:
                values["allergies"] = rng.choice(ALLERGIES[lang])
        if card["demo"] and lang == "zh":
            values.update(style=["business", "minimal"], size="M", allergies="对坚果过敏")
        if card["purchases"]:
            values["membership_no"] = f"M{card['created'].year}{customer.id:05d}"
        card["fields"] = values
        return [{"customer": customer.id, "field": self.fields[key].id, "value": value,
                 "updated_at": self.now} for key, value in values.items()]

    def tags_for(self, card):
        tags = []
        customer = card["customer"]
        if (self.now - card["created"]).days > 600 and len(card["purchases"]) >= 4:
            tags.append("老客户")
        if customer.kind == "company" or (customer.company and self.rng.random() < 0.3):
            tags.append("企业客户")
        if card["birthday"] and not card["lunar"] and card["birthday"].month == self.today.month:
            tags.append("生日月")
        if card["tier"].code == "regular" and card["stats"](365)[0] >= Decimal("6000"):
            tags.append("VIP候选")
        if customer.status == "prospect" and self.rng.random() < 0.15:
            tags.append("高潜力")
        return tags

    def tasks_and_feedback(self, interaction_rows, interaction_ids):
        rng, now, today = self.rng, self.now, self.today
        by_customer = {card["customer"].id: card for card in self.cards}
        tasks = []
        # follow-ups from interactions: recent ones open, older ones done
        needs_follow_up = set()
        for row in interaction_rows:
            if row["outcome"] != "follow_up":
                continue
            card = by_customer[row["customer"]]
            due, assignee = row["next_follow_up"], row["staff"]
            done = due < today - datetime.timedelta(days=3)
            name = card["customer"].name
            title = (f"Follow up with {name}: {row['subject']}" if card["lang"] == "en"
                     else f"回访{name}：{row['subject']}")
            tasks.append({"customer": row["customer"], "kind": "follow_up", "title": title,
                          "notes": row["resolution"], "due_date": due, "assignee": assignee,
                          "interaction": interaction_ids[row["public_id"]],
                          "done_at": (datetime.datetime.combine(due, datetime.time(3))
                                      if done else None),
                          "done_by": assignee if done else None,
                          "created_at": row["occurred_at"]})
            if not done:
                needs_follow_up.add(row["customer"])
        # birthdays (solar) in the next two weeks
        for card in self.cards:
            birthday = card["birthday"]
            if not birthday or card["lunar"] or not card["owner"]:
                continue
            try:
                this_year = birthday.replace(year=today.year)
            except ValueError:  # 29 February
                this_year = datetime.date(today.year, 3, 1)
            if 0 <= (this_year - today).days <= 14:
                name = card["customer"].name
                title = (f"Birthday greeting for {name} ({this_year:%d %b})" if card["lang"] == "en"
                         else f"{name} 生日祝福（{this_year.month}月{this_year.day}日）")
                tasks.append({"customer": card["customer"].id, "kind": "birthday", "title": title,
                              "notes": "", "due_date": this_year - datetime.timedelta(days=1),
                              "assignee": card["owner"].id, "interaction": None,
                              "done_at": None, "done_by": None, "created_at": now})
        # feedback, with replies on some, and a reply task on the unanswered low ratings
        feedback_rows = []
        buyers = [card for card in self.cards if card["purchases"]]
        for card in rng.sample(buyers, min(25, len(buyers))):
            category, rating, message, reply = rng.choice(FEEDBACK[card["lang"]])
            purchase_public_id = card["purchase_ids"][-1]
            replied = rng.random() < (0.4 if rating <= 2 else 0.5)
            # answered feedback can be old; what still waits for a reply is recent
            since = card["purchases"][-1][3]
            if not replied:
                since = max(since, now - datetime.timedelta(days=21))
            created = self.between(since, now)
            replier = card["owner"] or self.staff["manager"]
            replied_at = min(created + datetime.timedelta(hours=rng.randint(2, 48)), now)
            feedback_rows.append({
                "public_id": models.new_public_id(), "customer": card["customer"].id,
                "category": category, "rating": rating, "message": message,
                "purchase": (self.purchase_ids[purchase_public_id]
                             if category in ("product", "delivery") else None),
                "status": "replied" if replied else "new",
                "assignee": replier.id, "reply": reply if replied else None,
                "replied_at": replied_at if replied else None,
                "replied_by": replier.id if replied else None, "created_at": created})
            if rating <= 2 and not replied:
                name = card["customer"].name
                tasks.append({"customer": card["customer"].id, "kind": "feedback",
                              "title": (f"Reply to {name}'s feedback" if card["lang"] == "en"
                                        else f"回复{name}的反馈"),
                              "notes": message,
                              "due_date": (created + SHANGHAI).date() + datetime.timedelta(days=2),
                              "assignee": replier.id, "interaction": None, "done_at": None,
                              "done_by": None, "created_at": created})
        bulk_insert(Feedback, feedback_rows)
        for row in tasks:
            row["public_id"] = models.new_public_id()
        bulk_insert(Task, tasks)
        bulk_insert(CustomerTag, [{"customer": customer_id, "tag": self.tags["需回访"].id}
                                   for customer_id in sorted(needs_follow_up)])

    # --- survey and campaign --------------------------------------------------------------------
