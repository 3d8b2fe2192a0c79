"""A script typed into any text field is shown escaped on every page that displays it.

One world (tests/hostile_world.py) where every free-text value the product stores is a marker
like ``<script>x17</script>"'><img src=x onerror=y17>``, numbered per field. Then every page of
the back office (as an administrator, who may see everything) and of the portal (as the
customer) is opened, and for each:

* the answer is 200 (a fragment: with the ``HX-Request`` header htmx sends);
* no marker appears raw: neither ``<script>x`` nor ``<img src=x`` is anywhere in the body;
* the escaped form of every marker the page is expected to show is there, so that no page
  passes by showing nothing.

The pages are derived from the URL maps: every GET endpoint of both apps is either visited here
or named in an exclusion below with the reason, so a new page cannot be skipped silently. And
every marker the world stores must show (escaped) on some page, or be listed as never shown.
The downloads and emails that carry the same values are checked for what they are: the data
download is a ZIP of JSON and CSV (no HTML), the CSV exports are ``text/csv`` attachments, the
HTML part of a campaign email escapes, the other emails are plain text.
"""
import csv
import io
import json
import re
import zipfile
from email import policy
from email.parser import BytesParser
from urllib.parse import quote, urlsplit

import pytest
from markupsafe import escape
from werkzeug.test import Client

import models
from services import mail
from tests import factories, hostile_world
from tests.conftest import csrf_from, login, post_form

HX = {"HX-Request": "true"}

# --- what each page must show (besides the signed-in admin's name and email on full pages) --

CARD = ("card.name", "card.alt_name", "card.company", "card.job_title", "card.industry",
        "card.company_size", "card.province", "card.city", "card.district", "card.address",
        "card.postal_code", "card.source", "card.notes", "card.special_requirements",
        "card.email", "tag.one", "tag.two")
FIELD_LABELS = tuple(f"field.{key}.label_zh" for key in ("hobby", "segment_pick", "channels"))
# The card page's timeline is built by hand (backoffice/card.py: timeline_html): every text
# it shows of each kind of record.
TIMELINE = ("purchase.product", "purchase.channel", "service.service_type",
            "service.description", "interaction.subject", "interaction.request",
            "interaction.resolution", "staff.owner_name")
PURCHASE = ("purchase.product", "purchase.channel", "purchase.payment_method")
SERVICE = ("service.service_type", "service.description", "service.result", "staff.owner_name")
INTERACTION = ("interaction.subject", "interaction.request", "interaction.resolution",
               "interaction.outcome", "staff.owner_name")
QUESTIONS = {lang: tuple(f"question.{kind}.{lang}" for kind in
                         ("nps", "single_choice", "multi_choice", "short_text", "long_text"))
             for lang in ("zh", "en")}
QUESTION_CHOICES = {lang: tuple(f"question.{kind}.choice{i}.{lang}"
                                for kind in ("single_choice", "multi_choice") for i in (1, 2))
                    for lang in ("zh", "en")}
CAMPAIGN = ("campaign.name", "campaign.goal", "campaign.subject_zh", "campaign.subject_en",
            "campaign.body_zh", "campaign.body_en", "list.name")


