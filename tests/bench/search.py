"""The search benchmark: end-to-end latency of the card list's search fragment per query class,
and recall against a LIKE scan of the same data.

Query classes (QUALITY.md): a 2-character 汉字 name (张伟), full pinyin (zhangwei), initials (zw),
the last 4 digits of a mobile, an email fragment, a company fragment. Queries come from random
live cards of the benchmark database (a fixed seed); each is asked once as a warm-up and then
timed: ``GET /staff/cards/results?q=...`` through the signed-in app, the whole request (session,
search, count, the first 50 rows, the fragment). Recall compares the ids the search index
finds with ``LIKE '%q%'`` over the fields the class is about, through a plain sqlite3
connection.

Broad searches sorted (``--search-sorted``): a surname (one 汉字, e.g. 张) and a pinyin syllable
(e.g. zhang), each matching tens of thousands of cards at 1M, more than the list's SEARCH_CAP,
asked with every sort of the list but the default (by name, spend, last contact, newest):
``GET /staff/cards/results?q=...&sort=...``, p50/p95 per class and sort.

seed_scale cards have no company: the first run gives every 1000th card one (prefix x suffix,
about one card per name) through an UPDATE, which the index triggers pick up.
"""
import random
import sqlite3
import statistics
import time
from urllib.parse import quote

from pypinyin import lazy_pinyin

from services import search

CLASSES = ("hanzi2", "pinyin", "initials", "phone4", "email", "company")
COMPANY_PREFIXES = ("云帆", "华夏", "蓝海", "锦程", "新禾", "瑞丰", "恒信", "德康", "青禾", "万象",
                    "星河", "金桥", "宏图", "东方", "南山", "北辰", "盛世", "天成", "汇通", "嘉禾",
                    "鼎盛", "远航", "海纳", "晨光", "博雅", "同創", "安泰", "长青", "佳和", "明德")
COMPANY_SUFFIXES = ("网络科技", "精密制造", "贸易", "物流", "教育咨询", "餐饮管理", "金融服务",
                    "医疗器械", "设计", "置业", "文化传媒", "电子商务", "生物科技", "建筑工程",
                    "食品", "服饰", "家居", "汽车服务", "旅游", "环保科技", "信息技术", "广告",
                    "新能源", "健康管理", "农业", "化工", "印刷", "软件", "供应链", "酒店管理",
                    "美容", "体育", "宠物用品")
COMPANY_EVERY = 1000  # about one card per company name
BROAD_CLASSES = ("surname", "syllable")
BROAD_SORTS = ("name", "spend", "last_contact", "newest")
BROAD_TARGET_MS = 100
# LIKE over the fields each class is about
CLASS_FIELDS = {"hanzi2": ("c.name", "c.alt_name"), "pinyin": ("c.name_pinyin",),
                "initials": ("c.name_initials",), "phone4": ("p.normalized",),
                "email": ("p.normalized",), "company": ("c.company",)}

def ensure_companies(connection, say):
    """Give every COMPANY_EVERY-th card a company, once; the index triggers follow."""
    if connection.execute("SELECT 1 FROM customer WHERE company IS NOT NULL LIMIT 1").fetchone():
        return False
    started = time.perf_counter()
    names = [p + s + "有限公司" for p in COMPANY_PREFIXES for s in COMPANY_SUFFIXES]
    connection.create_function("bench_company", 1, lambda i: names[i % len(names)])
    with connection:
        connection.execute(f"UPDATE customer SET company = bench_company(id / {COMPANY_EVERY}) "
                           f"WHERE id % {COMPANY_EVERY} = 0 AND erased_at IS NULL")
    say(f"  companies set on every {COMPANY_EVERY}th card in {time.perf_counter() - started:.1f} s")
    return True


