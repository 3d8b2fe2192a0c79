"""A real worker process killed (SIGKILL, no cleanup) in the middle of a campaign, and a new
one that resumes it: every recipient gets the message once; the only possible repeat is the
one message in flight at the kill, and it carries the same Message-ID."""
import collections
import os
import signal
import subprocess
import sys
import time

import models
from models import Campaign, CampaignRecipient
from services import campaign_lifecycle, campaign_mail, campaigns
from tests.campaigns.conftest import campaign_data, consenting_customer
from tests.factories import SYSTEM

WORKER = """
import sys, wsgi
from services import campaign_send
wsgi.create_app({"DATABASE_URL": sys.argv[1], "MAIL_URL": sys.argv[2],
                 "SECRET_KEY": "test-secret-key", "TESTING": True})
campaign_send.send(int(sys.argv[3]))
"""


def worker(database_url, mail_url, campaign_id):
    env = {**os.environ, "HUEY_IMMEDIATE": "1"}
    return subprocess.Popen([sys.executable, "-c", WORKER, database_url, mail_url,
                             str(campaign_id)], env=env, cwd=os.getcwd())


def test_a_killed_worker_process_is_resumed_by_the_next(
        settings, database_url, smtp_server, db, marketer, monkeypatch):
    settings["MAIL_URL"] = smtp_server.url
    import wsgi
    wsgi.create_app(settings)
    from services import segments, static_lists
    from services.demo.reference import ensure_purposes
    ensure_purposes(models.utcnow())
    people = [consenting_customer(f"客户{i:02d}") for i in range(12)]
    lst = segments.create_segment(SYSTEM, None, "十二人", "", "static")
    static_lists.add_cards(lst, [c.public_id for c in people], SYSTEM)
    monkeypatch.setattr(campaign_lifecycle, "_send_task", lambda: (lambda campaign_id: None))
    campaign = campaigns.create(SYSTEM, marketer, campaign_data(
        {"list": lst}, rate_per_minute="600"))  # one message every 0.1 s
    campaign = campaign_lifecycle.start(campaign, SYSTEM)
    models.db.close()

    first = worker(database_url, smtp_server.url, campaign.id)
    deadline = time.monotonic() + 30
    while len(smtp_server.sink.messages) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    at_kill = len(smtp_server.sink.messages)
    assert 4 <= at_kill < 12

    models.db.connect(reuse_if_open=True)
    assert Campaign.get_by_id(campaign.id).lease_until is not None  # died holding it
    # The next worker may take over once the lease has lapsed.
    Campaign.update(lease_until=models.utcnow()).where(Campaign.id == campaign.id).execute()
    models.db.close()
    second = worker(database_url, smtp_server.url, campaign.id)
    assert second.wait(timeout=60) == 0

    models.db.connect(reuse_if_open=True)
    assert Campaign.get_by_id(campaign.id).status == "finished"
    assert {r.status for r in CampaignRecipient.select()} == {"sent"}
    per_address = collections.Counter(r for _f, rcpts, _m in smtp_server.sink.messages
                                      for r in rcpts)
    assert sorted(per_address) == sorted(c.primary_email for c in people)
    repeated = [address for address, times in per_address.items() if times > 1]
    assert len(repeated) <= 1 and max(per_address.values()) <= 2
    for address in repeated:
        ids = {m["Message-ID"] for _f, rcpts, m in smtp_server.sink.messages
               if rcpts == [address]}
        assert len(ids) == 1
    assert all(m["Message-ID"] == campaign_mail.message_id(campaign, r.id)
               for r in CampaignRecipient.select()
               for _f, rcpts, m in smtp_server.sink.messages if rcpts == [r.email])