def back_office_pages(w):
    """(path, headers, expected marker keys) of every back-office page the world fills."""
    r = w.rows
    card = f"/staff/cards/{r['customer'].public_id}"
    survey, sent, draft = r["survey"].public_id, r["campaign"].public_id, r["draft"].public_id
    question = r["questions"]["single_choice"].id
    return [
        ("/staff/", {}, ("card.name", "card.city")),  # birthdays, follow-ups, recent cards
        (card, {}, CARD + TIMELINE + (
            "card.field.hobby", "field.hobby.label_zh", "field.segment_pick.choice1.zh",
            "field.channels.choice1.zh", "field.channels.choice2.zh", "field.style.label_zh",
            "pref.style", "field.brand.choice2.zh", "tier.name_zh", "tier.benefits",
            "tier.override_reason", "task.title", "task.owner_title",
            "survey.title_zh")),  # the follow-up of the detractor's answer names the survey
        (card + "/purchase/", HX, PURCHASE),
        (card + "/service/", HX, SERVICE),
        (card + "/interaction/", HX, INTERACTION),
        (card + "/purchase/new", {}, ("card.name",)),
        (f"{card}/purchase/{r['purchase'].public_id}/edit", {},
         ("card.name", "purchase.sku") + PURCHASE),
        (f"{card}/service/{r['service'].public_id}/edit", {}, ("card.name",) + SERVICE),
        (f"{card}/interaction/{r['interaction'].public_id}/edit", {},
         ("card.name",) + INTERACTION),
        (card + "/edit", {}, CARD + ("staff.owner_name",)),
        (card + "/fields", {}, FIELD_LABELS + (
            "card.field.hobby", "field.hobby.help_zh", "field.segment_pick.choice1.value",
            "field.segment_pick.choice1.zh", "field.channels.choice2.zh")),
        # (the history names the service's and interaction's staff and the owner by name)
        (card + "/history", {}, CARD + PURCHASE + SERVICE + INTERACTION + (
            "card.field.hobby", "change.name", "change.company", "change.pref.size_note",
            "pref.style", "purchase.delete_reason", "purchase.deleted_product", "task.title",
            "task.notes", "feedback.reply", "tier.override_reason", "tag.one")),
        ("/staff/cards/", {}, ("card.name", "card.alt_name", "card.company", "card.city",
                               "card.email", "other.name", "tag.one", "tier.name_zh",
                               "view.name", "list.name", "staff.owner_name") + FIELD_LABELS),
        # a search: the query is shown back in the search box
        ("/staff/cards/?q=" + quote(w["card.name"]), {}, ("card.name", "card.company")),
        ("/staff/cards/results?q=" + quote(w["card.name"]), HX,
         ("card.name", "card.company", "view.name")),
        (f"/staff/cards/views/{r['view'].id}", {}, ("card.name", "view.name")),
        ("/staff/cards/new", {}, ("staff.owner_name",)),  # the owner select
        ("/staff/tasks/", {}, ("card.name", "task.title", "task.notes", "staff.owner_name")),
        (f"/staff/tasks/new?customer={r['customer'].public_id}", {},
         ("card.name", "staff.owner_name")),
        ("/staff/reviews/", {}, ("card.name",)),
        (f"/staff/reviews/{r['change'].public_id}", {},
         ("card.name", "card.company", "change.name", "change.company",
          "change.pref.size_note", "field.size_note.label_zh")),
        ("/staff/feedback/", {}, ("card.name", "feedback.message")),
        (f"/staff/feedback/{r['feedback'].public_id}", {},
         ("card.name", "feedback.message", "feedback.reply", "purchase.product")),
        # the global audit log: its newest 50 events (the card history above has the rest)
        ("/staff/audit/", {}, (
            "campaign.name", "campaign.subject_zh", "view.name",
            "list.name", "segment.name", "survey.title_zh", "question.nps.zh",
            "question.long_text.en", "tier.name_zh",
            "tier.benefits", "feedback.reply", "task.title", "staff.owner_name")),
        ("/staff/audit/?action=staff.invite", {}, ("staff.invited_name", "staff.invited_email")),
        ("/staff/audit/?action=dictionary.create", {}, FIELD_LABELS + (
            "field.hobby.help_zh", "field.hobby.help_en", "field.hobby.label_en",
            "field.brand.choice1.value")),
        ("/staff/dictionary/", {}, FIELD_LABELS + ("field.hobby.help_zh", "field.style.label_zh",
                                                   "field.brand.choice1.zh")),
        ("/staff/dictionary/hobby/edit", {}, ("field.hobby.label_zh", "field.hobby.label_en",
                                              "field.hobby.help_zh", "field.hobby.help_en")),
        ("/staff/dictionary/brand/edit", {}, tuple(
            f"field.brand.choice{i}.{part}" for i in (1, 2) for part in ("value", "zh", "en"))),
        ("/staff/dictionary/new", {}, ()),
        ("/staff/segments/", {}, ("segment.name", "segment.description", "list.name",
                                  "list.description")),
        ("/staff/segments/new", {}, ()),
        ("/staff/segments/count?q=" + quote(w["card.name"]), HX, ()),
        (f"/staff/segments/{r['segment'].public_id}", {},
         ("segment.name", "segment.description", "tag.one", "card.city", "card.name")),
        # (the form has no input for a search criterion: card.name is not on it)
        (f"/staff/segments/{r['segment'].public_id}/edit", {},
         ("segment.name", "segment.description", "tag.one", "card.city")),
        (f"/staff/segments/{r['list'].public_id}", {},
         ("list.name", "list.description", "card.name")),
        (f"/staff/segments/card/{r['customer'].public_id}", HX, ("list.name",)),
        ("/staff/surveys/", {}, ("survey.title_zh",)),
        ("/staff/surveys/new", {}, ()),
        (f"/staff/surveys/{survey}", {}, (
            "survey.title_zh", "survey.title_en", "survey.intro_zh", "survey.intro_en")
         + QUESTIONS["zh"] + QUESTION_CHOICES["zh"]),
        (f"/staff/surveys/{survey}/questions/{question}", {}, ("survey.title_zh",)),
        (f"/staff/surveys/{survey}/results", {}, (
            "survey.title_zh", "answer.short_text", "answer.long_text", "segment.name",
            "list.name", "tier.name_zh") + QUESTIONS["zh"]),
        ("/staff/campaigns/", {}, ("campaign.name", "campaign.draft_name", "list.name")),
        ("/staff/campaigns/new", {}, ("list.name", "segment.name", "survey.title_zh")),
        # the detail page carries the preview of the email for a sample card of the audience
        (f"/staff/campaigns/{sent}", {}, CAMPAIGN + ("card.name",)),
        (f"/staff/campaigns/{sent}/progress", HX, ()),
        (f"/staff/campaigns/{sent}/results", {},
         ("campaign.name", "card.name", "card.email", "tier.name_zh")),
        (f"/staff/campaigns/{draft}", {}, CAMPAIGN[1:] + ("campaign.draft_name", "card.name")),
        (f"/staff/campaigns/{draft}/edit", {}, CAMPAIGN[1:] + ("campaign.draft_name",)),
        (f"/staff/campaigns/{draft}/start?mode=now", {}, ("campaign.draft_name", "list.name")),
        (f"/staff/campaigns/audience?segment={r['list'].public_id}", HX, ()),
        ("/staff/tiers/", {}, ("tier.name_zh", "tier.benefits")),
        ("/staff/tiers/new", {}, ()),
        ("/staff/tiers/vip/edit", {}, ("tier.name_zh", "tier.name_en", "tier.benefits")),
        (f"/staff/tiers/card/{r['customer'].public_id}/override", {},
         ("card.name", "tier.name_zh")),
        ("/staff/team/", {}, ("staff.owner_name", "staff.owner_email", "staff.invited_name",
                              "staff.invited_email")),
        ("/staff/team/roles", {}, ()),
        ("/staff/team/invite", {}, ()),
        (f"/staff/team/{r['owner'].public_id}", {}, ("staff.owner_name", "staff.owner_email")),
        (f"/staff/team/{r['invited'].public_id}", {},
         ("staff.invited_name", "staff.invited_email")),
        ("/staff/outbox/", {}, ("card.email", "campaign.subject_en", "card.name",
                                "staff.invited_email", "invitee.email", "portal.new_email")),
        *[(f"/staff/outbox/{m.public_id}", {}, expected) for m, expected in _mails(w)],
        ("/staff/requests/", {}, ("card.name",)),
        *reflected_pages(w),
        ("/staff/account/password", {}, ()),
        ("/staff/account/two-factor", {}, ()),
    ]


