r"""Benchmarks of the back office's hot pages, each next to its raw baseline in the same run.

    .venv/bin/python -m tests.bench.run --customers 100000 --transactions 1000000 \
        --db /tmp/cards-bench.db --seconds 10

See tests/bench/README.md. Every request goes through a ``werkzeug.test.Client`` straight into
the WSGI app (no sockets, no server), sequentially, so the figures are the apps' own cost per
request. Ratios (app/raw) are what count: absolute req/s drift 15-20% on the shared machines.
Nothing here fails on timing.
"""
import argparse
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

# Before anything imports config: never touch the repository's instance/ folder or its secret.
os.environ.setdefault("CC_INSTANCE_DIR", str(Path(tempfile.gettempdir()) / "cards-bench-instance"))
os.environ.setdefault("SECRET_KEY", "bench-secret-key")
os.environ.setdefault("HUEY_IMMEDIATE", "1")

from flask import Flask, abort, render_template, request  # noqa: E402
from jinja2 import DictLoader  # noqa: E402
from werkzeug.test import Client  # noqa: E402

from tests.bench import search as bench_search  # noqa: E402
from tests.bench import tiers as bench_tiers  # noqa: E402
from tests.bench.data import ensure_dataset  # noqa: E402

OUT_DIR = Path(__file__).resolve().parent / "out"
TARGET = 0.60
CSRF_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')

# --- the raw baselines: one persistent sqlite3 connection, the same SQL, a minimal template ---

CARD_SQL = {
    "customer": 'SELECT c.*, t.code AS tier_code, t.name_zh AS tier_name_zh, '
                't.name_en AS tier_name_en FROM customer c '
                'LEFT OUTER JOIN tier t ON c.tier_id = t.id '
                'WHERE c.public_id = ? AND c.erased_at IS NULL LIMIT 1',
    "contacts": 'SELECT * FROM contact_point WHERE customer_id = ? '
                'ORDER BY is_primary DESC, kind',
    "tags": 'SELECT g.* FROM tag g JOIN customer_tag ct ON ct.tag_id = g.id '
            'WHERE ct.customer_id = ? ORDER BY g.name',
    "purchases": 'SELECT * FROM purchase WHERE customer_id = ? AND deleted_at IS NULL '
                 'ORDER BY occurred_at DESC LIMIT 50',
    "services": 'SELECT r.*, s.name AS staff_name FROM service_record r '
                'LEFT OUTER JOIN staff_user s ON r.staff_id = s.id '
                'WHERE r.customer_id = ? AND r.deleted_at IS NULL '
                'ORDER BY r.occurred_at DESC LIMIT 50',
    "interactions": 'SELECT i.*, s.name AS staff_name FROM interaction i '
                    'LEFT OUTER JOIN staff_user s ON i.staff_id = s.id '
                    'WHERE i.customer_id = ? AND i.deleted_at IS NULL '
                    'ORDER BY i.occurred_at DESC LIMIT 50',
    "tasks": 'SELECT * FROM task WHERE customer_id = ? AND done_at IS NULL ORDER BY due_date',
}

LIST_SQL = {
    "rows": 'SELECT c.*, t.code AS tier_code, t.name_zh AS tier_name_zh, '
            't.name_en AS tier_name_en FROM customer c '
            'LEFT OUTER JOIN tier t ON c.tier_id = t.id WHERE c.erased_at IS NULL '
            'ORDER BY c.updated_at DESC, c.id DESC LIMIT ? OFFSET ?',
    # the live cards counted as the app counts them (services.card_list.LIVE_CARDS): all
    # cards less the erased ones, which SQLite answers from the b-tree without reading rows
    "count": 'SELECT (SELECT COUNT(*) FROM customer) '
             '- (SELECT COUNT(*) FROM customer WHERE erased_at IS NOT NULL)',
}

RAW_CARD_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{ c.name }}</title></head>
<body>
<h1>{{ c.name }}</h1>
{% if c.alt_name %}<span>{{ c.alt_name }}</span>{% endif %}
{% if c.tier_code %}<span class="badge" data-tier="{{ c.tier_code }}">{{ c.tier_name_en }}</span>{% endif %}
<span class="status-{{ c.status }}">{{ c.status }}</span>
{% for t in tags %}<span class="badge">{{ t.name }}</span>{% endfor %}
<p>
  {% if c.company %}{{ c.company }}{% if c.job_title %} · {{ c.job_title }}{% endif %} · {% endif %}
  {{ c.province or '' }} {{ c.city or '' }}
  · {% if c.last_verified_at %}verified {{ c.last_verified_at[:10] }}{% else %}never verified{% endif %}
