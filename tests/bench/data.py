"""The benchmark dataset: a SQLite file seeded by ``services.demo.seed_scale`` plus a staff user
to sign in with, reused across runs when it is already big enough.

A JSON sidecar (``<path>.json``) records what was seeded (counts, the bench card, the staff
sign-in); the database is reused when the sidecar says it holds at least the requested
customers and transactions and the file really holds that many cards. Anything else (no sidecar,
too small, a different layout) is deleted and seeded afresh.
"""
import json
import time
from pathlib import Path

import models
from services import accounts, demo, schema
from services.actors import Actor

STAFF_EMAIL = "bench-manager@example.com"
STAFF_PASSWORD = "bench-password-2024"
STAFF_NAME = "基准 经理"
SIDECAR_VERSION = 1


def sidecar_path(path):
    return Path(f"{path}.json")


def _remove(path):
    for suffix in ("", "-wal", "-shm", ".json"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _reusable(path, customers, transactions):
    """The sidecar's contents if the database at ``path`` can be reused as it is, else None."""
    meta_file = sidecar_path(path)
    if not Path(path).exists() or not meta_file.exists():
        return None
    try:
        meta = json.loads(meta_file.read_text())
    except ValueError:
        return None
    if (meta.get("version") != SIDECAR_VERSION or meta.get("customers", 0) < customers
            or meta.get("transactions", 0) < transactions or not meta.get("bench_card")):
        return None
    from models import Customer, StaffUser
    models.bind("sqlite:///" + str(path))
    models.db.connect(reuse_if_open=True)
    try:
        schema.upgrade()  # a newer schema keeps the data: migrate instead of re-seeding
        if Customer.select().count() < customers:
            return None
        if not Customer.select().where(Customer.public_id == meta["bench_card"]).exists():
            return None
        if not StaffUser.select().where(StaffUser.email == meta["staff_email"]).exists():
            return None
    finally:
        models.db.close()
    return meta


def ensure_dataset(path, customers, transactions, progress=None, seed=1):
    """Create (or reuse) the benchmark database at ``path``; return what the benchmarks need.

    Returns {"url", "path", "bench_card", "staff_email", "staff_password", "customers",
    "transactions", "seeded" (bool), "seed_seconds" (None when reused), "counts"}.
    """
    path = Path(path).resolve()
    meta = _reusable(path, customers, transactions)
    seeded, seconds = False, None
    if meta is None:
        if models.db.obj is not None:
            models.db.close_all()  # pooled connections would keep the removed file alive
        _remove(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        url = "sqlite:///" + str(path)
        models.bind(url)
        models.db.connect(reuse_if_open=True)
        try:
            started = time.perf_counter()
            schema.upgrade()
            # The staff user first: seed_scale picks the owners and the staff of interactions
            # among agents and managers, so the interactions' staff join has a name to show.
            accounts.create_staff(STAFF_EMAIL, STAFF_NAME, STAFF_PASSWORD, "manager",
                                  Actor.system("bench"))
            counts = demo.seed_scale(customers=customers, transactions=transactions, seed=seed,
                                     progress=progress)
            models.db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            seconds = time.perf_counter() - started
        finally:
            models.db.close()
        seeded = True
        meta = {"version": SIDECAR_VERSION, "customers": customers,
                "transactions": transactions, "bench_card": counts["bench_card"],
                "staff_email": STAFF_EMAIL, "staff_password": STAFF_PASSWORD,
                "seed_seconds": round(seconds, 1),
                "counts": {k: v for k, v in counts.items() if k != "bench_card"}}
        sidecar_path(path).write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    return {"url": "sqlite:///" + str(path), "path": str(path),
            "bench_card": meta["bench_card"], "staff_email": meta["staff_email"],
            "staff_password": meta["staff_password"], "customers": meta["customers"],
            "transactions": meta["transactions"], "counts": meta.get("counts", {}),
            "seeded": seeded, "seed_seconds": seconds}
