"""One process, both apps: the portal at / and the back office at /staff.

This is the only module that knows both apps. ``gunicorn 'wsgi:create_app()'`` serves it in
production; ``cards serve`` runs it with the job worker for the embedded default.
"""
import signal

import click
from werkzeug.middleware.dispatcher import DispatcherMiddleware

import backoffice
import portal
from backoffice.cli import bind, cli


def create_app(test_config=None):
    """The combined WSGI app; ``.portal`` and ``.backoffice`` are the two Flask apps."""
    portal_app = portal.create_app(test_config)
    staff_app = backoffice.create_app(test_config)
    combined = DispatcherMiddleware(portal_app, {"/staff": staff_app})
    combined.portal, combined.backoffice = portal_app, staff_app
    return combined


def start_job_worker(workers=2):
    """Run the huey consumer in this process's threads (embedded default)."""
    from services.worker import huey
    if huey.immediate:
        return None
    consumer = huey.create_consumer(workers=workers, worker_type="thread", periodic=True)
    # huey installs its own SIGINT/SIGTERM handlers; keep Ctrl-C stopping the web server.
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    consumer.start()
    for sig, handler in saved.items():
        signal.signal(sig, handler)
    return consumer


@cli.command()
@click.option("--port", default=5000, show_default=True)
@click.option("--no-worker", is_flag=True, help="Do not run the job worker in this process.")
def serve(port, no_worker):
    """Run the portal, the back office and the job worker on 127.0.0.1 (embedded default)."""
    from services import demo, schema
    settings = bind()
    applied = schema.upgrade()
    if applied:
        click.echo(f"database migrated: {', '.join(applied)}")
    if settings["DEMO_DATA"] and demo.is_empty():
        click.echo("empty database: loading the demo data ...")
        demo.seed_demo()
    consumer = None if no_worker else start_job_worker()
    base = f"http://127.0.0.1:{port}"
    click.echo(f"\n  Customer portal:  {base}/\n  Staff back office: {base}/staff/\n"
               f"  Mail outbox:       {base}/staff/outbox/\n")
    if settings["DEMO_DATA"]:
        click.echo("  Demo sign-ins (password for all: %s):" % demo.DEMO_PASSWORD)
        for role, email in demo.demo_logins():
            click.echo(f"    {role:<9} {email}")
        click.echo("")
    from werkzeug.serving import run_simple
    try:
        run_simple("127.0.0.1", port, create_app(), threaded=True, use_reloader=False)
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


def main():
    cli()


if __name__ == "__main__":
    main()