def reflected_pages(w):
    """Pages that show their query string back (search boxes, filters, a return path), opened
    with a marker in every parameter they read. ``echo``: a value the page shows back (a new
    "query.*" marker the page must show escaped); ``noise``: one it may drop (not a choice)."""
    r = w.rows

    def echo(name):
        return quote(w.mark(f"query.{name}"))

    def noise(n):
        return quote(hostile_world.marker(900 + n))

    survey, sent = r["survey"].public_id, r["campaign"].public_id
    cards = (f"q={echo('cards.q')}&province={echo('cards.province')}&city={echo('cards.city')}"
             f"&source={echo('cards.source')}&industry={echo('cards.industry')}&tag={noise(1)}"
             f"&cf_hobby={echo('cards.cf_hobby')}&owner={noise(2)}&tier={noise(3)}"
             f"&status={noise(4)}&sort={noise(5)}&purchase_from={noise(6)}")
    return [
        (f"/staff/cards/?{cards}", {},
         tuple(k for k in w.names() if k.startswith("query.cards"))),
        (f"/staff/cards/results?{cards.replace('q=', 'q=x', 1)}", HX, ()),
        ((f"/staff/audit/?action={echo('audit.action')}&card={echo('audit.card')}"
          f"&actor={noise(7)}&entity={noise(8)}&date_from={noise(9)}"), {},
         ("query.audit.action", "query.audit.card")),
        # "New card" filled from the query string (a search that found nothing links there)
        (f"/staff/cards/new?name={echo('new.name')}&mobile={echo('new.mobile')}"
         f"&email={echo('new.email')}&company={echo('new.company')}&notes={echo('new.notes')}"
         f"&owner={noise(16)}&status={noise(17)}", {},
         tuple(k for k in w.names() if k.startswith("query.new."))),
        (f"/staff/feedback/?tab={noise(10)}", {}, ()),
        (f"/staff/tasks/?who={noise(11)}", {}, ()),
        (f"/staff/tasks/new?customer={r['customer'].public_id}&next={echo('tasks.next')}", {},
         ("query.tasks.next",)),
        ((f"/staff/segments/new?kind=dynamic&city={echo('segments.city')}"
          f"&source={echo('segments.source')}&min_spend={noise(12)}"), {},
         ("query.segments.city", "query.segments.source")),
        (f"/staff/surveys/{survey}/results?tier={noise(13)}&segment={noise(14)}", {}, ()),
        (f"/staff/campaigns/{sent}/results?status={noise(15)}", {}, ()),
    ]


