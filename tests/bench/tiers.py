"""Tier recalculation over the whole dataset next to the raw SQL aggregation it rests on.

App: ``services.tiers.recalculate`` (one aggregate pass into a temporary table, the history as
INSERT ... SELECT, one UPDATE ... FROM, one audit event), timed in two cases: "steady" (the cards
already hold the tiers the rules give, as after a nightly run) and "every card changes" (every
tier cleared first: 100k history rows and 100k updated cards). Raw: the same GROUP BY (spend and
orders per tier window, per customer) through the ``sqlite3`` module, every row fetched.

Each app run is rolled back, so the shared dataset is left as it was.
"""
import datetime
import sqlite3
import statistics
import time

TARGET = 1.5  # recalculation at most 1.5x the raw aggregation


def _raw_sql(windows):
    sums = ", ".join(
        "ROUND(SUM(CASE WHEN occurred_at >= ? THEN amount ELSE 0 END), 2), "
        "SUM(CASE WHEN occurred_at >= ? THEN 1 ELSE 0 END)" for _ in windows)
    return (f"SELECT customer_id, {sums} FROM purchase WHERE occurred_at >= ? "
            "AND deleted_at IS NULL AND order_status NOT IN ('refunded', 'cancelled') "
            "GROUP BY customer_id")


def _timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def run(db_path, rounds, say):
    """Alternate app and raw ``rounds`` times; medians in seconds and the ratios."""
    import models
    from services import tiers
    from services.actors import Actor

    actor = Actor.system("bench")
    windows = sorted({t.window_days for t in tiers.ranked()} or {365})
    now = models.utcnow()
    params = []
    for days in windows:
        since = str(now - datetime.timedelta(days=days))
        params += [since, since]
    params.append(str(now - datetime.timedelta(days=windows[-1])))
    raw = sqlite3.connect(db_path)

    def app_pass(clear_first):
        with models.db.atomic() as txn:
            if clear_first:
                models.Customer.update(tier=None).execute()
            seconds, summary = _timed(lambda: tiers.recalculate(actor))
            txn.rollback()
        return seconds, summary

    runs = {"app": [], "app_all_change": [], "raw": []}
    try:
        for round_ in range(1, rounds + 1):
            seconds, summary = app_pass(False)
            runs["app"].append(seconds)
            say(f"  tiers round {round_} app (steady): {seconds:.2f} s, {summary}")
            seconds, rows = _timed(lambda: len(raw.execute(_raw_sql(windows), params).fetchall()))
            runs["raw"].append(seconds)
            say(f"  tiers round {round_} raw GROUP BY: {seconds:.2f} s, {rows:,} customers")
            seconds, summary = app_pass(True)
            runs["app_all_change"].append(seconds)
            say(f"  tiers round {round_} app (every card changes): {seconds:.2f} s, {summary}")
    finally:
        raw.close()
    app, worst, base = (statistics.median(runs[k]) for k in ("app", "app_all_change", "raw"))
    return {"app_seconds": round(app, 3), "app_all_change_seconds": round(worst, 3),
            "raw_seconds": round(base, 3), "ratio": round(app / base, 3),
            "ratio_all_change": round(worst / base, 3), "target": TARGET,
            "windows": windows, "runs": runs}


def format_summary(result):
    verdict = "ok" if result["ratio"] <= TARGET else "HIGH"
    return (f"tier recalculation: {result['app_seconds']:.2f} s steady, "
            f"{result['app_all_change_seconds']:.2f} s when every card changes; raw GROUP BY "
            f"{result['raw_seconds']:.2f} s; app/raw {result['ratio']:.2f} ({verdict}, target "
            f"<= {TARGET}), every card changing {result['ratio_all_change']:.2f}")