def pick_queries(connection, per_class, seed=11):
    """{class: [query, ...]} from random live cards."""
    rng = random.Random(seed)
    top = connection.execute("SELECT MAX(id) FROM customer").fetchone()[0] or 0
    queries = {name: [] for name in CLASSES}

    def card():
        return connection.execute(
            # (+erased_at: by primary key, whatever the planner's statistics say)
            "SELECT name, name_pinyin, name_initials, primary_mobile, primary_email, company "
            "FROM customer WHERE id >= ? AND +erased_at IS NULL ORDER BY id LIMIT 1",
            (rng.randint(1, top),)).fetchone()

    attempts = 0
    while any(len(q) < per_class for q in queries.values()) and attempts < per_class * 400:
        attempts += 1
        name, pinyin, initials, mobile, email, company = card() or (None,) * 6
        if name is None:
            continue
        chinese = all("\u4e00" <= ch <= "\u9fff" for ch in name)
        offer = {
            "hanzi2": name[:2] if chinese and len(name) >= 2 else None,
            "pinyin": pinyin if chinese else None,
            "initials": initials if chinese and len(initials) >= 2 else None,
            "phone4": mobile[-4:] if mobile else None,
            "email": email.split("@")[0][-9:] if email else None,
            "company": company[:4] if company else None,
        }
        for name_, query in offer.items():
            if query and len(queries[name_]) < per_class and query not in queries[name_]:
                queries[name_].append(query)
    return queries


def pick_broad(connection, per_class, seed=12):
    """{class: [query, ...]}: the surnames (first 汉字) and their first pinyin syllables of random
    Chinese names, most common first (the broadest searches people type)."""
    rng = random.Random(seed)
    top = connection.execute("SELECT MAX(id) FROM customer").fetchone()[0] or 0
    seen = {}
    for _ in range(per_class * 200):
        row = connection.execute("SELECT name FROM customer WHERE id >= ? ORDER BY id LIMIT 1",
                                 (rng.randint(1, top),)).fetchone()
        if row and row[0] and all("\u4e00" <= ch <= "\u9fff" for ch in row[0]):
            seen[row[0][0]] = seen.get(row[0][0], 0) + 1
    surnames = sorted(seen, key=lambda ch: (-seen[ch], ch))[:per_class]
    syllables = list(dict.fromkeys(lazy_pinyin(ch)[0] for ch in surnames))[:per_class]
    return {"surname": surnames, "syllable": syllables}


def run_broad(client, connection, per_class, say):
    """p50/p95 of broad searches sorted every way but the default, through the app."""
    queries = pick_broad(connection, per_class)
    results = {}
    for name in BROAD_CLASSES:
        matches = [len(_index_ids(connection, q)) for q in queries[name]]
        for sort in BROAD_SORTS:
            times = []
            for query in queries[name]:
                path = f"/staff/cards/results?q={quote(query)}&sort={sort}"
                response = client.get(path)  # warm-up
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                started = time.perf_counter()
                client.get(path).get_data()
                times.append((time.perf_counter() - started) * 1000)
            if not times:
                continue
            r = results[f"{name}/{sort}"] = {
                "queries": len(times), "examples": queries[name][:5],
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(_percentile(times, 95), 2), "max_ms": round(max(times), 2),
                "median_matches": statistics.median(matches), "max_matches": max(matches)}
            say(f"  broad {name + '/' + sort:<22} p50 {r['p50_ms']:7.2f} ms  "
                f"p95 {r['p95_ms']:7.2f} ms  matches median {r['median_matches']:,}  "
                f"e.g. {', '.join(r['examples'][:3])}")
    return results


def _like_ids(connection, query, fields):
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    condition = " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields)
    join = " LEFT JOIN contact_point p ON p.customer_id = c.id" if any(
        f.startswith("p.") for f in fields) else ""
    rows = connection.execute(f"SELECT DISTINCT c.id FROM customer c{join} "
                              f"WHERE c.erased_at IS NULL AND ({condition})",
                              [pattern] * len(fields))
    return {r[0] for r in rows}


def _like_ids_many(connection, queries, fields):
    """{query: _like_ids(connection, query, fields)} for many queries in one scan of the
    table (one LIKE scan per query over 1M cards takes minutes): the rows matching any
    query, then each row given to the queries it matches, case-insensitive for ASCII like
    SQLite's LIKE."""
    if not queries:
        return {}
    patterns = ["%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
                for q in queries]
    condition = " OR ".join(f"{f} LIKE ? ESCAPE '\\'" for f in fields for _ in patterns)
    join = " LEFT JOIN contact_point p ON p.customer_id = c.id" if any(
        f.startswith("p.") for f in fields) else ""
    rows = connection.execute(f"SELECT c.id, {', '.join(fields)} FROM customer c{join} "
                              f"WHERE c.erased_at IS NULL AND ({condition})",
                              [p for _ in fields for p in patterns])

    def fold(text):
        return "".join(ch.lower() if ch.isascii() else ch for ch in text)

    found = {q: set() for q in queries}
    folded = {q: fold(q) for q in queries}
    for row in rows:
        values = [fold(v) for v in row[1:] if v]
        for query in queries:
            if any(folded[query] in v for v in values):
                found[query].add(row[0])
    return found


