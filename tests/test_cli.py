"""The `cards` command line, run the way an operator runs it."""
from click.testing import CliRunner

from backoffice.cli import cli
from models import AuditEvent, StaffUser
from services import accounts


def test_create_staff_prompts_for_the_password(database_url, db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(cli, ["create-staff", "Boss@Example.com", "--role", "admin",
                                      "--name", "李静"],
                                input="a-long-password-1\na-long-password-1\n")
    assert result.exit_code == 0, result.output
    assert "created admin boss@example.com" in result.output
    staff = StaffUser.get(StaffUser.email == "boss@example.com")
    assert staff.role == "admin" and staff.name == "李静"
    assert accounts.authenticate_staff("boss@example.com", "a-long-password-1") == staff
    assert AuditEvent.get(AuditEvent.action == "staff.create").actor_kind == "system"


def test_create_staff_refuses_bad_input_clearly(database_url, db, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    short = runner.invoke(cli, ["create-staff", "a@example.com"], input="short\nshort\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    bad_email = runner.invoke(cli, ["create-staff", "not-an-email"],
                              input="a-long-password-1\na-long-password-1\n")
    assert bad_email.exit_code == 1 and "not a valid email" in bad_email.output
    bad_role = runner.invoke(cli, ["create-staff", "a@example.com", "--role", "owner"])
    assert bad_role.exit_code == 2
    assert StaffUser.select().count() == 0
