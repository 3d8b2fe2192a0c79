"""The campaign pages through HTTP with CSRF on: writing a draft (errors at their fields, input
kept), the live audience count, the preview and a test to oneself, send now and schedule after a
confirm step, pause/resume/cancel with the polled progress, the results, who may do what, and
escaping of what staff type."""
import datetime
import re

import pytest

import models
from models import AuditEvent, Campaign, CampaignRecipient, EmailMessage
from services import campaign_lifecycle, campaigns, segments, static_lists
from tests.campaigns.conftest import audience, campaign_data  # noqa: F401 (a fixture)
from tests.conftest import post_form
from tests.factories import SYSTEM, make_staff

EN = {"Accept-Language": "en"}
HX = {"Accept-Language": "en", "HX-Request": "true"}
BASE = "/staff/campaigns"
SCRIPT = "<script>alert(1)</script>"


def html(response):
    return response.get_data(as_text=True)


def main(response):
    text = html(response)
    return text[text.index("<main"):text.index("</main>")]


def post(client, path, data, token_from=BASE + "/"):
    return post_form(client, path, data, token_from=token_from, headers=EN)


def draft(audience, **overrides):  # noqa: F811 (the fixture's value)
    return campaigns.create(SYSTEM, make_staff(role="marketer"),
                            campaign_data(audience, **overrides))


def test_the_empty_list_says_what_a_campaign_is(client, staff_login):
    staff_login(role="marketer")
    page = main(client.get(BASE + "/", headers=EN))
    assert 'id="campaigns-empty"' in page and "A campaign is an email to a segment" in page
    assert f'href="{BASE}/new"' in page
    nav = html(client.get(BASE + "/", headers=EN))
    assert 'aria-current="page">Campaigns' in nav


def test_the_list_shows_campaigns_newest_first_with_status_and_counts(client, staff_login,
                                                                     audience):  # noqa: F811
    staff_login(role="marketer")
    old = draft(audience, name="Old one")
    new = campaign_lifecycle.start(draft(audience, name="New one"), SYSTEM)
    Campaign.update(created_at=datetime.datetime(2024, 1, 1)).where(
        Campaign.id == old.id).execute()
    page = main(client.get(BASE + "/", headers=EN))
    ids = re.findall(r'id="campaign-([\w-]+)"', page)
    assert ids == [new.public_id, old.public_id]
    row = page[page.index(f'id="campaign-{new.public_id}"'):]
    row = row[:row.index("</tr>")]
    assert "Finished" in row and "春季名单" in row and 'data-sent="4"' in row and "4 / 5" in row
    assert "Draft" in page


