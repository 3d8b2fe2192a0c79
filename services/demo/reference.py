"""Reference data of the demo business (tiers, consent purposes, preference fields, tags)."""
import datetime
from decimal import Decimal

from models import ConsentPolicy, ConsentPurpose, CustomField, Tag, Tier
from services import tiers as tier_rules
from services.demo.common import CENT, ZERO

# --- reference data: tiers, consent purposes, preference fields, tags ---------------------------

TIERS = (
    {"code": "vip", "name_zh": "VIP 客户", "name_en": "VIP", "rank": 30, "colour": "#c9a227",
     "min_spend": Decimal("10000"), "min_orders": 5, "window_days": 365, "is_default": False,
     "benefits": "全年 9 折；生日月双倍积分；专属顾问一对一服务；新品优先试穿试用；"
                 "家电免费上门安装与年度保养。"},
    {"code": "regular", "name_zh": "普通客户", "name_en": "Regular", "rank": 20,
     "colour": "#2f6fb0", "min_spend": None, "min_orders": 1, "window_days": 730,
     "is_default": False,
     "benefits": "会员价购物；消费积分可兑换礼品；生日当月赠送 50 元礼券。"},
    {"code": "prospect", "name_zh": "潜在客户", "name_en": "Prospect", "rank": 10,
     "colour": "#6c757d", "min_spend": None, "min_orders": None, "window_days": 365,
     "is_default": True, "benefits": "首单享 95 折；免费到店咨询与体验。"},
)

# code, name_zh, name_en, is_marketing, is_sensitive, double_opt_in, policy zh, policy en
CONSENT_PURPOSES = (
    ("email_marketing", "邮件营销", "Email marketing", True, False, True,
     "我们会通过电子邮件向您发送新品、活动和会员专属优惠。您需要点击确认邮件中的链接后才会开始接收；"
     "每封邮件都附有退订链接，您可以随时撤回同意。",
     "We will email you about new arrivals, events and member offers. Mail starts only after you "
     "confirm through the link we send; every email has an unsubscribe link and you can withdraw "
     "at any time."),
    ("sms", "短信通知", "SMS messages", True, False, False,
     "我们会向您的手机发送活动和优惠短信，每月不超过 4 条。回复 TD 即可退订。",
     "We will text you about events and offers, at most four times a month. "
     "Reply STOP to opt out."),
    ("phone", "电话回访", "Phone calls", True, False, False,
     "我们的顾问可能致电向您介绍新品、邀请您参加活动或回访服务体验。",
     "Our advisers may call you about new products, events or to follow up on a service."),
    ("wechat", "微信消息", "WeChat messages", True, False, False,
     "我们会通过企业微信或公众号向您推送活动和会员权益信息。",
     "We will send you events and member benefits through WeChat."),
    ("profiling", "个性化推荐", "Personalised recommendations", False, False, False,
     "我们会根据您的购买和服务记录分析您的偏好，为您推荐更合适的商品与服务。",
     "We will analyse your purchases and services to recommend products that suit you."),
    ("third_party", "向合作伙伴提供信息", "Sharing with partners", False, True, False,
     "经您单独同意，我们会将您的姓名和联系方式提供给安装与售后服务合作伙伴，仅用于为您提供服务。",
     "With your separate consent we share your name and contact details with our installation and "
     "after-sales partners, only to provide the service to you."),
    ("cross_border", "个人信息出境", "Cross-border transfer", False, True, False,
     "经您单独同意，您的订单和联系信息可能传输至境外（如海外直邮的物流服务商），"
     "接收方名称、用途和联系方式见隐私政策。",
     "With your separate consent your order and contact details may be transferred outside "
     "mainland China (for example to an overseas shipping provider); the privacy policy names "
     "each recipient, the purpose and how to contact them."),
)

STYLE_CHOICES = [{"value": "minimal", "zh": "简约", "en": "Minimal"},
                 {"value": "business", "zh": "商务", "en": "Business"},
                 {"value": "casual", "zh": "休闲", "en": "Casual"},
                 {"value": "vintage", "zh": "复古", "en": "Vintage"}]
SIZE_CHOICES = [{"value": v, "zh": v, "en": v} for v in ("S", "M", "L", "XL")]
CHANNEL_CHOICES = [{"value": "email", "zh": "邮件", "en": "Email"},
                   {"value": "sms", "zh": "短信", "en": "SMS"},
                   {"value": "phone", "zh": "电话", "en": "Phone"},
                   {"value": "wechat", "zh": "微信", "en": "WeChat"}]

