"""One world in which every free-text value the product stores is a hostile marker.

Each stored text holds its own marker, ``<script>x17</script>"'><img src=x onerror=y17>`` with
a number per field, so that a page showing one of them raw names the field it came from. A
field whose length limit is too short for the whole marker holds the longest form that fits
(all start with ``<script>x<n>`` and end in a character that escapes, so no marker is the prefix
of another). Fields whose validators refuse ``<`` hold the rawest value they accept: that is
written down in ``World.refused``, with the reason.

Everything is created through the services the pages use (the same validation, audit events
and side effects: change requests, follow-up tasks, emails in the outbox), as the staff member
``admin``, the customer (as themselves, for what they do in the portal) or the system.
"""
import datetime
import re
from dataclasses import dataclass, field

from jinja2.utils import htmlsafe_json_dumps
from markupsafe import escape

import models
from services import (
    campaign_lifecycle,
    campaigns,
    card_edit,
    card_field_edit,
    card_list,
    consent,
    customer_access,
    data_requests,
    dictionary,
    email_change,
    feedback,
    preferences,
    profile,
    records,
    saved_views,
    segments,
    static_lists,
    survey_answers,
    survey_invites,
    surveys,
    tasks,
    tiers,
)
from services import staff as staff_service
from services.actors import Actor
from services.demo.reference import ensure_purposes
from tests import factories

RAW = ("<script>x", "<img src=x")  # what a page may never hold unescaped


def marker(n, limit=None):
    """The marker number ``n``: the whole one, or the longest form within ``limit``."""
    forms = (f"<script>x{n}</script>\"'><img src=x onerror=y{n}>",
             f"<script>x{n}\"'><img src=x>", f"<script>x{n}'\"&")
    for form in forms:
        if limit is None or len(form) <= limit:
            return form
    raise ValueError(f"no marker fits in {limit} characters")


# Where a validator refuses "<" the field holds the rawest value it accepts (still one that
# must be escaped: ' and &). Email addresses allow both in their local part.
def hostile_email(n):
    return f"o'x{n}&co@example.com"


@dataclass
class World:
    """The markers by field ("card.name" -> marker) and the rows the pages are about."""
    markers: dict = field(default_factory=dict)
    refused: dict = field(default_factory=dict)  # field -> why it cannot hold a marker
    emails: dict = field(default_factory=dict)  # field -> the hostile (but valid) address
    rows: dict = field(default_factory=dict)
    _n: int = 0

    def mark(self, name, limit=None):
        """A new marker for the field ``name`` (each field has exactly one)."""
        assert name not in self.markers, name
        self._n += 1
        self.markers[name] = marker(self._n, limit)
        return self.markers[name]

    def email(self, name):
        assert name not in self.emails, name
        self._n += 1
        self.emails[name] = hostile_email(self._n)
        return self.emails[name]

    def escaped(self, name):
        """The marker (or hostile email) of ``name`` as autoescape writes it."""
        return str(escape(self.markers.get(name) or self.emails[name]))

    def json_escaped(self, name):
        """The marker of ``name`` inside JSON in HTML (Jinja's ``tojson``: \\u003c ...)."""
        return str(htmlsafe_json_dumps(self[name]))[1:-1]

    def names(self):
        """Every field that holds a marker or a hostile email."""
        return [*self.markers, *self.emails]

    def __getitem__(self, name):
        return self.markers.get(name) or self.emails[name]


