"""The back office's permission matrix, walked over every route, role and method."""
import pytest

from backoffice.access import ENDPOINTS, SIGNED_IN
from models import STAFF_ROLES
from services.access import MATRIX, PERMISSIONS, can


def test_every_route_is_in_the_matrix(app):
    endpoints = {rule.endpoint for rule in app.backoffice.url_map.iter_rules()}
    missing = endpoints - set(ENDPOINTS)
    assert not missing, f"routes missing from backoffice/access.py ENDPOINTS: {sorted(missing)}"
    assert set(ENDPOINTS) - endpoints == set(), "the matrix names routes that do not exist"


def test_the_matrix_names_only_known_permissions():
    for needed in ENDPOINTS.values():
        assert needed in (None, SIGNED_IN) or needed in PERMISSIONS
    for role, permissions in MATRIX.items():
        assert permissions <= set(PERMISSIONS), role


def _concrete(rule):
    values = {arg: "x" for arg in rule.arguments}
    return rule.build(values, append_unknown=False)[1]


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_each_role_gets_exactly_what_the_matrix_allows(app, client, staff_login, role):
    staff_login(role=role)
    for rule in app.backoffice.url_map.iter_rules():
        needed = ENDPOINTS[rule.endpoint]
        if rule.endpoint in ("static", "auth.logout", "i18n.set_language"):
            continue
        path = "/staff" + _concrete(rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method)
            allowed = needed in (None, SIGNED_IN) or can(role, needed)
            if allowed:
                assert response.status_code in (200, 302, 400, 404), (role, method, path)
            else:
                assert response.status_code == 403, (role, method, path)


def test_signed_out_staff_are_sent_to_sign_in(app, client):
    for rule in app.backoffice.url_map.iter_rules():
        if ENDPOINTS[rule.endpoint] is None:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open("/staff" + _concrete(rule), method=method)
            if method == "GET":
                assert response.headers["Location"].startswith("/staff/login"), rule.endpoint
            else:  # a POST without a session never reaches the view: CSRF or sign-in stops it
                assert response.status_code in (302, 400), rule.endpoint