def english_pages(w):
    """(path, expected) of back-office pages that show English texts to English readers."""
    r = w.rows
    card = f"/staff/cards/{r['customer'].public_id}"
    en = tuple(f"field.{key}.label_en" for key in ("hobby", "segment_pick", "channels"))
    return [
        (card, en + ("field.segment_pick.choice1.en", "field.channels.choice1.en",
                     "field.channels.choice2.en", "field.style.label_en",
                     "field.brand.choice2.en", "tier.name_en")),
        (card + "/fields", en + ("field.hobby.help_en", "field.segment_pick.choice1.en",
                                 "field.segment_pick.choice2.en", "field.channels.choice1.en",
                                 "field.channels.choice2.en")),
        ("/staff/cards/", en + ("tier.name_en",)),
        ("/staff/dictionary/", en + ("field.hobby.help_en", "field.brand.choice1.en")),
        (f"/staff/surveys/{r['survey'].public_id}", ("survey.title_en",) + QUESTIONS["en"]
         + QUESTION_CHOICES["en"]),
        (f"/staff/surveys/{r['survey'].public_id}/results", ("survey.title_en",)
         + QUESTIONS["en"]),
        ("/staff/tiers/", ("tier.name_en",)),
        (f"/staff/reviews/{r['change'].public_id}", ("field.size_note.label_en",)),
    ]


def _mails(w):
    """Each stored email with the markers its outbox page shows (subject, recipient, text)."""
    expected = {"feedback_reply": ("card.email", "feedback.message", "feedback.reply"),
                "campaign": ("card.email", "campaign.subject_en", "campaign.body_en",
                             "card.name", "campaign.link"),
                "staff_invite": ("staff.invited_email", "staff.invited_name"),
                "invite": ("invitee.email", "invitee.name"),
                "login_link": ("card.email",),
                "verify_email": ("portal.new_email",),
                "erasure_confirm": ("card.email",)}
    rows = list(models.EmailMessage.select().order_by(models.EmailMessage.id))
    assert {m.kind for m in rows} == set(expected), sorted(m.kind for m in rows)
    return [(m, expected[m.kind]) for m in rows]


