"""Password hashes: production strength in the app, a tiny work factor in the tests.

tests/conftest.py lowers the scrypt work factor of werkzeug's ``generate_password_hash`` for the
test run (0.1-0.2 s per hash and per check otherwise, paid by every user a test makes and every
sign-in). These tests check that the app itself relies on werkzeug's default, and that the default
is production-strength scrypt.
"""
import ast
from pathlib import Path

from werkzeug import security

from services import accounts
from tests import factories
from tests.conftest import PRODUCTION_HASH_DEFAULTS, TEST_HASH_METHOD

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION_PREFIX = "scrypt:32768:8:1$"  # n=2**15, r=8, p=1: werkzeug's default


def test_the_app_stores_production_strength_hashes(db, monkeypatch):
    monkeypatch.setattr(security.generate_password_hash, "__defaults__", PRODUCTION_HASH_DEFAULTS)
    staff = factories.make_staff()
    _, account = factories.make_customer()
    for stored in (staff.password_hash, account.password_hash):
        assert stored.startswith(PRODUCTION_PREFIX), stored[:30]
    assert accounts.authenticate_staff(staff.email, factories.PASSWORD).id == staff.id
    assert accounts.authenticate_customer(account.email, factories.PASSWORD).id == account.id
    assert security.generate_password_hash("x" * 12).startswith(PRODUCTION_PREFIX)


def _calls_to_generate_password_hash(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "generate_password_hash":
                yield node


def test_no_app_code_chooses_its_own_hash_method():
    """Every call hashes with the default method, so the production parameters are the ones
    checked above and the tests' lower work factor reaches every call."""
    sources = [p for p in ROOT.rglob("*.py")
               if not any(part.startswith(".") or part in ("tests", "node_modules")
                          for part in p.relative_to(ROOT).parts)]
    calls = [(path.relative_to(ROOT), node.lineno, len(node.args), [k.arg for k in node.keywords])
             for path in sources for node in _calls_to_generate_password_hash(path)]
    assert calls, "no call to generate_password_hash found: is the scan looking in the right place?"
    assert [c for c in calls if c[2] != 1 or c[3]] == []


def test_the_tests_hash_with_the_low_work_factor(db):
    assert factories.make_staff().password_hash.startswith(TEST_HASH_METHOD + "$")
