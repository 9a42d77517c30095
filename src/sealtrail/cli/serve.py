"""Serving the API and the viewer: ``serve`` and ``demo``."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import click
import uvicorn

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.cli.common import config_option, database_option, load_settings, open_log
from sealtrail.errors import ConfigurationError
from sealtrail.server import background
from sealtrail.server.follow_process import FollowProcess, follow_command
from sealtrail.settings import Settings

if TYPE_CHECKING:
    from sealtrail.demo import DemoInfo


def _run(settings: Settings, config: str | None) -> None:
    """Export the settings for the worker processes and hand over to uvicorn."""
    for name, value in asdict(settings).items():
        if value is not None:
            os.environ[Settings.env_name(name)] = str(value)
    if config:
        os.environ["SEALTRAIL_CONFIG"] = config
    child = None
    if settings.followers == "process" and (settings.stream_delivery or settings.detections):
        child = FollowProcess(follow_command())
        _stop_first_on_sigterm(child)
        child.start()
    try:
        uvicorn.run(
            "sealtrail.server.asgi:create_from_environment",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level="info",
            access_log=False,
            server_header=False,
        )
    finally:
        if child is not None:
            child.stop()


def _stop_first_on_sigterm(child: FollowProcess) -> None:
    """uvicorn handles SIGTERM while it serves, then raises it again once it has shut
    down: this handler then stops the follower child before the default action ends
    ``serve`` (as it always did, exit status -15)."""

    def stop_then_exit(signum: int, _frame: object) -> None:
        child.stop()
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)

    signal.signal(signal.SIGTERM, stop_then_exit)


def _prepare(settings: Settings, *, migrate: bool = True) -> None:
    """Migrate and create the signing key once, before any worker starts."""
    log = open_log(settings, migrated=not migrate)
    try:
        if migrate:
            log.migrate()
        log.signer()  # creates the key file once, before workers race to
        log.witness_submitter()  # a bad witness_policy_file fails here, before any worker
    finally:
        log.close()


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option("--workers", default=None, type=int, help="Worker processes (default 1).")
@click.option(
    "--no-migrate",
    is_flag=True,
    help="Don't migrate first (API hosts that hold only the runtime role's URL).",
)
@database_option
@config_option
def serve(
    host: str | None,
    port: int | None,
    workers: int | None,
    no_migrate: bool,
    database: str | None,
    config: str | None,
) -> None:
    """Serve the HTTP API and the viewer page.

    Workers connect with runtime_database_url when it is set (PostgreSQL's
    INSERT/SELECT-only role); migrations run first with database_url.
    """
    settings = load_settings(database, config, host=host, port=port, workers=workers)
    _prepare(settings, migrate=not no_migrate)
    click.echo(f"Sealtrail on {settings.base_url}  (database {settings.database_url})", err=True)
    _run(settings, config)


@click.command()
@click.option("--parent", type=int, default=None, hidden=True)
@database_option
@config_option
def follow(parent: int | None, database: str | None, config: str | None) -> None:
    """Run the background followers only: stream delivery and detections, no HTTP.

    What `serve` runs in a child process by default (followers = "process"); run it
    yourself beside API processes started with followers = "off". stream_delivery and
    detections say which followers run. Several may run on one database: a lease lets
    one process work on each stream and each tenant's detections at a time. It runs at
    niceness followers_nice (default 10), below the API processes. Stops on SIGTERM or
    Ctrl-C after the batches in hand.
    """
    settings = load_settings(database, config)
    if not (settings.stream_delivery or settings.detections):
        raise ConfigurationError("nothing to follow: stream_delivery and detections are both off")
    log = open_log(settings, serving=True)
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    logging.basicConfig(
        level=logging.WARNING,
        format="%(asctime)s sealtrail follow[%(process)d] %(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("sealtrail").setLevel(logging.INFO)
    what = [
        n
        for n, on in (("streams", settings.stream_delivery), ("detections", settings.detections))
        if on
    ]
    if settings.followers_nice:
        # Background work yields the CPU to the API processes' requests (docs/configuration.md).
        os.nice(settings.followers_nice)
    click.echo(f"sealtrail follow (pid {os.getpid()}): {' and '.join(what)}", err=True)
    try:
        if not background.follow(log, settings, stopping, parent=parent):
            click.echo("sealtrail follow: the serve process is gone; stopped", err=True)
    finally:
        log.close()
    click.echo(f"sealtrail follow (pid {os.getpid()}): stopped", err=True)


@click.command()
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default 8000).")
@click.option(
    "--events", "event_count", default=20_000, show_default=True, help="Events to generate."
)
@click.option("--no-serve", is_flag=True, help="Seed the demo organisation, print, and exit.")
@database_option
@config_option
def demo(
    host: str | None,
    port: int | None,
    event_count: int,
    no_serve: bool,
    database: str | None,
    config: str | None,
) -> None:
    """Seed a demo organisation with 90 days of history and serve it."""
    from sealtrail.demo import seed_demo

    settings = load_settings(database, config, host=host, port=port)
    _prepare(settings)
    log = open_log(settings)
    try:
        info = seed_demo(log, settings, events=event_count, progress=True)
        link = _owner_link(log, info)
    finally:
        log.close()
    click.echo(replace(info, viewer_url=link).banner(settings.base_url))
    if not no_serve:
        _run(settings, config)


def _owner_link(log: AuditLog, info: DemoInfo) -> str:
    """The demo owner's viewer link: it opens once, within ``DEMO_SESSION_TTL``, a session
    that lasts as long (docs/viewer.md)."""
    from sealtrail.demo import DEMO_SESSION_TTL
    from sealtrail.sessions import SessionRequest, ViewerUser

    owner = ViewerUser(info.owner.id, info.owner.email, info.owner.name)
    minted = log.mint_viewer_session(
        Principal.operator(info.tenant_id),
        SessionRequest(owner, "owner", None),
        ttl=DEMO_SESSION_TTL,
        link_ttl=DEMO_SESSION_TTL,
    )
    return minted.url


COMMANDS = [serve, follow, demo]
