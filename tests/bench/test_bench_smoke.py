"""The benchmark harness still runs: a tiny dataset, half-second runs, every figure present.

Not part of the normal test run (pytest's addopts ignore tests/bench); run it explicitly:

    .venv/bin/python -m pytest tests/bench/test_bench_smoke.py

It checks the harness and the shape of the pages (a bounded number of queries), never speed.
"""
import json

from tests.bench import run

# The card's own 8 statements (services.cards: the card, three kinds of record,
# contacts, tags, open tasks, preferences), the session, the nav badge, the custom-field panel
# and the tier panel (its history, and for a manager the override form's tier list), and the
# pool's "returning the connection" line that the counter also sees.
MAX_CARD_QUERIES = 14


def test_runner_measures_all_four_and_the_card_page_has_a_bounded_query_count(tmp_path):
    out = tmp_path / "results.json"
    summary = run.main(["--customers", "300", "--transactions", "3000",
                        "--db", str(tmp_path / "bench.db"), "--seconds", "0.5",
                        "--warmup", "0.2", "--out", str(out), "--quiet"])

    assert json.loads(out.read_text()) == json.loads(json.dumps(summary))
    assert summary["dataset"]["seeded"] and summary["dataset"]["bench_card"]
    benchmarks = summary["benchmarks"]
    assert set(benchmarks) == {"card", "list"}
    for name, result in benchmarks.items():
        assert result["app_rps"] > 0, name
        assert result["raw_rps"] > 0, name
        assert result["ratio"] > 0, name
        assert len(result["runs"]["app"]) == len(result["runs"]["raw"]) == 2, name
        assert all(r["requests"] > 0 for side in ("app", "raw") for r in result["runs"][side])

    card = benchmarks["card"]
    assert 1 <= card["app_queries"] <= MAX_CARD_QUERIES, card["app_sql"]
    assert len(card["app_sql"]) == card["app_queries"]
    # Both pages really showed the bench card (not a login redirect or an error page).
    assert card["app_bytes"] > 5000 and card["raw_bytes"] > 5000


def test_dataset_is_reused_when_big_enough(tmp_path):
    from tests.bench.data import ensure_dataset
    path = tmp_path / "bench.db"
    first = ensure_dataset(path, 60, 600)
    again = ensure_dataset(path, 50, 500)
    bigger = ensure_dataset(path, 80, 800)

    assert first["seeded"] and not again["seeded"] and bigger["seeded"]
    assert again["bench_card"] == first["bench_card"]
    assert bigger["customers"] == 80


def test_every_page_is_timed_on_a_database_it_seeds(tmp_path, monkeypatch):
    """pages_db seeds an empty database, signs in and times every page (each answered 200)."""
    from tests.bench import pages_db
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'pages.db'}")
    out = tmp_path / "pages.json"
    pages_db.main(["--customers", "200", "--transactions", "1000", "--requests", "2",
                   "--out", str(out)])
    result = json.loads(out.read_text())
    assert result["cards"] == 200
    assert {"list, page 2", "card, most purchases", "search phone4", "dashboard", "tiers",
            "audit"} <= set(result["pages"])
    assert all(1 <= page["n"] <= 2 and page["p50"] > 0 for page in result["pages"].values()), result