</p>
<dl>
  {% for p in contacts %}
  <dt>{{ p.kind }}</dt>
  <dd>{{ p.normalized if p.kind in ('mobile', 'phone') else p.value }}{% if p.is_primary %} <span>primary</span>{% endif %}</dd>
  {% endfor %}
  <dt>Total spend</dt>
  <dd>¥{{ c.total_spend }} · {{ c.purchase_count }} purchases</dd>
</dl>
<h2>Purchases</h2>
<table>
  <thead><tr><th>Date</th><th>Product</th><th>Quantity</th><th>Amount</th><th>Payment</th><th>Channel</th></tr></thead>
  <tbody>
  {% for p in purchases %}
    <tr><td>{{ p.occurred_at[:10] }}</td><td>{{ p.product }}</td><td>{{ p.quantity }}</td><td>{{ p.amount }} {{ p.currency }}</td><td>{{ p.payment_method or '' }}</td><td>{{ p.channel or '' }}</td></tr>
  {% else %}<tr><td colspan="6">No purchases yet.</td></tr>{% endfor %}
  </tbody>
</table>
<h2>Interactions</h2>
<ul>
  {% for i in interactions %}
  <li>
    <span>{{ i.occurred_at[:16] }} · {{ i.channel }} · {{ i.staff_name or '' }}</span>
    <div><strong>{{ i.subject }}</strong>{% if i.request %} — {{ i.request }}{% endif %}</div>
    {% if i.resolution %}<div>{{ i.resolution }}</div>{% endif %}
  </li>
  {% else %}<li>No interactions yet.</li>{% endfor %}
</ul>
<h2>Service records</h2>
<table>
  <thead><tr><th>Date</th><th>Type</th><th>Staff</th><th>Description</th><th>Satisfaction</th></tr></thead>
  <tbody>
  {% for s in services %}
    <tr><td>{{ s.occurred_at[:10] }}</td><td>{{ s.service_type }}</td><td>{{ s.staff_name or '' }}</td><td>{{ s.description }}</td><td>{{ s.satisfaction or '' }}</td></tr>
  {% else %}<tr><td colspan="5">No service records yet.</td></tr>{% endfor %}
  </tbody>
</table>
<div>
  <h2>Notes</h2><p>{{ c.notes or '—' }}</p>
  <h2>Special requirements</h2><p>{{ c.special_requirements or '—' }}</p>
</div>
<aside>
  <h2>Follow-ups</h2>
  <ul>
    {% for t in tasks %}<li>{{ t.due_date }} · {{ t.title }}</li>
    {% else %}<li>No open follow-ups.</li>{% endfor %}
  </ul>
</aside>
</body>
</html>
"""

RAW_LIST_TEMPLATE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Customer cards</title></head>
<body>
<h1>Customer cards</h1>
<span>{{ total }} cards</span>
<table>
  <thead>
    <tr><th>Name</th><th>Mobile</th><th>Email</th><th>Tier</th><th>Status</th><th>City</th><th>Total spend</th><th>Last purchase</th></tr>
  </thead>
  <tbody>
  {% for c in rows %}
    <tr>
      <td><a href="/cards/{{ c.public_id }}">{{ c.name }}</a>{% if c.company %} <span>· {{ c.company }}</span>{% endif %}</td>
      <td>{{ c.primary_mobile or '' }}</td>
      <td>{{ c.primary_email or '' }}</td>
      <td>{% if c.tier_code %}<span data-tier="{{ c.tier_code }}">{{ c.tier_name_en }}</span>{% endif %}</td>
      <td><span class="status-{{ c.status }}"></span> {{ c.status }}</td>
      <td>{{ c.city or '' }}</td>
      <td>¥{{ c.total_spend }}</td>
      <td>{{ c.last_purchase_at[:10] if c.last_purchase_at else '' }}</td>
    </tr>
  {% else %}
    <tr><td colspan="8">No cards yet.</td></tr>
  {% endfor %}
  </tbody>
</table>
<nav>{% if page > 1 %}<a href="?page={{ page - 1 }}">previous</a>{% endif %} {{ page }} / {{ pages }}
{% if page < pages %}<a href="?page={{ page + 1 }}">next</a>{% endif %}</nav>
</body>
</html>
"""