# GET endpoints not opened above, and why.
BACK_OFFICE_EXCLUDED = {
    "static": "files, no stored text",
    "health.healthz": "a plain-text health check",
    "auth.code": "the second sign-in step: no stored text (and no session to show)",
    "surveys.export_csv": "a download: checked below as text/csv, not HTML",
    "surveys.export_xlsx": "a download: an Excel file, not HTML",
}


def portal_pages(w):
    """(path, expected marker keys) of every portal page, for the signed-in customer."""
    links = w.rows["links"]
    return [
        ("/", ("card.name",)),
        ("/details/", ("card.name", "card.alt_name", "card.company", "card.job_title",
                       "card.province", "card.city", "card.district", "card.address",
                       "card.postal_code", "change.name", "change.company",
                       "card.field.hobby", "field.hobby.label_en", "field.hobby.help_en")),
        ("/preferences/", ("pref.style", "change.pref.size_note", "field.style.label_en",
                           "field.style.help_en", "field.size_note.label_en",
                           "field.brand.label_en", "field.brand.choice1.en",
                           "field.brand.choice2.en")),
        ("/feedback/", ("feedback.message", "feedback.reply", "purchase.product")),
        ("/feedback/new", ("purchase.product",)),
        ("/history/purchases", ("purchase.product",)),
        ("/history/services", ("service.description", "service.result")),
        ("/history/surveys", ("survey.title_en", "answer.short_text", "answer.long_text",
                              "question.short_text.en", "question.single_choice.choice1.en")),
        ("/consent/", ()),
        ("/consent/history", ()),
        ("/my-data/", ()),
        ("/account/password", ()),
        ("/email/change", ("card.email",)),
        (f"/survey/{w.rows['survey_token']}", ("survey.title_en", "survey.intro_en")
         + QUESTIONS["en"] + QUESTION_CHOICES["en"]),
        (f"/survey/p/{w.rows['survey'].public_token}", ("survey.title_en",)),
        (f"/my-data/download/{w.rows['download_token']}", ()),
        (urlsplit(links["details_confirm"]).path, ("card.name", "card.company")),
        (links["invite"], ("invitee.name", "invitee.email")),
        (links["login_link"], ("card.email",)),
        (links["verify_email"], ("portal.new_email",)),
        (links["erasure_confirm"], ()),
        (urlsplit(links["unsubscribe"]).path, ()),
    ]


PORTAL_EXCLUDED = {
    "static": "files, no stored text",
    "health.healthz": "a plain-text health check",
    "campaigns.open_pixel": "a 1x1 GIF",
    "consent.history_csv": "a download: checked below as text/csv, not HTML",
    "access.request_link": "a form asking for an email address: no stored text",
    "access.request_reset": "a form asking for an email address: no stored text",
    "access.reset": "choose a new password: shows no stored text (templates/portal/access/"
                    "reset.html)",
    "access.register": "off by default (404); shows no stored text",
    "access.confirm_registration": "registration is off by default",
    "consent.confirm": "shows the purpose's name (reference data, not typed by users) and the "
                       "sign-in email; double opt-in is off for the seeded purposes",
}


def _endpoint(flask_app, path):
    adapter = flask_app.url_map.bind("localhost")
    return adapter.match(path, method="GET")[0]


NONE_ATTRIBUTE = re.compile(r'\s([a-z-]+)="None"')


def _check(body, w, path, expected, problems):
    """The markers ``body`` shows escaped; what is wrong with it goes to ``problems``."""
    raw = [needle for needle in hostile_world.RAW if needle in body]
    if raw:
        at = body.find(raw[0])
        problems.append(f"{path}: unescaped {raw} in {body[max(0, at - 300):at + 100]!r}")
    nones = NONE_ATTRIBUTE.findall(body)
    if nones:  # a None rendered as text: an attribute pointing nowhere (aria-describedby...)
        problems.append(f"{path}: attributes rendered from None: {sorted(set(nones))}")
    shown = {key for key in w.names() if w.escaped(key) in body or w.json_escaped(key) in body}
    missing = [key for key in expected if key not in shown]
    if missing:
        problems.append(f"{path}: does not show (escaped) {missing}; shows {sorted(shown)}")
    return shown