def test_a_new_campaign_with_errors_keeps_the_input(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    data = campaign_data(audience, name="", subject_zh="{{ foo }} 你好",
                         body_en="Hello {{ name }}, keep this text", rate_per_minute="0")
    response = post(client, BASE + "/new", data, token_from=BASE + "/new")
    assert response.status_code == 400
    page = main(response)
    assert "Give the campaign a name." in page
    assert "{{ foo }} is not a placeholder." in page
    assert "Enter a whole number from 1 to 100000." in page
    assert "Hello {{ name }}, keep this text" in page
    assert f'<option selected value="{audience["list"].public_id}">' in page
    assert "介绍新品" in page
    assert Campaign.select().count() == 0


def test_a_marketer_creates_a_draft_and_edits_it(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    response = post(client, BASE + "/new", campaign_data(audience, track_opens="y"),
                    token_from=BASE + "/new")
    campaign = Campaign.get()
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    assert campaign.status == "draft" and campaign.track_opens and campaign.name == "春季新品"
    form = main(client.get(f"{BASE}/{campaign.public_id}/edit", headers=EN))
    assert 'value="春季新品"' in form and "{{ name }}您好！" in form
    response = post(client, f"{BASE}/{campaign.public_id}/edit",
                    campaign_data(audience, name="Spring, renamed"),
                    token_from=f"{BASE}/{campaign.public_id}/edit")
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    campaign = Campaign.get_by_id(campaign.id)
    assert campaign.name == "Spring, renamed" and not campaign.track_opens
    assert AuditEvent.select().where(AuditEvent.action == "campaign.update").count() == 1


def test_only_a_draft_can_be_edited(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = campaign_lifecycle.start(draft(audience), SYSTEM)
    response = client.get(f"{BASE}/{campaign.public_id}/edit", headers=EN)
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    response = post(client, f"{BASE}/{campaign.public_id}/edit",
                    campaign_data(audience, name="Changed"))
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    assert Campaign.get_by_id(campaign.id).name == "春季新品"
    assert "Only a draft can be changed." in html(client.get(f"{BASE}/{campaign.public_id}",
                                                             headers=EN))


def test_the_audience_count_answers_htmx(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    public_id = audience["list"].public_id
    fragment = html(client.get(f"{BASE}/audience?segment={public_id}", headers=HX))
    assert "5 cards in it now" in fragment and "<main" not in fragment
    assert client.get(f"{BASE}/audience?segment=nope", headers=HX).status_code == 200
    assert client.get(f"{BASE}/audience", headers=EN).headers["Location"] == f"{BASE}/new"
    form = main(client.get(f"{BASE}/new", headers=EN))
    assert f'hx-get="{BASE}/audience"' in form and "{{ survey_link }}" in form


def test_the_page_previews_the_email_as_a_real_recipient_gets_it(client, staff_login,
                                                                  audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    page = main(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    sample = campaigns.sample_customer(campaign)
    assert sample.name == "张伟"
    assert f'href="/staff/cards/{sample.public_id}"' in page
    zh = page[page.index('id="preview-zh"'):page.index('id="preview-en"')]
    assert "张伟，春季新品到了" in zh and "张伟您好！" in zh
    en = page[page.index('id="preview-en"'):]
    assert "张伟, new for spring" in en and "As a " in en
    assert "/..." in en  # the unsubscribe link is a sample: a preview creates no links
    assert "5 cards in it now" in page
    assert "Send now" in page and 'name="send_at"' in page and "Delete" in page


def test_send_a_test_reaches_the_outbox(client, staff_login, audience):  # noqa: F811
    me = staff_login(role="marketer")
    campaign = draft(audience)
    response = post(client, f"{BASE}/{campaign.public_id}/test", {},
                    token_from=f"{BASE}/{campaign.public_id}")
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}#preview"
    mail = EmailMessage.get(EmailMessage.kind == "campaign_test")
    assert mail.to_addr == me.email and mail.subject.startswith("[TEST] 张伟")
    assert me.email in html(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    assert CampaignRecipient.select().count() == 0


def test_send_now_asks_first_then_sends_and_shows_the_results(client, staff_login,
                                                              audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    confirm = main(client.get(f"{BASE}/{campaign.public_id}/start?mode=now", headers=EN))
    assert ("5 cards in the audience; those without email-marketing consent at sending time "
            "will be skipped.") in confirm
    assert Campaign.get_by_id(campaign.id).status == "draft"
    response = post(client, f"{BASE}/{campaign.public_id}/start", {"mode": "now"},
                    token_from=f"{BASE}/{campaign.public_id}/start?mode=now")
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    assert Campaign.get_by_id(campaign.id).status == "finished"
    assert EmailMessage.select().where(EmailMessage.kind == "campaign").count() == 4

    page = main(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    assert "<progress" in page and 'value="5"' in page and "hx-trigger" not in page
    assert "5 of 5 done (100%)" in page

    results = client.get(f"{BASE}/{campaign.public_id}/results", headers=EN)
    assert results.headers["Cache-Control"] == "no-store"
    page = main(results)
    for metric, value in (("recipients", 5), ("sent", 4), ("skipped_consent", 1),
                          ("failed", 0), ("converted", 0)):
        assert f'data-metric="{metric}">{value}<' in page, metric
    assert 'data-metric="opened"' not in page  # not tracked
    assert 'id="tier-chart"' in page and "What the figures mean" in page
    skipped = main(client.get(f"{BASE}/{campaign.public_id}/results?status=skipped_consent",
                              headers=EN))
    table = skipped[skipped.index('id="recipient-table"'):]
    assert "赵敏" in table and "张伟" not in table
    assert f'href="/staff/cards/{audience["silent"].public_id}"' in table
    assert "Skipped: no email-marketing consent" in table


def test_results_count_conversions_and_revenue(client, staff_login, audience):  # noqa: F811
    from tests.factories import make_purchase
    staff_login(role="marketer")
    campaign = campaign_lifecycle.start(draft(audience), SYSTEM)
    make_purchase(audience["people"][0], amount="88.00")
    page = main(client.get(f"{BASE}/{campaign.public_id}/results", headers=EN))
    assert 'data-metric="converted">1<' in page and 'data-rate="converted">25.0%' in page
    assert "88.00" in page[page.index('id="revenue"'):]


def test_a_schedule_in_the_past_or_too_far_ahead_is_refused(client, staff_login,
                                                             audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    url = f"{BASE}/{campaign.public_id}/start?mode=schedule&send_at="
    past = client.get(url + "2020-01-01T10:00", headers=EN)
    assert past.status_code == 400 and "Choose a time in the future." in main(past)
    assert 'value="2020-01-01T10:00"' in main(past)
    far = client.get(url + "2999-01-01T10:00", headers=EN)
    assert far.status_code == 400 and "Schedule it within a year." in main(far)
    bad = client.get(url + "soon", headers=EN)
    assert bad.status_code == 400 and "Enter the date and time." in main(bad)
    assert Campaign.get_by_id(campaign.id).status == "draft"


def test_schedule_then_cancel_the_schedule(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    when_local = (models.utcnow() + datetime.timedelta(hours=8, days=2)).replace(
        second=0, microsecond=0)  # Asia/Shanghai is UTC+8
    send_at = when_local.strftime("%Y-%m-%dT%H:%M")
    start = f"{BASE}/{campaign.public_id}/start?mode=schedule&send_at={send_at}"
    assert "5 cards in the audience" in main(client.get(start, headers=EN))
    response = post(client, f"{BASE}/{campaign.public_id}/start",
                    {"mode": "schedule", "send_at": send_at}, token_from=start)
    assert response.headers["Location"] == f"{BASE}/{campaign.public_id}"
    campaign = Campaign.get_by_id(campaign.id)
    assert campaign.status == "scheduled"
    assert campaign.scheduled_at == when_local - datetime.timedelta(hours=8)
    assert CampaignRecipient.select().count() == 0
    page = main(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    assert 'value="unschedule"' in page and 'value="cancel"' in page and "Send now" not in page
    post(client, f"{BASE}/{campaign.public_id}/status", {"action": "unschedule"},
         token_from=f"{BASE}/{campaign.public_id}")
    campaign = Campaign.get_by_id(campaign.id)
    assert campaign.status == "draft" and campaign.scheduled_at is None


def _sending(audience):  # noqa: F811
    """A campaign that is sending (its recipients queued, the worker not run yet)."""
    campaign = draft(audience)
    Campaign.update(status="sending", started_at=models.utcnow()).where(
        Campaign.id == campaign.id).execute()
    campaign_lifecycle.queue_recipients(campaign)
    return Campaign.get_by_id(campaign.id)


def test_progress_polls_while_sending_and_pause_resume_work(client, staff_login,
                                                            audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = _sending(audience)
    detail = f"{BASE}/{campaign.public_id}"
    page = main(client.get(detail, headers=EN))
    assert f'hx-get="{detail}/progress" hx-trigger="every 2s"' in page
    assert "0 of 5 done (0%)" in page and 'value="pause"' in page and 'value="cancel"' in page
    fragment = html(client.get(detail + "/progress", headers=HX))
    assert 'hx-trigger="every 2s"' in fragment and "hx-swap-oob" not in fragment
    assert client.get(detail + "/progress", headers=EN).headers["Location"] == detail

    post(client, detail + "/status", {"action": "pause"}, token_from=detail)
    assert Campaign.get_by_id(campaign.id).status == "paused"
    fragment = html(client.get(detail + "/progress", headers=HX))
    assert "hx-trigger" not in fragment  # polling stops
    assert 'hx-swap-oob="true"' in fragment and 'value="resume"' in fragment

    post(client, detail + "/status", {"action": "resume"}, token_from=detail)
    assert Campaign.get_by_id(campaign.id).status == "finished"  # the worker ran inline
    assert EmailMessage.select().where(EmailMessage.kind == "campaign").count() == 4


def test_cancel_stops_a_sending_campaign(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = _sending(audience)
    detail = f"{BASE}/{campaign.public_id}"
    post(client, detail + "/status", {"action": "cancel"}, token_from=detail)
    assert Campaign.get_by_id(campaign.id).status == "cancelled"
    assert {r.status for r in CampaignRecipient.select()} == {"cancelled"}
    page = main(client.get(detail, headers=EN))
    assert "Cancelled" in page and 'value="resume"' not in page
    response = post(client, detail + "/status", {"action": "resume"}, token_from=detail)
    assert response.headers["Location"] == detail
    assert "The campaign changed in the meantime." in html(client.get(detail, headers=EN))
    assert post(client, detail + "/status", {"action": "explode"},
                token_from=detail).status_code == 400


def test_a_draft_is_deleted_but_a_sent_campaign_is_not(client, staff_login,
                                                       audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    response = post(client, f"{BASE}/{campaign.public_id}/delete", {},
                    token_from=f"{BASE}/{campaign.public_id}")
    assert response.headers["Location"] == f"{BASE}/"
    assert Campaign.select().count() == 0
    sent = campaign_lifecycle.start(draft(audience), SYSTEM)
    post(client, f"{BASE}/{sent.public_id}/delete", {}, token_from=f"{BASE}/{sent.public_id}")
    assert Campaign.get_by_id(sent.id).status == "finished"


def test_a_marketer_cannot_make_a_service_notice(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    form = main(client.get(f"{BASE}/new", headers=EN))
    assert 'name="is_transactional"' not in form
    response = post(client, BASE + "/new", campaign_data(audience, is_transactional="y"),
                    token_from=BASE + "/new")
    assert response.status_code == 400
    assert "Only an administrator can mark a campaign as a service notice." in main(response)
    assert 'value="春季新品"' in main(response)
    assert Campaign.select().count() == 0


def test_an_admin_makes_a_service_notice(client, staff_login, audience):  # noqa: F811
    staff_login(role="admin")
    form = main(client.get(f"{BASE}/new", headers=EN))
    assert 'name="is_transactional"' in form and "still honours" not in form
    assert "Erased cards and cards asking to be erased are still skipped." in form
    post(client, BASE + "/new", campaign_data(audience, is_transactional="y"),
         token_from=BASE + "/new")
    campaign = Campaign.get()
    assert campaign.is_transactional
    confirm = main(client.get(f"{BASE}/{campaign.public_id}/start?mode=now", headers=EN))
    assert "This is a service notice" in confirm


@pytest.mark.parametrize("role", ["viewer", "agent"])
def test_roles_without_campaigns_get_403(client, staff_login, audience, role):  # noqa: F811
    campaign = draft(audience)
    staff_login(role=role)
    detail = f"{BASE}/{campaign.public_id}"
    for path in (BASE + "/", BASE + "/new", detail, detail + "/edit", detail + "/results",
                 detail + "/start?mode=now", detail + "/progress", BASE + "/audience"):
        assert client.get(path, headers=EN).status_code == 403, path
    token = re.search(r'name="csrf-token" content="([^"]+)"',
                      html(client.get("/staff/", headers=EN))).group(1)
    for path, data in ((BASE + "/new", campaign_data(audience)), (detail + "/start",
                                                                  {"mode": "now"}),
                       (detail + "/status", {"action": "cancel"}), (detail + "/test", {}),
                       (detail + "/delete", {}), (detail + "/edit", campaign_data(audience))):
        response = client.post(path, data={"csrf_token": token, **data}, headers=EN)
        assert response.status_code == 403, path
    assert Campaign.get_by_id(campaign.id).status == "draft"
    assert EmailMessage.select().count() == 0
    assert "Campaigns" not in html(client.get("/staff/", headers=EN))


def test_posts_without_csrf_are_refused(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    detail = f"{BASE}/{campaign.public_id}"
    for path, data in ((detail + "/start", {"mode": "now"}), (detail + "/test", {}),
                       (detail + "/delete", {}), (detail + "/status", {"action": "cancel"})):
        assert client.post(path, data=data, headers=EN).status_code == 400, path
    assert Campaign.get_by_id(campaign.id).status == "draft"


def test_what_staff_type_is_shown_escaped(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    lst = segments.create_segment(SYSTEM, None, SCRIPT + "名单", "", "static")
    static_lists.add_cards(lst, [audience["people"][0].public_id], SYSTEM)
    campaign = draft(audience, name=SCRIPT, subject_en=SCRIPT + " {{ name }}",
                     body_en=SCRIPT + "\nHello", goal=SCRIPT, segment=lst.public_id)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for path in (BASE + "/", f"{BASE}/{campaign.public_id}",
                 f"{BASE}/{campaign.public_id}/edit",
                 f"{BASE}/{campaign.public_id}/start?mode=now"):
        page = main(client.get(path, headers=EN))
        assert SCRIPT not in page and escaped in page, path
    preview = main(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    en = preview[preview.index('id="preview-en"'):]
    assert f"{escaped} 张伟" in en and escaped + "\nHello" in en
    campaign_lifecycle.start(campaign, SYSTEM)
    page = main(client.get(f"{BASE}/{campaign.public_id}/results", headers=EN))
    assert SCRIPT not in page


def test_a_failed_scheduled_start_is_shown(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    campaign = draft(audience)
    Campaign.update(last_error="Open the survey before sending a campaign that asks for it.")\
        .where(Campaign.id == campaign.id).execute()
    page = main(client.get(f"{BASE}/{campaign.public_id}", headers=EN))
    assert 'id="campaign-last-error"' in page
    assert "Open the survey before sending a campaign that asks for it." in page


def test_pages_cost_the_same_queries_for_few_or_many_rows(client, staff_login,
                                                          audience):  # noqa: F811
    from tests.campaigns.conftest import consenting_customer
    from tests.test_cards_pages import count_queries
    staff_login(role="marketer")
    small = campaign_lifecycle.start(draft(audience), SYSTEM)
    more = [consenting_customer(f"客户{n}") for n in range(20)]
    static_lists.add_cards(audience["list"], [c.public_id for c in more], SYSTEM)
    big = campaign_lifecycle.start(draft(audience), SYSTEM)
    costs = {}
    for campaign in (small, big):
        for path in ("", "/results"):
            with count_queries() as seen:
                assert client.get(f"{BASE}/{campaign.public_id}{path}",
                                  headers=EN).status_code == 200
            costs.setdefault(path, set()).add(len(seen))
    assert all(len(counts) == 1 for counts in costs.values()), costs
    with count_queries() as seen:
        client.get(BASE + "/", headers=EN)
    few = len(seen)
    assert few > 0
    for _n in range(3):
        draft(audience)
    with count_queries() as seen:
        client.get(BASE + "/", headers=EN)
    assert len(seen) == few


def test_odd_input_gets_an_answer_not_a_crash(client, staff_login, audience):  # noqa: F811
    staff_login(role="marketer")
    response = post(client, BASE + "/new",
                    campaign_data(audience, segment="\x00x", name="a\x00b",
                                  subject_en="x" * 300, attribution_days="3.5"),
                    token_from=BASE + "/new")
    assert response.status_code == 400
    page = main(response)
    assert "Choose who receives it: a segment or a list." in page
    assert "This text contains a character that cannot be stored." in page
    assert "Use at most 200 characters (now 300)." in page
    assert "Enter a whole number from 1 to 365." in page
    assert client.get(f"{BASE}/audience?segment=%00", headers=HX).status_code == 200
    campaign = draft(audience)
    start = f"{BASE}/{campaign.public_id}/start?mode=schedule&send_at="
    assert client.get(start + "%00", headers=EN).status_code == 400
    assert client.get(f"{BASE}/x%00y", headers=EN).status_code == 404
    assert client.get(f"{BASE}/{campaign.public_id}/results?status=%00&page=2",
                      headers=EN).status_code == 200


def test_a_marketer_cannot_change_an_admins_service_notice(client, staff_login,
                                                           audience):  # noqa: F811
    admin = make_staff(role="admin")
    notice = campaigns.create(SYSTEM, admin, campaign_data(audience, is_transactional="y"))
    staff_login(role="marketer")
    edit = f"{BASE}/{notice.public_id}/edit"
    response = post(client, edit, campaign_data(audience, name="Now marketing"), token_from=edit)
    assert response.status_code == 400
    assert "Only an administrator can change a service notice." in main(response)
    notice = Campaign.get_by_id(notice.id)
    assert notice.is_transactional and notice.name == "春季新品"