def _index_ids(connection, query):
    """The ids the search index finds for ``query``: the app's own SQL."""
    terms = search.terms(query)
    match = " AND ".join(search._fts_phrase(t) for t in terms)
    return {r[0] for r in connection.execute(
        "SELECT rowid FROM customer_search WHERE customer_search MATCH ?", (match,))}


def _percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def run(client, db_path, per_class, say, sorted_per_class=10):
    """Measure every class; return {"classes": {class: {p50_ms, p95_ms, max_ms, recall, ...}},
    "broad": {class/sort: {p50_ms, p95_ms, ...}}, ...} (no broad ones when
    ``sorted_per_class`` is 0)."""
    connection = sqlite3.connect(db_path)
    try:
        companies_added = ensure_companies(connection, say)
        queries = pick_queries(connection, per_class)
        results = {}
        for name in CLASSES:
            times, recalls, matches = [], [], []
            likes = _like_ids_many(connection, queries[name], CLASS_FIELDS[name])
            for query in queries[name]:
                path = "/staff/cards/results?q=" + quote(query)
                response = client.get(path)  # warm-up: the first read of cold pages
                if response.status_code != 200:
                    raise RuntimeError(f"{path} answered {response.status_code}")
                started = time.perf_counter()
                response = client.get(path)
                response.get_data()
                times.append((time.perf_counter() - started) * 1000)
                found = _index_ids(connection, query)
                like = likes[query]
                recalls.append(len(found & like) / len(like) if like else 1.0)
                matches.append(len(found))
            if not times:
                results[name] = {"queries": 0}
                continue
            results[name] = {
                "queries": len(times), "examples": queries[name][:5],
                "p50_ms": round(statistics.median(times), 2),
                "p95_ms": round(_percentile(times, 95), 2), "max_ms": round(max(times), 2),
                "recall": round(min(recalls), 4),
                "median_matches": statistics.median(matches), "max_matches": max(matches),
            }
            r = results[name]
            say(f"  search {name:<9} p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms  "
                f"recall {r['recall']:.3f}  "
                f"matches median {r['median_matches']:,} max {r['max_matches']:,}  "
                f"e.g. {', '.join(r['examples'][:3])}")
        broad = run_broad(client, connection, sorted_per_class, say) if sorted_per_class \
            else {}
        return {"classes": results, "companies_added": companies_added,
                "per_class": per_class, "target_p95_ms": 50, "broad": broad,
                "broad_target_p95_ms": BROAD_TARGET_MS}
    finally:
        connection.close()


def format_summary(search_result):
    lines = [(f"{'search':<11}{'p50':>10}{'p95':>10}{'target':>9}{'':>5}{'recall':>8}"
             f"{'matches':>10}")]
    for name, r in search_result["classes"].items():
        if not r.get("queries"):
            lines.append(f"{name:<11}  (no queries)")
            continue
        verdict = "ok" if r["p95_ms"] < search_result["target_p95_ms"] and r["recall"] == 1 \
            else "LOW"
        lines.append(f"{name:<11}{r['p50_ms']:>8.2f}ms{r['p95_ms']:>8.2f}ms{'<50ms':>9}"
                     f"{verdict:>5}{r['recall']:>8.3f}{r['median_matches']:>10,}")
    if search_result.get("broad"):
        target = search_result.get("broad_target_p95_ms", BROAD_TARGET_MS)
        lines += ["", (f"{'broad, sorted':<24}{'p50':>10}{'p95':>10}{'target':>9}{'':>5}"
                       f"{'matches':>10}")]
        for name, r in search_result["broad"].items():
            verdict = "ok" if r["p95_ms"] < target else "LOW"
            lines.append(f"{name:<24}{r['p50_ms']:>8.2f}ms{r['p95_ms']:>8.2f}ms"
                         f"{'<' + str(target) + 'ms':>9}{verdict:>5}{r['median_matches']:>10,}")
    return "\n".join(lines)
