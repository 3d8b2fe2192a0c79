"""The back office's hot pages timed on any database, PostgreSQL above all.

``run.py`` compares SQLite pages with raw baselines; this one answers "is every page fast with
100k cards" on the database a business runs, such as PostgreSQL: the list (several pages and
sorts, a filter), the card with 50 purchases and a random card, the search per kind of query,
a broad search sorted by name, My day and the dashboard. Every request goes through a
``werkzeug.test.Client`` into the real app, signed in through the login form, sequentially:
the app's own cost per request, database included. p50/p95 per page; nothing fails on time.

    DATABASE_URL=postgres://cards:cards@127.0.0.1:5432/cards_bench \\
        .venv/bin/python -m tests.bench.pages_db --customers 100000 --transactions 1000000

An empty database is migrated and seeded first with ``services.demo.seed_scale`` (100k cards
and 1M purchases: about 90 s on PostgreSQL here); a database that already holds cards is used
as it is (its bench card is the one with the most purchases).
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import quote

from peewee import fn

from tests.bench.run import create_real_app, signed_in_client

STAFF_EMAIL, STAFF_PASSWORD = "pages-bench@example.com", "pages-bench-password-1"
HTMX = {"HX-Request": "true"}


def prepare(customers, transactions, say):
    """Migrate and seed an empty database; add the bench's sign-in. The bench card's id."""
    import models
    from models import Customer, Purchase, StaffUser
    from services import accounts, demo, schema
    from services.actors import Actor

    schema.upgrade()
    if not Customer.select().exists():
        started = time.perf_counter()
        demo.seed_scale(customers=customers, transactions=transactions)
        say(f"  seeded {customers:,} cards, {transactions:,} purchases in "
            f"{time.perf_counter() - started:.0f} s")
    if StaffUser.get_or_none(StaffUser.email == STAFF_EMAIL) is None:
        accounts.create_staff(STAFF_EMAIL, "Pages Bench", STAFF_PASSWORD, "manager",
                              Actor.system("bench"))
    most = (Purchase.select(Purchase.customer).group_by(Purchase.customer)
            .order_by(fn.COUNT(Purchase.id).desc()).limit(1).scalar())
    return Customer.get_by_id(most).public_id, models.Customer.select().count()


def queries(rng, count):
    """Search queries of each kind, from random cards: a 2-character name, its pinyin, the
    last 4 digits of a mobile, an email fragment."""
    from pypinyin import lazy_pinyin

    from models import Customer
    names = [n for (n,) in Customer.select(Customer.name)
             .where(fn.LENGTH(Customer.name) == 2).limit(count * 20).tuples()]
    mobiles = [m for (m,) in Customer.select(Customer.primary_mobile)
               .where(Customer.primary_mobile.is_null(False)).limit(count * 20).tuples()]
    emails = [e for (e,) in Customer.select(Customer.primary_email)
              .where(Customer.primary_email.is_null(False)).limit(count * 20).tuples()]
    names, mobiles, emails = (rng.sample(x, min(count, len(x))) for x in (names, mobiles, emails))
    return {"hanzi2": names, "pinyin": ["".join(lazy_pinyin(n)) for n in names],
            "phone4": [m[-4:] for m in mobiles], "email": [e.split("@")[0][-6:] for e in emails]}


def timed(client, paths, headers=None, warmup=3):
    """p50/p95 in ms of GETting each path of ``paths`` (cycled), after ``warmup`` requests."""
    times = []
    for i, path in enumerate(paths[:warmup] + paths):
        started = time.perf_counter()
        response = client.get(path, headers=headers)
        response.get_data()
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        if i >= warmup:
            times.append(elapsed)
    times.sort()
    return {"p50": statistics.median(times),
            "p95": times[max(0, int(len(times) * 0.95) - 1)], "n": len(times)}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument("--out", default=str(Path(__file__).parent / "out" / "pages_db.json"))
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        sys.exit("Set DATABASE_URL to the database to measure (it is seeded when empty).")
    os.environ.setdefault("SECRET_KEY", "pages-bench-secret")
    app = create_real_app(url)
    with app.backoffice.app_context():
        bench_card, total = prepare(args.customers, args.transactions, print)
        rng = random.Random(7)
        from models import Customer
        some = [p for (p,) in Customer.select(Customer.public_id).order_by(fn.RANDOM())
                .limit(args.requests).tuples()]
        asked = queries(rng, args.requests)
        city = (Customer.select(Customer.city).where(Customer.city.is_null(False))
                .group_by(Customer.city).order_by(fn.COUNT(Customer.id).desc()).scalar())
    client = signed_in_client(app, STAFF_EMAIL, STAFF_PASSWORD)
    n = args.requests
    pages = [
        ("list, page 2", ["/staff/cards/?page=2"] * n, None),
        ("list, page 100", ["/staff/cards/?page=100"] * n, None),
        ("list by name", ["/staff/cards/?sort=name&page=3"] * n, None),
        ("list by spend", ["/staff/cards/?sort=spend"] * n, None),
        ("list, the largest city", ["/staff/cards/?city=" + quote(city)] * n, None),
        ("list, a city of nobody", ["/staff/cards/?city=" + quote("无人城")] * n, None),
        ("card, most purchases", [f"/staff/cards/{bench_card}"] * n, None),
        ("card, random", [f"/staff/cards/{p}" for p in some], None),
        *[(f"search {kind}", ["/staff/cards/results?q=" + quote(q) for q in qs], HTMX)
          for kind, qs in asked.items() if qs],
        ("search zhang, by name", ["/staff/cards/results?q=zhang&sort=name"] * n, HTMX),
        ("my day", ["/staff/tasks/"] * n, None),
        ("dashboard", ["/staff/"] * n, None),
        *[(f"card {tab}", [f"/staff/cards/{bench_card}/{tab}/"] * n, HTMX)
          for tab in ("purchase", "service", "interaction")],
        ("card edit form", [f"/staff/cards/{bench_card}/edit"] * n, None),
        ("card history", [f"/staff/cards/{bench_card}/history"] * n, None),
        ("new card form", ["/staff/cards/new"] * n, None),
        *[(path, [f"/staff/{path}/"] * n, None)
          for path in ("audit", "feedback", "reviews", "outbox", "requests", "segments",
                       "tiers", "dictionary", "campaigns", "surveys")],
    ]
    print(f"{url.split('@')[-1]}: {total:,} cards; {n} timed requests per page (ms)")
    results = {}
    for label, paths, headers in pages:
        results[label] = timed(client, paths, headers)
        print(f"  {label:24s} p50 {results[label]['p50']:7.1f}   p95 {results[label]['p95']:7.1f}",
              flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"database": url.split("://")[0], "cards": total,
                                          "pages": results}, indent=2), encoding="utf-8")
    print(f"results written to {args.out}")


if __name__ == "__main__":
    main()