@pytest.fixture
def world(app, client, staff_login):
    w = hostile_world.World()
    admin = staff_login(role="admin", name=w.mark("staff.admin_name", 100),
                        email=w.email("staff.admin_email"))
    hostile_world.build(w, admin)
    return w


def test_every_page_shows_every_stored_text_escaped(app, client, world):
    w = world
    seen, problems = set(), []
    visited = {app.backoffice: set(), app.portal: set()}

    def visit(browser, flask_app, path, expected, headers=None, label=""):
        """GET ``path`` (following a saved view to the list it opens) and check it."""
        response = browser.get(path, headers=headers or {})
        prefix = "/staff" if flask_app is app.backoffice else ""
        visited[flask_app].add(_endpoint(flask_app, path.split("?")[0].removeprefix(prefix)))
        if path.startswith("/staff/cards/views/"):
            assert response.headers["Location"].startswith("/staff/cards/?"), path
            response = browser.get(response.headers["Location"])
        if response.status_code != 200:
            problems.append(f"{path}: answers {response.status_code}")
            return
        seen.update(_check(response.get_data(as_text=True), w, path + label, expected,
                           problems))

    signed_in = ("staff.admin_name", "staff.admin_email")  # the top bar of every full page
    for path, headers, expected in back_office_pages(w):
        visit(client, app.backoffice, path, expected + (() if headers else signed_in), headers)
    # the same in English: the pages that show a text in both languages show the other one
    assert post_form(client, "/staff/language", {"lang": "en"},
                     token_from="/staff/").status_code == 302
    for path, expected in english_pages(w):
        visit(client, app.backoffice, path, expected, label=" (en)")
    # signed out: the sign-in pages keep where to go next; the staff invitation link's page
    for flask_app, path in ((app.backoffice, "/staff/login"), (app.portal, "/login")):
        key = f"query.next{path.replace('/', '.')}"
        visit(Client(app), flask_app, f"{path}?next=/{quote(w.mark(key))}", (key,))
    visit(Client(app), app.backoffice, w.rows["links"]["staff_invite"],
          ("staff.invited_name", "staff.invited_email"))
    # the portal, as the customer
    customer = Client(app)
    assert login(customer, w["card.email"], factories.PASSWORD).status_code == 302
    for path, expected in portal_pages(w):
        visit(customer, app.portal, path, expected)

    assert not problems, "\n\n".join(problems)
    _assert_every_get_endpoint(app.backoffice, visited[app.backoffice], BACK_OFFICE_EXCLUDED)
    _assert_every_get_endpoint(app.portal, visited[app.portal], PORTAL_EXCLUDED)
    never = sorted(set(w.names()) - seen - set(NEVER_SHOWN))
    assert not never, f"stored but shown on no page visited: {never}"
    shown_anyway = sorted(seen & set(NEVER_SHOWN))
    assert not shown_anyway, f"listed as never shown, but shown: {shown_anyway}"


# Stored, and rightly shown on no page (each is in an audit event or a log that no page
# prints, or only used as a key).
NEVER_SHOWN = {
    "purchase.external_ref": "an import's idempotency key, never displayed or audited",
    "staff.user_agent": "the audit trail keeps the user agent; no page prints it",
    "customer.user_agent": "the same, for the customer's actions",
}


def _assert_every_get_endpoint(flask_app, visited, excluded):
    gets = {rule.endpoint for rule in flask_app.url_map.iter_rules() if "GET" in rule.methods}
    left = gets - visited - set(excluded)
    assert not left, f"GET endpoints neither visited nor excluded (with a reason): {sorted(left)}"
    stale = set(excluded) - gets
    assert not stale, f"excluded endpoints that no longer exist: {sorted(stale)}"
    both = set(excluded) & visited
    assert not both, f"visited and excluded: {sorted(both)}"


