"""Staff administration over HTTP: the list, invitations by single-use link, roles, the last
admin and self protections, deactivation ending sessions at once, 2FA reset, the roles page."""
import datetime
import re

import pytest
from markupsafe import escape
from werkzeug.test import Client

import models
from models import AuditEvent, EmailMessage, LinkToken, StaffUser, UserSession
from services import DomainError, access, totp
from services import staff as staff_service
from services.actors import Actor
from tests import factories
from tests.conftest import login, post_form


@pytest.fixture(autouse=True)
def _english(settings):
    """Pages in English, so that the tests can read the messages."""
    settings["BABEL_DEFAULT_LOCALE"] = "en"

INVITE_RE = re.compile(r"http://127\.0\.0\.1:5000/staff(/invite/[^\s]+)")


def _fresh(member):
    return StaffUser.get_by_id(member.id)


def _audit(action):
    return list(AuditEvent.select().where(AuditEvent.action == action,
                                          AuditEvent.entity == "staff"))


def _invite(client, **fields):
    data = {"name": "新同事 Li", "email": "new.hire@example.com", "role": "agent", **fields}
    return post_form(client, "/staff/team/invite", data)


def _invite_path():
    mail = EmailMessage.select().where(EmailMessage.kind == "staff_invite").order_by(
        EmailMessage.id.desc()).first()
    return INVITE_RE.search(mail.body_text).group(1)


def test_the_staff_list_shows_each_member(client, staff_login):
    admin = staff_login(role="admin")
    agent = factories.make_staff(role="agent", name="<script>alert(1)</script>")
    staff_service.deactivate(factories.make_staff(role="viewer", name="Gone Member"),
                             Actor.for_staff(admin))
    page = client.get("/staff/team/").get_data(as_text=True)
    row = page[page.index(f'id="staff-{admin.public_id}"'):]
    row = row[:row.index("</tr>")]
    assert admin.email in row and "Admin" in row and "Active" in row
    assert '<td class="text-nowrap" data-col="two-factor">On</td>' in row
    assert "Never" not in row  # signed in just now
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert(1)" not in page
    agent_row = page[page.index(f'id="staff-{agent.public_id}"'):]
    assert '<td class="text-nowrap" data-col="two-factor">Off</td>' in agent_row[:1500]
    assert "Deactivated" in page
    assert 'href="/staff/team/"' in page  # the nav link for admins


def test_only_admins_see_the_staff_pages(client, staff_login):
    staff_login(role="manager")
    assert client.get("/staff/team/").status_code == 403
    assert client.get("/staff/team/roles").status_code == 403
    assert 'href="/staff/team/"' not in client.get("/staff/").get_data(as_text=True)


def test_the_roles_page_spells_out_the_matrix(client, staff_login):
    staff_login(role="admin")
    page = client.get("/staff/team/roles").get_data(as_text=True)
    for permission, text in access.PERMISSIONS.items():
        row = page[page.index(f'data-permission="{permission}"'):]
        row = row[:row.index("</tr>")]
        assert str(escape(text)) in row
        for role in models.STAFF_ROLES:
            allowed = "yes" if access.can(role, permission) else "no"
            assert f'data-role="{role}" data-allowed="{allowed}"' in row, (permission, role)


def test_invite_sends_a_single_use_link_to_choose_a_password(client, staff_login):
    admin = staff_login(role="admin")
    response = _invite(client)
    member = StaffUser.get(StaffUser.email == "new.hire@example.com")
    assert response.headers["Location"] == f"/staff/team/{member.public_id}"
    assert member.role == "agent" and member.password_hash == "" and member.is_active
    assert _audit("staff.invite")[0].actor_id == admin.id
    path = _invite_path()
    token = LinkToken.get(LinkToken.staff == member)
    assert token.purpose == "staff_invite" and token.customer_id is None

    newcomer = Client(client.application)
    page = newcomer.get(f"/staff{path}")  # a GET (a link scanner) uses nothing
    assert page.status_code == 200 and "new.hire@example.com" in page.get_data(as_text=True)
    assert login(newcomer, member.email, "", "/staff").status_code == 200  # no password yet
    response = post_form(newcomer, f"/staff{path}",
                         {"new_password": "short", "confirm": "short"})
    assert "Use at least 10 characters." in response.get_data(as_text=True)
    response = post_form(newcomer, f"/staff{path}", {"new_password": "a-good-new-password",
                                                      "confirm": "a-good-new-password"})
    assert response.headers["Location"] == "/staff/login"
    assert login(newcomer, member.email, "a-good-new-password", "/staff").headers[
        "Location"] == "/staff/"
    assert _audit("staff.invite_accepted")

    # Used: the same link does nothing the second time.
    again = Client(client.application)
    assert again.get(f"/staff{path}").status_code == 410
    assert "already been used" in again.get(f"/staff{path}").get_data(as_text=True)


def test_an_expired_or_forged_invite_link_does_not_work(client, staff_login):
    staff_login(role="admin")
    _invite(client)
    path = _invite_path()
    LinkToken.update(expires_at=models.utcnow() - datetime.timedelta(minutes=1)).execute()
    other = Client(client.application)
    assert other.get(f"/staff{path}").status_code == 410
    response = other.post(f"/staff{path}", data={"new_password": "a-good-new-password",
                                                  "confirm": "a-good-new-password",
                                                  "csrf_token": "x"})
    assert response.status_code in (400, 410)
    assert _fresh(StaffUser.get(StaffUser.email == "new.hire@example.com")).password_hash == ""
    assert other.get("/staff/invite/forged.token").status_code == 400
    # A customer's invitation token never opens a staff invitation (another purpose).
    customer, _ = factories.make_customer(account=False)
    from services import links
    customer_token = links.issue("invite", customer)
    assert other.get(f"/staff/invite/{customer_token}").status_code == 400


