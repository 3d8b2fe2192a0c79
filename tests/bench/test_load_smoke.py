"""The load runner still works end to end: a tiny dataset, a few users, a few seconds.

Not part of the normal test run (pytest's addopts ignore tests/bench); run it explicitly:

    .venv/bin/python -m pytest tests/bench/test_load_smoke.py

It checks that gunicorn starts and is stopped again, that every user signs in through the real
forms and works without an error, and that the figures come out; never speed.
"""
import json
import os

from tests.bench import load


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_runner_signs_users_in_reports_the_figures_and_stops_gunicorn(tmp_path):
    out = tmp_path / "load.json"
    summary = load.main(["--db", str(tmp_path / "cards.db"), "--source", "",
                         "--customers", "200", "--transactions", "1000",
                         "--users", "5", "--seconds", "4", "--ramp", "0.5",
                         "--workers", "1", "--threads", "4", "--out", str(out), "--quiet"])

    assert json.loads(out.read_text()) == json.loads(json.dumps(summary))
    assert summary["settings"]["staff"] == 4 and summary["settings"]["portal"] == 1
    kinds = summary["kinds"]
    # every user signed in once through the real form (CSRF token from the page)
    assert kinds["staff_login"]["count"] == 4 and kinds["portal_login"]["count"] == 1
    overall = summary["overall"]
    assert overall["count"] > 10 and overall["rps"] > 0
    assert overall["p50_ms"] <= overall["p95_ms"] <= overall["p99_ms"] <= overall["max_ms"]
    assert {"search_hanzi2", "search_pinyin", "search_phone4"} & set(kinds)
    # no request failed, no page lacked what the simulated user looked for, no server error
    assert summary["errors_whole_run"] == 0, summary["error_samples"]
    assert summary["runner_error_count"] == 0, summary["runner_errors"]
    assert summary["server_log"]["tracebacks"] == 0, summary["server_log"]
    # gunicorn (that process) is gone
    assert not _alive(summary["server_pid"])