def test_downloads_and_emails_carry_the_text_as_data_not_html(app, client, world):
    w = world
    # The data download: a ZIP of JSON and CSV, with the markers as plain data.
    customer = Client(app)
    assert login(customer, w["card.email"], factories.PASSWORD).status_code == 302
    path = f"/my-data/download/{w.rows['download_token']}"
    response = customer.post(path, data={"csrf_token": csrf_from(customer, path)})
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = archive.namelist()
    assert not [n for n in names if n.endswith((".html", ".htm", ".svg", ".xml"))], names
    card = json.loads(archive.read("card.json"))
    assert card["card"]["name"] == w["card.name"]  # data, as stored
    purchases = archive.read("purchases.csv").decode("utf-8-sig")
    assert w["purchase.product"] in [cell for row in csv.reader(io.StringIO(purchases))
                                     for cell in row]

    # The CSV downloads: attachments of type text/csv (a browser never renders them).
    for download, path in ((client, f"/staff/surveys/{w.rows['survey'].public_id}/results.csv"),
                           (customer, "/consent/history.csv")):
        response = download.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/csv", path
        assert response.headers["Content-Disposition"].startswith("attachment;"), path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
    survey_csv = client.get(f"/staff/surveys/{w.rows['survey'].public_id}/results.csv")
    cells = [cell for row in csv.reader(io.StringIO(survey_csv.get_data(as_text=True)))
             for cell in row]
    assert w["answer.long_text"] in cells and w["question.long_text.zh"] in cells

    # Emails: plain text, except the campaign's HTML part (open tracking), which escapes.
    rows = list(models.EmailMessage.select())
    assert [m.kind for m in rows if m.body_html] == ["campaign"]
    campaign = next(m for m in rows if m.kind == "campaign")
    for key in ("campaign.body_en", "card.name", "campaign.link"):
        assert w[key] in campaign.body_text  # plain text: as typed
        assert w.escaped(key).replace("&#34;", "&quot;").replace("&#39;", "&#x27;") \
            in campaign.body_html, key
    assert not [needle for needle in hostile_world.RAW if needle in campaign.body_html]
    message = BytesParser(policy=policy.default).parsebytes(mail.build_mime(campaign)
                                                            .as_bytes())
    html_part = message.get_body(("html",)).get_content()
    assert not [needle for needle in hostile_world.RAW if needle in html_part]
    assert str(escape(w["campaign.body_en"])) not in message.get_body(("plain",)).get_content()
    # a plain-text mail part is sent as text/plain, never text/html
    for row in rows:
        if not row.body_html:
            built = mail.build_mime(row)
            assert built.get_content_type() == "text/plain", row.kind


def test_every_marker_is_distinct_and_none_prefixes_another():
    w = hostile_world.World()
    for n in range(200):
        w.mark(f"f{n}", limit=(None, 100, 32, 16)[n % 4])
    texts = [w.escaped(k) for k in w.names()]
    for a in texts:
        assert sum(1 for b in texts if a in b) == 1, a
    assert re.fullmatch(r"&lt;script&gt;x1&lt;/script&gt;&#34;&#39;&gt;&lt;img src=x "
                        r"onerror=y1&gt;", texts[0])


def test_the_fields_without_a_marker_refuse_one(db):
    """The fields the world cannot fill with a marker (World.refused) refuse "<" at input: if
    one starts accepting it, it needs a marker in tests/hostile_world.py."""
    from services import DomainError, card_edit, customers, dictionary, records, tiers
    customer, _ = factories.make_customer(name="张伟")
    script = hostile_world.marker(1)
    for field in ("wechat", "mobile", "phone", "email", "country"):
        with pytest.raises(DomainError):
            card_edit.update_card(customer, {field: script}, customer.version, factories.SYSTEM)
    for field in ("wechat", "mobile", "email"):  # a new card: the same rules
        with pytest.raises(DomainError):
            customers.create_customer(factories.SYSTEM, name="李雷", **{field: script})
    for values in ({"code": script}, {"code": "vip", "colour": script}):
        with pytest.raises(DomainError):
            tiers.clean_tier({"colour": "#c9a227", "rank": 1, "window_days": 365,
                              "name_zh": "金卡", "name_en": "Gold", **values})
    for kind, values in (("purchase", {"product": "茶", "currency": script}),
                         ("interaction", {"subject": "回访", "channel": script})):
        with pytest.raises(DomainError):
            records.clean(kind, values)
    with pytest.raises(DomainError):
        dictionary.clean_definition({"key": script, "label_zh": "爱好", "label_en": "Hobby",
                                     "kind": "text", "section": "card",
                                     "portal_policy": "hidden"})