def test_resending_an_invite_voids_the_older_link(client, staff_login):
    staff_login(role="admin")
    _invite(client)
    first = _invite_path()
    member = StaffUser.get(StaffUser.email == "new.hire@example.com")
    post_form(client, f"/staff/team/{member.public_id}/resend-invite", {},
              token_from=f"/staff/team/{member.public_id}")
    second = _invite_path()
    assert first != second
    assert client.get(f"/staff{first}").status_code == 410
    assert client.get(f"/staff{second}").status_code == 200


def test_invite_form_errors_keep_the_input(client, staff_login):
    staff_login(role="admin")
    existing = factories.make_staff(email="taken@example.com")
    response = _invite(client, name="", email="not-an-email", role="owner")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Enter the name." in page and "not-an-email" in page
    response = _invite(client, name="<b>Bold</b>", email=existing.email)
    page = response.get_data(as_text=True)
    assert "already exists" in page and 'value="&lt;b&gt;Bold&lt;/b&gt;"' in page
    assert StaffUser.select().count() == 2 and EmailMessage.select().count() == 0


def test_set_role_is_audited_and_not_for_oneself(client, staff_login):
    admin = staff_login(role="admin")
    agent = factories.make_staff(role="agent")
    response = post_form(client, f"/staff/team/{agent.public_id}/role", {"role": "marketer"},
                         token_from=f"/staff/team/{agent.public_id}")
    assert response.headers["Location"] == f"/staff/team/{agent.public_id}"
    assert _fresh(agent).role == "marketer"
    event = _audit("staff.role")[0]
    assert (event.before, event.after) == ({"role": "agent"}, {"role": "marketer"})

    factories.make_staff(role="admin")  # not the last admin: still cannot demote oneself
    response = post_form(client, f"/staff/team/{admin.public_id}/role", {"role": "viewer"},
                         token_from="/staff/team/")
    assert "You cannot change your own role." in response.get_data(as_text=True)
    assert _fresh(admin).role == "admin"


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(db):
    only = factories.make_staff(role="admin")
    other = factories.make_staff(role="admin")
    staff_service.deactivate(other, Actor.for_staff(only))
    acting = Actor.for_staff(factories.make_staff(role="manager"))
    for action in (lambda: staff_service.set_role(only, "manager", acting),
                   lambda: staff_service.deactivate(only, acting)):
        try:
            action()
        except DomainError as exc:
            assert "last active admin" in exc.message
        else:
            raise AssertionError("the last admin lost their access")
    assert _fresh(only).role == "admin" and _fresh(only).is_active


def test_staff_cannot_deactivate_themselves(client, staff_login):
    admin = staff_login(role="admin")
    factories.make_staff(role="admin")
    response = post_form(client, f"/staff/team/{admin.public_id}/deactivate", {},
                         token_from="/staff/team/")
    assert response.headers["Location"] == f"/staff/team/{admin.public_id}"
    assert "You cannot deactivate yourself." in client.get(
        f"/staff/team/{admin.public_id}").get_data(as_text=True)
    assert _fresh(admin).is_active


def test_deactivation_ends_an_existing_session_at_once(client, staff_login, app):
    staff_login(role="admin")
    agent = factories.make_staff(role="agent")
    theirs = Client(app)
    login(theirs, agent.email, factories.PASSWORD, "/staff")
    assert theirs.get("/staff/account/password").status_code == 200
    response = post_form(client, f"/staff/team/{agent.public_id}/deactivate", {},
                         token_from=f"/staff/team/{agent.public_id}")
    assert response.headers["Location"] == f"/staff/team/{agent.public_id}"
    assert theirs.get("/staff/account/password").headers["Location"].startswith("/staff/login")
    assert UserSession.select().where(UserSession.staff == agent).count() == 0
    assert login(theirs, agent.email, factories.PASSWORD, "/staff").status_code == 200
    assert _audit("staff.deactivate")

    post_form(client, f"/staff/team/{agent.public_id}/reactivate", {},
              token_from=f"/staff/team/{agent.public_id}")
    assert _fresh(agent).is_active and _audit("staff.reactivate")
    assert login(theirs, agent.email, factories.PASSWORD, "/staff").headers["Location"] == "/staff/"


def test_resetting_2fa_signs_them_out_and_makes_them_enrol_again(client, staff_login, app):
    staff_login(role="admin")
    other = factories.make_staff(role="admin")
    theirs = Client(app)
    login(theirs, other.email, factories.PASSWORD, "/staff")
    post_form(theirs, "/staff/login/code", {"code": factories.totp_code(other)})
    assert theirs.get("/staff/account/password").status_code == 200
    post_form(client, f"/staff/team/{other.public_id}/reset-two-factor", {},
              token_from=f"/staff/team/{other.public_id}")
    assert not totp.is_enabled(_fresh(other)) and _fresh(other).totp_secret is None
    assert theirs.get("/staff/account/password").headers["Location"].startswith("/staff/login")
    login(theirs, other.email, factories.PASSWORD, "/staff")  # no code asked: enrol instead
    assert theirs.get("/staff/account/password").headers["Location"] == "/staff/account/two-factor"
    assert _audit("staff.2fa_reset")[0].after == {"two_factor": False}


def test_unknown_staff_ids_are_not_found(client, staff_login):
    staff_login(role="admin")
    assert client.get("/staff/team/nope").status_code == 404
    assert client.get("/staff/team/%00").status_code == 404