CUSTOM_FIELDS = (
    {"key": "style", "section": "preference", "label_zh": "风格偏好", "label_en": "Styles",
     "kind": "multi_choice", "choices": STYLE_CHOICES, "portal_policy": "auto", "position": 10},
    {"key": "size", "section": "preference", "label_zh": "尺码", "label_en": "Size",
     "kind": "choice", "choices": SIZE_CHOICES, "portal_policy": "auto", "position": 20},
    {"key": "favourite_brands", "section": "preference", "label_zh": "喜欢的品牌",
     "label_en": "Favourite brands", "kind": "text", "portal_policy": "auto", "position": 30},
    {"key": "quiet_hours", "section": "preference", "label_zh": "勿扰时段",
     "label_en": "Quiet hours", "kind": "text", "portal_policy": "auto", "position": 40,
     "help_zh": "例如 22:00-08:00", "help_en": "e.g. 22:00-08:00"},
    {"key": "allergies", "section": "preference", "label_zh": "过敏 / 特殊需求",
     "label_en": "Allergies / special needs", "kind": "text", "portal_policy": "review",
     "position": 50, "help_zh": "过敏 / 特殊需求", "help_en": "allergies / special needs"},
    {"key": "channels", "section": "preference", "label_zh": "偏好的联系方式",
     "label_en": "Preferred channels", "kind": "multi_choice", "choices": CHANNEL_CHOICES,
     "portal_policy": "auto", "position": 60},
    {"key": "membership_no", "section": "card", "label_zh": "会员卡号",
     "label_en": "Membership number", "kind": "text", "portal_policy": "locked", "position": 10,
     "pattern": r"^M\d{9}$", "help_zh": "由系统分配", "help_en": "Assigned by the store"},
)

TAGS = (("老客户", "#8d6e63"), ("企业客户", "#1565c0"), ("生日月", "#d81b60"),
        ("VIP候选", "#f9a825"), ("高潜力", "#2e7d32"), ("需回访", "#ef6c00"))


def ensure_tiers():
    """The three standard tiers by code, created where missing; ({code: Tier}, created)."""
    existing = {tier.code: tier for tier in Tier.select()}
    created = []
    for spec in TIERS:
        if spec["code"] not in existing:
            existing[spec["code"]] = Tier.create(**spec)
            created.append(existing[spec["code"]])
    return existing, created


def ensure_purposes(now):
    existing = {purpose.code: purpose for purpose in ConsentPurpose.select()}
    created = []
    for position, (code, name_zh, name_en, marketing, sensitive, double, text_zh,
                   text_en) in enumerate(CONSENT_PURPOSES, 1):
        if code in existing:
            continue
        purpose = ConsentPurpose.create(code=code, name_zh=name_zh, name_en=name_en,
                                        is_marketing=marketing, is_sensitive=sensitive,
                                        double_opt_in=double, current_version=1,
                                        position=position)
        ConsentPolicy.create(purpose=purpose, version=1, text_zh=text_zh, text_en=text_en,
                             published_at=now - datetime.timedelta(days=800))
        existing[code] = purpose
        created.append(purpose)
    return existing, created


def ensure_fields():
    existing = {field.key: field for field in CustomField.select()}
    created = []
    for spec in CUSTOM_FIELDS:
        if spec["key"] not in existing:
            existing[spec["key"]] = CustomField.create(**spec)
            created.append(existing[spec["key"]])
    return existing, created


def ensure_tags():
    existing = {tag.name: tag for tag in Tag.select()}
    for name, colour in TAGS:
        if name not in existing:
            existing[name] = Tag.create(name=name, colour=colour)
    return existing


# --- tier rules ---------------------------------------------------------------------------------

def pick_tier(tiers, stats):
    """(tier, reason) under the tier rules (services.tiers); ``stats(window_days)`` gives
    (spend, orders); the reason is the JSON the recalculation writes."""
    default = None
    for tier in sorted(tiers, key=lambda t: -t.rank):
        if tier.min_spend is None and tier.min_orders is None:
            if tier.is_default and default is None:
                default = tier
            continue
        spend, orders = stats(tier.window_days)
        if tier.min_spend is not None and spend < tier.min_spend:
            continue
        if tier.min_orders is not None and orders < tier.min_orders:
            continue
        return tier, tier_rules.rule_reason(tier, Decimal(spend).quantize(CENT), orders)
    if default is None:
        default = next((t for t in tiers if t.is_default), None)
    window = default.window_days if default else max((t.window_days for t in tiers),
                                                      default=365)
    spend, orders = stats(window)
    return default, tier_rules.fallback_reason(default, window, Decimal(spend).quantize(CENT),
                                               orders)


def window_stats(purchases, now):
    """stats(window_days) over [(occurred_at, amount)]."""
    def stats(window_days):
        since = now - datetime.timedelta(days=window_days)
        recent = [amount for at, amount in purchases if at >= since]
        return sum(recent, ZERO), len(recent)
    return stats