def test_forms_show_back_what_was_typed_escaped(app, client, staff_login):
    """Answers that repeat the input: a form refused (values kept, an error naming the value),
    the edit conflict page (yours, theirs and who changed it), a portal form refused."""
    from services import card_edit
    from services.actors import Actor
    from tests.backoffice.formdata import form_values
    w = hostile_world.World()
    admin = staff_login(role="admin", name=w.mark("staff.admin_name", 100),
                        email=w.email("staff.admin_email"))
    problems = []

    # the data dictionary's form, refused: a choice listed twice (the message names it)
    twice = w.mark("typed.choice", 100)
    response = post_form(client, "/staff/dictionary/new", {
        "key": "hobby", "section": "card", "kind": "choice", "portal_policy": "hidden",
        "label_zh": w.mark("typed.label_zh", 100), "label_en": w.mark("typed.label_en", 100),
        "help_zh": w.mark("typed.help_zh", 500), "position": w.mark("typed.position", 16),
        "choices": f"{twice}\n{twice}"})
    assert response.status_code in (200, 400)  # the form again, with the error at the field
    assert not models.CustomField.select().exists()
    _check(response.get_data(as_text=True), w, "dictionary.new (refused)",
           [k for k in w.names() if k.startswith("typed.")], problems)

    # the card edit form sent after someone else saved: both values and who saved
    customer, account = factories.make_customer(name=w.mark("card.name", 200))
    path = f"/staff/cards/{customer.public_id}/edit"
    mine = form_values(client.get(path).get_data(as_text=True), "card-edit-form")
    card_edit.update_card(customer, {"city": w.mark("theirs.city", 64)}, customer.version,
                          Actor.for_staff(admin))
    mine.update(city=w.mark("mine.city", 64), notes=w.mark("mine.notes", 5000))
    response = client.post(path, data=mine)
    assert response.status_code == 409
    _check(response.get_data(as_text=True), w, "card edit (conflict)",
           ("card.name", "mine.city", "mine.notes", "theirs.city", "staff.admin_name"), problems)

    # a bulk action on every card a search finds: the confirmation page, then the message
    bulk = {"action": "tag", "tag_value": w.mark("typed.tag", 64), "scope": "all",
            "q": w["card.name"], "city": ""}
    response = post_form(client, "/staff/cards/bulk", bulk, token_from="/staff/cards/")
    assert response.status_code == 200
    _check(response.get_data(as_text=True), w, "cards.bulk (confirm)",
           ("typed.tag", "card.name"), problems)
    response = post_form(client, "/staff/cards/bulk", {**bulk, "confirmed": "1"},
                         token_from="/staff/cards/")
    assert response.status_code == 302
    _check(client.get(response.headers["Location"]).get_data(as_text=True), w,
           "cards.bulk (done)", ("typed.tag", "card.name"), problems)

    # the portal's details form, refused (a Chinese postal code is 6 digits): input kept
    portal = Client(app)
    assert login(portal, account.email, factories.PASSWORD).status_code == 302
    values = form_values(portal.get("/details/").get_data(as_text=True), "")
    values.update(job_title=w.mark("portal.job_title", 100),
                  address=w.mark("portal.address", 500), postal_code=w.mark("portal.postal", 16),
                  country="CN")
    response = post_form(portal, "/details/", values)
    assert response.status_code in (200, 400)  # the form again, with the error at the field
    assert models.Customer.get_by_id(customer.id).job_title is None  # nothing saved
    _check(response.get_data(as_text=True), w, "details (refused)",
           ("card.name", "portal.job_title", "portal.address", "portal.postal"), problems)

    # error pages for a path made of a marker: nothing of it comes back raw
    for browser, path in ((client, "/staff/cards/"), (client, "/staff/"), (portal, "/")):
        response = browser.get(path + quote(hostile_world.marker(999, 16)))
        assert response.status_code == 404, path
        _check(response.get_data(as_text=True), w, path + "<marker> (404)", (), problems)
    assert not problems, "\n\n".join(problems)