def build(w, admin):
    """Fill the world ``w``; ``admin`` is the signed-in administrator (whose name is a marker),
    who acts from a browser whose user agent is a marker too."""
    admin_actor = Actor.for_staff(admin, "127.0.0.1", w.mark("staff.user_agent", 255))
    w.rows["admin"] = admin
    system = factories.SYSTEM
    ensure_purposes(models.utcnow())

    # --- staff: an owner and assignee whose name is a marker, an invited member ------------
    owner = factories.make_staff(role="agent", name=w.mark("staff.owner_name", 100),
                                 email=w.email("staff.owner_email"))
    w.rows["owner"] = owner
    invited = staff_service.invite(w.mark("staff.invited_name", 100),
                                   w.email("staff.invited_email"), "viewer", admin_actor)
    w.rows["invited"] = invited

    # --- data dictionary: card fields (text, choice, multi-choice) and preferences ----------
    def define(key, section, kind, policy="hidden", choices=None):
        data = {"key": key, "section": section, "kind": kind, "portal_policy": policy,
                "label_zh": w.mark(f"field.{key}.label_zh", 100),
                "label_en": w.mark(f"field.{key}.label_en", 100),
                "help_zh": w.mark(f"field.{key}.help_zh", 500),
                "help_en": w.mark(f"field.{key}.help_en", 500)}
        if choices:
            data["choices"] = "\n".join(
                f"{w.mark(f'field.{key}.choice{i}.value', 100)} | "
                f"{w.mark(f'field.{key}.choice{i}.zh', 100)} | "
                f"{w.mark(f'field.{key}.choice{i}.en', 100)}" for i in range(1, choices + 1))
        return dictionary.create_field(data, admin_actor)

    define("hobby", "card", "text", policy="auto")
    define("segment_pick", "card", "choice", choices=2)
    define("channels", "card", "multi_choice", choices=2)
    define("style", "preference", "text", policy="auto")
    define("size_note", "preference", "text", policy="review")
    define("brand", "preference", "choice", policy="auto", choices=2)

    # --- tiers ------------------------------------------------------------------------------
    tier = tiers.create_tier(admin_actor, {
        "code": "vip", "colour": "#c9a227", "rank": 10, "window_days": 365,
        "min_spend": "1", "name_zh": w.mark("tier.name_zh", 64),
        "name_en": w.mark("tier.name_en", 64), "benefits": w.mark("tier.benefits", 2000)})
    w.refused["tier.code"] = "1-32 lower-case letters, digits, - or _"
    w.refused["tier.colour"] = "#rrggbb"
    w.rows["tier"] = tier

    # --- the card: created, then every staff-editable text field through the staff edit ----
    customer, account = factories.make_customer(
        name=w.mark("card.name", 200), email=w.email("card.email"), mobile="13800138000",
        wechat="wx_hostile_88", preferred_language="en")
    w.rows["customer"], w.rows["account"] = customer, account
    w.refused["card.mobile"] = "stored as E.164 (+8613800138000)"
    w.refused["card.phone"] = "stored as E.164"
    w.refused["card.wechat"] = "6-20 letters, digits, - or _ (profile.WECHAT_RE), as created"
    w.refused["card.country"] = "two capital letters"
    edit = {"alt_name": w.mark("card.alt_name", 200), "company": w.mark("card.company", 200),
            "job_title": w.mark("card.job_title", 100),
            "industry": w.mark("card.industry", 64),
            "company_size": w.mark("card.company_size", 32),
            "country": "US",  # a postal code outside China is free text
            "province": w.mark("card.province", 64), "city": w.mark("card.city", 64),
            "district": w.mark("card.district", 64), "address": w.mark("card.address", 500),
            "postal_code": w.mark("card.postal_code", 16),
            "source": w.mark("card.source", 32), "notes": w.mark("card.notes", 5000),
            "special_requirements": w.mark("card.special_requirements", 5000),
            "owner": owner.public_id,
            "tags": [w.mark("tag.one", 64), w.mark("tag.two", 64)]}
    card_edit.update_card(customer, edit, customer.version, admin_actor)
    customer = models.Customer.get_by_id(customer.id)
    card_field_edit.update_card_fields(customer, {
        "hobby": w.mark("card.field.hobby", 500),
        "segment_pick": "", "channels": []}, admin_actor, "admin")
    choice_values = {key: [c["value"] for c in models.CustomField.get(
        models.CustomField.key == key).choices] for key in ("segment_pick", "channels")}
    card_field_edit.update_card_fields(customer, {
        "segment_pick": choice_values["segment_pick"][0],
        "channels": choice_values["channels"]}, admin_actor, "admin")
    tiers.set_override(models.Customer.get_by_id(customer.id), admin_actor, tier,
                       w.mark("tier.override_reason", 500))

    # --- the customer's own edits in the portal: auto fields, a change request -------------
    me = Actor.for_customer(account, "127.0.0.1", w.mark("customer.user_agent", 255))
    profile.update_own_details(models.Customer.get_by_id(customer.id), {
        "name": w.mark("change.name", 200), "company": w.mark("change.company", 200)}, me)
    brand = models.CustomField.get(models.CustomField.key == "brand").choices[1]["value"]
    preferences.update_preferences(models.Customer.get_by_id(customer.id), {
        "style": w.mark("pref.style", 500), "size_note": w.mark("change.pref.size_note", 500),
        "brand": brand}, me)
    w.rows["change"] = models.ChangeRequest.get(models.ChangeRequest.customer == customer.id)

    # --- records: a purchase, a service record, an interaction (with a follow-up) ---------
    staff_actor = admin_actor
    purchase = records.add_record("purchase", customer, staff_actor, {
        "product": w.mark("purchase.product", 200), "sku": w.mark("purchase.sku", 64),
        "quantity": "2", "amount": "50.00", "currency": "CNY",
        "payment_method": w.mark("purchase.payment_method", 32),
        "channel": w.mark("purchase.channel", 32),
        "external_ref": w.mark("purchase.external_ref", 64)})
    service = records.add_record("service", customer, staff_actor, {
        "service_type": w.mark("service.service_type", 32), "staff": owner.public_id,
        "description": w.mark("service.description", 5000),
        "result": w.mark("service.result", 5000), "satisfaction": "4"})
    interaction = records.add_record("interaction", customer, staff_actor, {
        "channel": "phone", "direction": "inbound", "staff": owner.public_id,
        "subject": w.mark("interaction.subject", 150),
        "request": w.mark("interaction.request", 5000),
        "resolution": w.mark("interaction.resolution", 5000),
        "outcome": w.mark("interaction.outcome", 32),
        "next_follow_up": tasks.today() + datetime.timedelta(days=1),
        "visible_to_customer": True})
    deleted = records.add_record("purchase", customer, staff_actor, {
        "product": w.mark("purchase.deleted_product", 200), "amount": "1.00"})
    records.delete_record("purchase", deleted, staff_actor,
                          w.mark("purchase.delete_reason", 500))
    w.rows.update(purchase=purchase, service=service, interaction=interaction)
    w.refused["purchase.currency"] = "three letters"
    w.refused["interaction.channel"] = "a code from the list"

    # --- tasks: one by hand (title, notes), assigned to the marker-named staff member ------
    w.rows["task"] = tasks.create_follow_up(
        customer, staff_actor, w.mark("task.title", 200), tasks.today(), assignee=admin,
        notes=w.mark("task.notes", 2000))
    tasks.create_follow_up(customer, staff_actor, w.mark("task.owner_title", 200),
                           tasks.today(), assignee=owner)

    # --- feedback from the portal, and the staff reply (emailed) ---------------------------
    fb = feedback.submit_feedback(customer, me, "product", 2, w.mark("feedback.message", 2000),
                                  purchase_public_id=purchase.public_id)
    feedback.reply_to_feedback(fb, staff_actor, w.mark("feedback.reply", 4000))
    w.rows["feedback"] = fb

    # --- segments: a dynamic one (its criteria are markers too) and a static list ----------
    dynamic = segments.create_segment(
        staff_actor, admin, w.mark("segment.name", 100), w.mark("segment.description", 1000),
        "dynamic", [("q", w["card.name"][:60]), ("tag", w["tag.one"]),
                    ("city", w["card.city"])])
    static = segments.create_segment(
        staff_actor, admin, w.mark("list.name", 100), w.mark("list.description", 1000),
        "static")
    static_lists.add_cards(static, [customer.public_id], staff_actor)
    w.rows.update(segment=dynamic, list=static)

    # --- a survey: titles, intro, questions, choices; answered by the customer -------------
    survey = surveys.create_survey(staff_actor, admin, {
        "title_zh": w.mark("survey.title_zh", 200), "title_en": w.mark("survey.title_en", 200),
        "intro_zh": w.mark("survey.intro_zh", 4000), "intro_en": w.mark("survey.intro_en", 4000),
        "invite_days": 14, "task_on_detractor": True})
    questions = {}
    for kind in ("nps", "single_choice", "multi_choice", "short_text", "long_text"):
        data = {"kind": kind, "required": False,
                "text_zh": w.mark(f"question.{kind}.zh", 1000),
                "text_en": w.mark(f"question.{kind}.en", 1000)}
        if kind.endswith("choice"):
            data["choices_zh"] = "\n".join(w.mark(f"question.{kind}.choice{i}.zh", 200)
                                           for i in (1, 2))
            data["choices_en"] = "\n".join(w.mark(f"question.{kind}.choice{i}.en", 200)
                                           for i in (1, 2))
        questions[kind] = surveys.add_question(survey, staff_actor, data)
    surveys.set_status(survey, "open", staff_actor)
    survey_invites.ensure_public_token(survey, staff_actor)
    token = _token(survey_invites.invite_link(survey_invites.invite(survey, customer)))
    answers = {survey_answers.field_name(questions["nps"]): ["3"],
               survey_answers.field_name(questions["single_choice"]): ["c1"],
               survey_answers.field_name(questions["multi_choice"]): ["c1", "c2"],
               survey_answers.field_name(questions["short_text"]):
                   [w.mark("answer.short_text", 500)],
               survey_answers.field_name(questions["long_text"]):
                   [w.mark("answer.long_text", 5000)]}
    survey_answers.submit_personal(token, answers, "en", "127.0.0.1", "pytest")
    w.rows.update(survey=survey, questions=questions)
    # A second card, invited and not yet answered: the survey page as a customer sees it.
    other, _ = factories.make_customer(name=w.mark("other.name", 200), account=False)
    w.rows["survey_token"] = _token(survey_invites.invite_link(survey_invites.invite(survey, other)))

    # --- a campaign to the static list (consent given), sent with its HTML part ------------
    consent.grant(customer, consent.EMAIL_MARKETING, system, "staff")
    data = {"name": w.mark("campaign.name", 200), "goal": w.mark("campaign.goal", 2000),
            "segment": static.public_id, "attribution_days": "30", "track_opens": "y",
            "subject_zh": w.mark("campaign.subject_zh", 200) + " {{ name }}",
            "subject_en": w.mark("campaign.subject_en", 200) + " {{ name }}",
            "body_zh": w.mark("campaign.body_zh", 19000) + "\n{{ name }}",
            # a link, which the outbox page and the HTML part make clickable
            "body_en": (w.mark("campaign.body_en", 19000) + "\nDear {{ name }}\n"
                        "https://example.com/offer?code=" + w.mark("campaign.link", 16))}
    sent = campaigns.create(staff_actor, admin, data)
    campaign_lifecycle.start(sent, staff_actor)
    draft = campaigns.create(staff_actor, admin, {
        **data, "name": w.mark("campaign.draft_name", 200)})
    w.rows.update(campaign=models.Campaign.get_by_id(sent.id), draft=draft)

    # --- a saved view of the card list, named by a marker ----------------------------------
    w.rows["view"] = saved_views.save_view(
        admin, w.mark("view.name", 100), card_list.parse([("q", w["card.name"][:60])]),
        staff_actor)

    # --- the customer's emailed links (their pages show stored text) and data requests ----
    invitee, _ = factories.make_customer(name=w.mark("invitee.name", 200),
                                         email=w.email("invitee.email"), account=False)
    customer_access.invite(invitee, staff_actor)
    customer_access.request_login_link(account.email)
    email_change.request_change(account, w.email("portal.new_email"), factories.PASSWORD, me)
    w.rows["download_token"] = data_requests.prepare_download(customer, me)
    data_requests.request_erasure(customer, me)
    w.rows["links"] = _emailed_links()
    w.rows["links"]["details_confirm"] = profile.confirm_details_link(customer)
    campaign_mail = models.EmailMessage.get(models.EmailMessage.kind == "campaign")
    w.rows["links"]["unsubscribe"] = re.search(
        r"<(http[^>]+/unsubscribe/[^>]+)>", campaign_mail.headers["List-Unsubscribe"]).group(1)
    return w


_LINK = re.compile(r"https?://[^/\s]+((?:/staff)?/(?:claim|login/link|email/confirm|my-data/erase"
                   r"|invite)/[^\s]+)")


def _emailed_links():
    """{kind of mail: the path of the link it carries} from the outbox."""
    found = {}
    for message in models.EmailMessage.select():
        match = _LINK.search(message.body_text)
        if match:
            found[message.kind] = match.group(1)
    return found


def _token(url):
    return re.search(r"/survey/([^/?#]+)$", url).group(1)
