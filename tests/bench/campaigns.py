"""Campaign send rate: the app's sender next to raw smtplib on one connection.

App: ``services.campaign_send.send`` for a campaign to N consenting cards (a static list):
per batch the consent/erasure checks, per recipient the personalised text from the email
template, its one-click unsubscribe link, the stored EmailMessage row with its Message-ID, the
last-moment consent check, the SMTP hand-over and the recipient's status written back.
Raw: ``smtplib.SMTP`` on one connection sending N prebuilt-on-the-fly ``EmailMessage`` objects of
the same size and headers, nothing stored. Both talk to the same SMTP sink, a separate
``python -m aiosmtpd`` process on 127.0.0.1 that accepts and discards (so the sink's own cost is
not on the measured process). App and raw alternate; medians are reported.

    .venv/bin/python -m tests.bench.campaigns --recipients 10000 --rounds 2

The first app round also mints each card's unsubscribe link (later campaigns reuse it), so it
is reported on its own as "first campaign".
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from email.message import EmailMessage as MimeMessage
from pathlib import Path

os.environ.setdefault("HUEY_IMMEDIATE", "1")
TARGET = 0.70  # the app sends at least 70% as fast as raw smtplib
OUT = Path(__file__).parent / "out" / "campaigns.json"


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink():
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"127.0.0.1:{port}",
         "-c", "aiosmtpd.handlers.Sink"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the SMTP sink did not start")


def build_dataset(directory, recipients, mail_url):
    """A migrated SQLite database with ``recipients`` consenting cards in a static list."""
    import models
    import wsgi
    from services import schema
    from services.demo.reference import ensure_purposes

    url = f"sqlite:///{directory}/bench-campaigns.db"
    models.bind(url)
    schema.upgrade()
    app = wsgi.create_app({"DATABASE_URL": url, "MAIL_URL": mail_url,
                           "SECRET_KEY": "bench-secret", "TESTING": True})
    purposes = ensure_purposes(models.utcnow())
    purpose = models.ConsentPurpose.get(models.ConsentPurpose.code == "email_marketing")
    now = models.utcnow()
    with models.atomic():
        rows = [{"name": f"客户{i:05d}", "primary_email": f"c{i:05d}@example.com",
                 "name_pinyin": f"kehu{i:05d}", "preferred_language": "zh" if i % 4 else "en"}
                for i in range(recipients)]
        for start in range(0, len(rows), 500):
            models.Customer.insert_many(rows[start:start + 500]).execute()
        ids = [c.id for c in models.Customer.select(models.Customer.id)]
        events = [{"customer": cid, "purpose": purpose.id, "granted": True,
                   "policy_version": purpose.current_version, "source": "staff", "actor_kind": "system",
                   "created_at": now} for cid in ids]
        for start in range(0, len(events), 500):
            models.ConsentEvent.insert_many(events[start:start + 500]).execute()
        segment = models.Segment.create(name="bench", kind="static")
        members = [{"segment": segment.id, "customer": cid} for cid in ids]
        for start in range(0, len(members), 500):
            models.SegmentMember.insert_many(members[start:start + 500]).execute()
        marketer = models.StaffUser.create(email="bench@example.com", name="Bench",
                                           password_hash="x", role="marketer")
    del purposes
    return app, segment, marketer


BODY_ZH = ("{{ name }}您好！\n\n春季新品已经到店，作为{{ tier }}会员，您可以在本周提前选购，"
           "并享受会员专属折扣。\n\n欢迎到店或在微信商城选购。")
BODY_EN = ("Hello {{ name }},\n\nOur spring collection has arrived. As a member you can shop "
           "it this week before everyone else, with your member discount.\n\nSee you soon.")


def app_round(segment, marketer, n):
    import models
    from services import campaign_lifecycle, campaign_send, campaigns
    from services.actors import Actor

    actor = Actor.system("bench")
    campaign_lifecycle._send_task = lambda: (lambda campaign_id: None)  # queue only; timed below
    campaign = campaigns.create(actor, marketer, {
        "name": f"bench {n}", "segment": segment.public_id, "subject_zh": "{{ name }}，春季新品",
        "subject_en": "{{ name }}, new for spring", "body_zh": BODY_ZH, "body_en": BODY_EN,
        "attribution_days": "30"})
    campaign_lifecycle.start(campaign, actor)
    start = time.perf_counter()
    counts = campaign_send.send(campaign.id)
    elapsed = time.perf_counter() - start
    status = models.Campaign.get_by_id(campaign.id).status
    assert status == "finished" and counts["sent"] == segment_size(segment), (status, counts)
    return elapsed, counts["sent"]


def segment_size(segment):
    import models
    return models.SegmentMember.select().where(models.SegmentMember.segment == segment.id).count()


def raw_round(port, n):
    import smtplib
    start = time.perf_counter()
    conn = smtplib.SMTP("127.0.0.1", port, timeout=30)
    for i in range(n):
        msg = MimeMessage()
        msg["From"] = "Customer Cards <noreply@example.com>"
        msg["To"] = f"客户{i:05d} <c{i:05d}@example.com>"
        msg["Subject"] = f"客户{i:05d}，春季新品"
        msg["Message-ID"] = f"<raw.{i}@example.com>"
        msg["List-Unsubscribe"] = f"<http://127.0.0.1:5000/unsubscribe/{'x' * 60}{i}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg.set_content(BODY_ZH.replace("{{ name }}", f"客户{i:05d}") + "\n\n--\n" + "退订" * 40)
        conn.send_message(msg)
    conn.quit()
    return time.perf_counter() - start, n


def run(recipients, rounds, say=print):
    directory = tempfile.mkdtemp(prefix="cards-bench-campaigns-")
    sink, port = start_sink()
    try:
        say(f"dataset: {recipients} consenting cards ...")
        _app, segment, marketer = build_dataset(directory, recipients, f"smtp://127.0.0.1:{port}")
        app_times, raw_times = [], []
        first = None
        for n in range(rounds + 1):
            raw_elapsed, sent = raw_round(port, recipients)
            app_elapsed, app_sent = app_round(segment, marketer, n)
            if n == 0:
                first = app_elapsed
            else:
                app_times.append(app_elapsed)
            raw_times.append(raw_elapsed)
            say(f"round {n}: app {app_sent / app_elapsed:,.0f} msg/s, "
                f"raw {sent / raw_elapsed:,.0f} msg/s")
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    app_rate = recipients / statistics.median(app_times)
    raw_rate = recipients / statistics.median(raw_times)
    result = {"recipients": recipients, "rounds": rounds, "app_per_s": round(app_rate, 1),
              "raw_per_s": round(raw_rate, 1), "ratio": round(app_rate / raw_rate, 3),
              "first_campaign_per_s": round(recipients / first, 1), "target": TARGET,
              "app_seconds": app_times, "raw_seconds": raw_times, "load": os.getloadavg()}
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)
    result = run(args.recipients, args.rounds)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"campaign send, {args.recipients} recipients: app {result['app_per_s']:,.0f}/s, "
          f"raw smtplib {result['raw_per_s']:,.0f}/s, ratio {result['ratio']:.2f} "
          f"(target >= {TARGET}); first campaign {result['first_campaign_per_s']:,.0f}/s; "
          f"load {result['load'][0]:.1f}")


if __name__ == "__main__":
    main()
