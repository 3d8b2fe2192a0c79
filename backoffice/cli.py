"""The `cards` command line: database, staff accounts, demo and benchmark data."""
import sys

import click

import config
import models
from services import DomainError, accounts, runtime, schema
from services.actors import Actor


def bind():
    """Bind the database the environment names (the CLI has no app)."""
    settings = runtime.configure(config.load())
    models.bind(settings["DATABASE_URL"])
    return settings


@click.group()
def cli():
    """Customer Cards (客户资料卡): customer portal and staff back office."""


@cli.group()
def db():
    """Database schema: upgrade to the newest version, or show which migrations are applied."""


@db.command("upgrade")
def db_upgrade():
    """Apply every pending migration (keeps the data)."""
    bind()
    applied = schema.upgrade()
    for name in applied:
        click.echo(f"applied: {name}")
    click.echo("database is up to date." if not applied else f"{len(applied)} applied.")


@db.command("status")
def db_status():
    """List migrations; exit 1 if any is pending."""
    bind()
    rows = schema.status()
    for name, applied in rows:
        mark = "x" if applied else " "
        click.echo(f"[{mark}] {name}" + (f"  {applied:%Y-%m-%d %H:%M:%S}" if applied else ""))
    if any(applied is None for _, applied in rows):
        click.echo("pending migrations: run `cards db upgrade`.")
        sys.exit(1)


@cli.command("create-staff")
@click.argument("email")
@click.option("--role", type=click.Choice(models.STAFF_ROLES), default="agent", show_default=True)
@click.option("--name", default="", help="Display name (defaults to the email).")
@click.password_option(prompt="Password", confirmation_prompt=True)
def create_staff(email, role, name, password):
    """Add a staff user; the password is asked for, never given on the command line."""
    bind()
    schema.upgrade()
    try:
        staff = accounts.create_staff(email, name or email, password, role,
                                      Actor.system("cli create-staff"))
    except DomainError as exc:
        raise click.ClickException(exc.message % exc.params if exc.params else exc.message)
    click.echo(f"created {staff.role} {staff.email}")


@cli.command("seed-demo")
def seed_demo():
    """Load realistic demo data (about 200 customers) into an empty database."""
    from services import demo
    bind()
    schema.upgrade()
    try:
        counts = demo.seed_demo()
    except DomainError as exc:
        raise click.ClickException(exc.message)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@cli.command("seed-scale")
@click.option("--customers", default=100_000, show_default=True)
@click.option("--transactions", default=1_000_000, show_default=True)
@click.option("--seed", default=1, show_default=True, help="Random seed (same seed, same data).")
def seed_scale(customers, transactions, seed):
    """Generate many cards and purchases for benchmarks (bulk inserts)."""
    from services import demo
    bind()
    schema.upgrade()
    counts = demo.seed_scale(customers, transactions, seed=seed,
                             progress=lambda msg: click.echo(msg, err=True))
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))


@cli.command("rotate-keys")
@click.option("--new-key", is_flag=True, help="Only print a fresh key to put first in "
                                               "FIELD_ENCRYPTION_KEYS, and change nothing.")
@click.option("--batch", default=500, show_default=True, help="Rows per transaction.")
def rotate_keys(new_key, batch):
    """Re-encrypt every sensitive value (ID numbers, sensitive custom fields, staff 2FA
    secrets) with the first key of FIELD_ENCRYPTION_KEYS; afterwards the older keys can be removed."""
    from services import crypto, key_rotation
    if new_key:
        click.echo(crypto.new_key())
        return
    bind()
    try:
        counts = key_rotation.rotate_keys(Actor.system("cli rotate-keys"),
                                           batch=max(1, batch))
    except crypto.UnreadableValue as exc:
        raise click.ClickException(f"{exc}: keep every old key in FIELD_ENCRYPTION_KEYS "
                                   "until the rotation has run") from exc
    click.echo(f"re-encrypted: {counts['id_numbers']} ID numbers, "
               f"{counts['field_values']} sensitive field values, "
               f"{counts['totp_secrets']} staff 2FA secrets.")