def create_raw_app(db_path):
    """A minimal Flask app doing the card page's and the list page's SQL by hand.

    One persistent sqlite3 connection (``app.raw_connection``; close it when done), rows as
    ``sqlite3.Row``, templates compiled once (Flask's normal template cache).
    """
    app = Flask("cards_raw_baseline")
    app.jinja_loader = DictLoader({"card.html": RAW_CARD_TEMPLATE, "list.html": RAW_LIST_TEMPLATE})
    connection = sqlite3.connect(db_path, check_same_thread=False)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA cache_size = -32000")  # as the app's connections
    app.raw_connection = connection

    @app.route("/cards/<public_id>")
    def card(public_id):
        c = connection.execute(CARD_SQL["customer"], (public_id,)).fetchone()
        if c is None:
            abort(404)
        key = (c["id"],)
        parts = {name: connection.execute(CARD_SQL[name], key).fetchall()
                 for name in ("contacts", "tags", "purchases", "services", "interactions",
                              "tasks")}
        return render_template("card.html", c=c, **parts)

    @app.route("/cards/")
    def index():
        page = max(1, request.args.get("page", 1, type=int))
        rows = connection.execute(LIST_SQL["rows"], (50, (page - 1) * 50)).fetchall()
        total = connection.execute(LIST_SQL["count"]).fetchone()[0]
        return render_template("list.html", rows=rows, total=total, page=page,
                               pages=max(1, -(-total // 50)))

    return app


RAW_QUERIES = {"card": len(CARD_SQL), "list": len(LIST_SQL)}


# --- the real app, signed in through its login form -----------------------------------------

def create_real_app(url):
    import wsgi
    return wsgi.create_app({"DATABASE_URL": url, "SECRET_KEY": os.environ["SECRET_KEY"],
                            "RATELIMIT_STORAGE_URI": "memory://", "MAIL_URL": "outbox",
                            "HUEY_IMMEDIATE": True, "TESTING": False})


def signed_in_client(app, email, password):
    """A cookie-keeping client signed in to the back office through the real form."""
    client = Client(app)
    page = client.get("/staff/login")
    match = CSRF_RE.search(page.get_data(as_text=True))
    if page.status_code != 200 or not match:
        raise RuntimeError(f"no CSRF token on /staff/login ({page.status_code})")
    response = client.post("/staff/login", data={"csrf_token": match.group(1), "email": email,
                                                 "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"staff sign-in failed ({response.status_code}): "
                           + response.get_data(as_text=True)[:300])
    return client


def getter(client, path):
    """A zero-argument function doing one GET; it raises unless the answer is 200."""
    def get():
        response = client.get(path)
        body = response.get_data()
        if response.status_code != 200:
            raise RuntimeError(f"GET {path}: {response.status_code}")
        return body
    return get


class QueryCounter(logging.Handler):
    """Counts the statements peewee runs (it logs each one on the ``peewee`` logger at DEBUG)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements = []

    def emit(self, record):
        msg = record.msg
        self.statements.append(msg[0] if isinstance(msg, tuple) else str(msg))

    def __enter__(self):
        self._logger = logging.getLogger("peewee")
        self._saved = (self._logger.level, self._logger.propagate)
        self._logger.setLevel(logging.DEBUG)
        self._logger.propagate = False
        self._logger.addHandler(self)
        return self

    def __exit__(self, *exc):
        self._logger.removeHandler(self)
        self._logger.setLevel(self._saved[0])
        self._logger.propagate = self._saved[1]


def count_queries(fn):
    with QueryCounter() as counter:
        fn()
    return counter.statements


# --- measuring ------------------------------------------------------------------------------

def measure(fn, seconds, warmup):
    """Call ``fn`` sequentially: ``warmup`` seconds unmeasured, then ``seconds`` measured."""
    deadline = time.perf_counter() + warmup
    while time.perf_counter() < deadline:
        fn()
    times = []
    clock = time.perf_counter
    start = clock()
    deadline = start + seconds
    now = start
    while now < deadline:
        fn()
        after = clock()
        times.append(after - now)
        now = after
    elapsed = now - start
    times.sort()
    return {"requests": len(times), "seconds": round(elapsed, 3),
            "rps": len(times) / elapsed if elapsed else 0.0,
            "p50_ms": 1000 * times[len(times) // 2],
            "p95_ms": 1000 * times[min(len(times) - 1, int(len(times) * 0.95))]}


def compare(name, app_fn, raw_fn, seconds, warmup, rounds, say):
    """Alternate app and raw measurements ``rounds`` times each; medians and their ratio."""
    runs = {"app": [], "raw": []}
    for round_ in range(1, rounds + 1):
        for side, fn in (("app", app_fn), ("raw", raw_fn)):
            result = measure(fn, seconds, warmup)
            runs[side].append(result)
            say(f"  {name} round {round_} {side}: {result['rps']:,.1f} req/s "
                f"(p50 {result['p50_ms']:.2f} ms, p95 {result['p95_ms']:.2f} ms, "
                f"{result['requests']} requests)")
    app_rps = statistics.median(r["rps"] for r in runs["app"])
    raw_rps = statistics.median(r["rps"] for r in runs["raw"])
    return {"app_rps": round(app_rps, 1), "raw_rps": round(raw_rps, 1),
            "ratio": round(app_rps / raw_rps, 3) if raw_rps else None, "target": TARGET,
            "app_p50_ms": round(statistics.median(r["p50_ms"] for r in runs["app"]), 3),
            "raw_p50_ms": round(statistics.median(r["p50_ms"] for r in runs["raw"]), 3),
            "runs": runs}


def _package(filename):
    """A short owner for a profiled function: a site-package, an app module or a builtin."""
    if filename.startswith("~") or filename.startswith("<"):
        return "builtins (C)"
    path = Path(filename)
    parts = path.parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    try:
        return str(path.relative_to(Path(__file__).resolve().parents[2]))
    except ValueError:
        return "stdlib:" + path.stem


def profile(fn, requests, path, top=20):
    """cProfile ``requests`` calls of ``fn``; write the stats (``path``, ``path``.txt) and return
    a short report: own time per package, then the top functions by own and cumulative time.

    cProfile roughly doubles the time of Python-heavy code, so read shares, not milliseconds.
    """
    fn()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        fn()
    profiler.disable()
    profiler.dump_stats(str(path))
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values()) or 1.0
    by_package = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():
        owner = _package(filename)
        by_package[owner] = by_package.get(owner, 0.0) + tottime
    lines = [f"profile of {requests} requests: {1000 * total / requests:.1f} ms per request "
             "under cProfile; own time by package:"]
    for owner, seconds in sorted(by_package.items(), key=lambda kv: -kv[1])[:12]:
        lines.append(f"  {100 * seconds / total:5.1f}%  {owner}")
    for key in ("tottime", "cumulative"):
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats(key).print_stats(top)
        body = stream.getvalue()
        body = body[body.index("ncalls"):] if "ncalls" in body else body
        lines.append(f"top {top} by {key}:\n{body.rstrip()}")
    report = "\n".join(lines)
    Path(str(path) + ".txt").write_text(report + "\n")
    return report


# --- the run --------------------------------------------------------------------------------

def parse_args(argv):
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--db", default=str(Path(tempfile.gettempdir()) / "cards-bench.db"),
                        help="SQLite file of the dataset (reused when big enough)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="measured time of each app or raw run")
    parser.add_argument("--warmup", type=float, default=1.0,
                        help="unmeasured time before each run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="app/raw alternations per benchmark (medians are reported)")
    parser.add_argument("--out", default=str(OUT_DIR / "results.json"))
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also cProfile N requests of each app page (stats in the out dir)")
    parser.add_argument("--verbose-profile", action="store_true",
                        help="print the top functions too, not only the shares per package")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--search", type=int, default=30, metavar="N",
                        help="queries per search class (0: skip the search benchmark)")
    parser.add_argument("--search-sorted", type=int, default=10, metavar="N",
                        help="broad searches per class asked with every sort (0: skip them)")
    parser.add_argument("--skip-pages", action="store_true",
                        help="only the search benchmark")
    parser.add_argument("--tiers", type=int, default=2, metavar="N",
                        help="rounds of the tier recalculation benchmark (0: skip it)")
    return parser.parse_args(argv)


def main(argv=None):
    """Run the benchmarks; print the summary and return the results (also written as JSON)."""
    args = parse_args(argv)

    def say(message):
        if not args.quiet:
            print(message, flush=True)

    import models

    started = time.perf_counter()
    say(f"dataset: {args.db} ({args.customers:,} customers, {args.transactions:,} purchases)")
    dataset = ensure_dataset(
        args.db, args.customers, args.transactions,
        progress=lambda m: say(f"  seeding [{time.perf_counter() - started:6.1f} s] {m}"))
    if dataset["seeded"]:
        say(f"  seeded in {dataset['seed_seconds']:.1f} s")
    else:
        say(f"  reused (holds {dataset['customers']:,} customers, "
            f"{dataset['transactions']:,} purchases)")

    app = create_real_app(dataset["url"])
    raw = create_raw_app(dataset["path"])
    try:
        client = signed_in_client(app, dataset["staff_email"], dataset["staff_password"])
        raw_client = Client(raw)
        pages = {
            "card": (f"/staff/cards/{dataset['bench_card']}", f"/cards/{dataset['bench_card']}"),
            "list": ("/staff/cards/?page=2", "/cards/?page=2"),
        }
        results, searched = {}, None
        if args.skip_pages:
            pages = {}
        for name, (app_path, raw_path) in pages.items():
            app_get, raw_get = getter(client, app_path), getter(raw_client, raw_path)
            app_body, raw_body = app_get(), raw_get()
            statements = count_queries(app_get)
            say(f"{name} page: {app_path} ({len(app_body):,} bytes, {len(statements)} queries) "
                f"vs raw {raw_path} ({len(raw_body):,} bytes, {RAW_QUERIES[name]} queries)")
            result = compare(name, app_get, raw_get, args.seconds, args.warmup, args.rounds, say)
            result.update({"app_path": app_path, "raw_path": raw_path,
                           "app_queries": len(statements), "raw_queries": RAW_QUERIES[name],
                           "app_sql": statements, "app_bytes": len(app_body),
                           "raw_bytes": len(raw_body)})
            results[name] = result
            if args.profile:
                OUT_DIR.mkdir(parents=True, exist_ok=True)
                result["profile"] = str(OUT_DIR / f"profile-{name}.prof")
                report = profile(app_get, args.profile, OUT_DIR / f"profile-{name}.prof")
                say(report if args.verbose_profile else report.split("top ")[0].rstrip())
                say(f"  (full profile in {result['profile']}.txt)")
        if args.search:
            say(f"search: {args.search} queries per class, end to end through the app")
            searched = bench_search.run(client, dataset["path"], args.search, say,
                                        args.search_sorted)
        tiered = None
        if args.tiers:
            say(f"tiers: recalculation of every card, {args.tiers} rounds (rolled back)")
            tiered = bench_tiers.run(dataset["path"], args.tiers, say)
    finally:
        raw.raw_connection.close()
        if not models.db.is_closed():
            models.db.close()

    summary = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(),
                    "platform": platform.platform()},
        "dataset": {k: dataset[k] for k in ("path", "customers", "transactions", "bench_card",
                                            "seeded", "seed_seconds", "counts")},
        "settings": {"seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds},
        "benchmarks": results,
        "search": searched,
        "tiers": tiered,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    say("")
    say(format_summary(summary))
    say(f"\nresults written to {out}")
    return summary


def format_summary(summary):
    head = (f"{'benchmark':<11}{'app req/s':>11}{'raw req/s':>11}{'app/raw':>9}{'target':>8}"
            f"{'':>5}{'app p50':>10}{'raw p50':>10}{'app SQL':>9}{'raw SQL':>9}")
    lines = [head, "-" * len(head)]
    for name, r in summary["benchmarks"].items():
        verdict = "ok" if r["ratio"] is not None and r["ratio"] >= r["target"] else "LOW"
        lines.append(f"{name + ' page':<11}{r['app_rps']:>11,.1f}{r['raw_rps']:>11,.1f}"
                     f"{r['ratio']:>9.2f}{'>=' + format(r['target'], '.2f'):>8}{verdict:>5}"
                     f"{r['app_p50_ms']:>8.2f}ms{r['raw_p50_ms']:>8.2f}ms"
                     f"{r['app_queries']:>9}{r['raw_queries']:>9}")
    if summary.get("search"):
        lines += ["", bench_search.format_summary(summary["search"]), ""]
    if summary.get("tiers"):
        lines += [bench_tiers.format_summary(summary["tiers"]), ""]
    d = summary["dataset"]
    seeded = f"seeded in {d['seed_seconds']:.1f} s" if d["seeded"] else "reused"
    lines.append(f"dataset: {d['customers']:,} customers, {d['transactions']:,} purchases "
                 f"({seeded}); {summary['settings']['rounds']} x {summary['settings']['seconds']}"
                 f" s per side, medians")
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])
