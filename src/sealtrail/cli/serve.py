"""Serving the API and the viewer: ``serve`` and ``demo``."""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from typing import TYPE_CHECKING

import click
import uvicorn

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.cli.common import config_option, database_option, load_settings, open_log
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


COMMANDS = [serve, demo]
