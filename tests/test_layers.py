"""The layers go one way: models <- services <- webcore <- portal / backoffice."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUEST_STATE = {"request", "session", "g", "current_app", "current_user"}


def _imports(path):
    """(module, names) for every import statement in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, set()
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, {alias.name for alias in node.names}


def _files(*names):
    for name in names:
        path = ROOT / name
        yield from ([path] if path.suffix == ".py" else sorted(path.rglob("*.py")))


def _top(module):
    return module.split(".")[0]


def _is_web(module):
    # Password hashing from werkzeug is a plain function; anything Flask is the web layer.
    return _top(module).startswith("flask") or (
        _top(module) == "werkzeug" and module != "werkzeug.security")


def _rel(path):
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name


def _violations(files, forbidden_packages, forbid_request_state=False):
    found = []
    for path in files:
        for module, names in _imports(path):
            if _top(module) in forbidden_packages:
                found.append(f"{_rel(path)} imports {module}")
            if forbid_request_state and _is_web(module):
                found.append(f"{_rel(path)} imports {module} (web layer)")
            if forbid_request_state and names & REQUEST_STATE:
                found.append(f"{_rel(path)} imports {names & REQUEST_STATE}")
    return found


def test_portal_and_backoffice_never_import_each_other():
    assert _violations(_files("portal"), {"backoffice", "wsgi"}) == []
    assert _violations(_files("backoffice"), {"portal", "wsgi"}) == []


def test_models_and_services_import_no_web_code():
    upward = {"portal", "backoffice", "webcore", "wsgi"}
    assert _violations(_files("models.py", "services"), upward, forbid_request_state=True) == []


def test_webcore_knows_neither_app():
    assert _violations(_files("webcore"), {"portal", "backoffice", "wsgi"}) == []


def test_the_checker_sees_a_violation(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from flask import request\nimport portal.auth\n", encoding="utf-8")
    problems = _violations([bad], {"portal"}, forbid_request_state=True)
    assert len(problems) == 3
