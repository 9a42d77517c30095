"""Viewer sessions on the command line: ``sessions list|revoke`` and ``tenants framing``."""

from __future__ import annotations

from typing import Any

import click

from sealtrail.cli.admin import tenants
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
)
from sealtrail.events import format_timestamp, now_micros
from sealtrail.sessions import ViewerSession


def _time(value: int | None) -> str | None:
    return None if value is None else format_timestamp(value)


def _record(session: ViewerSession, now: int) -> dict[str, Any]:
    return {
        "id": session.id,
        "tenant_id": session.tenant_id,
        "user": {"id": session.user.id, "email": session.user.email, "name": session.user.name},
        "role": session.role,
        "account_ids": None if session.account_ids is None else sorted(session.account_ids),
        "status": session.status(now),
        "created_at": _time(session.created_at),
        "expires_at": _time(session.expires_at),
        "redeemed_at": _time(session.redeemed_at),
        "revoked_at": _time(session.revoked_at),
        "revoked_by": session.revoked_by,
    }


@click.group()
def sessions() -> None:
    """List and revoke viewer sessions (docs/viewer.md)."""


@sessions.command("list")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.option("--user", "user_id", default=None, help="Only this user's sessions.")
@click.option("--live", is_flag=True, help="Only sessions that have not ended.")
@database_option
@config_option
@json_option
def sessions_list(
    tenant_id: str,
    user_id: str | None,
    live: bool,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """The tenant's viewer sessions, newest first, with their status: pending (link not
    opened yet), active, revoked or expired."""
    log = open_log(load_settings(database, config))
    try:
        found = log.viewer_sessions(tenant_id, user_id=user_id, live=live)
    finally:
        log.close()
    now = now_micros()
    records = [_record(s, now) for s in found]
    if as_json:
        print_json({"sessions": records})
        return
    for r in records:
        click.echo(
            f"{r['id']}\t{r['status']}\t{r['user']['id']}\t{r['role']}\texpires {r['expires_at']}"
        )


@sessions.command("revoke")
@click.argument("session_id", required=False)
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.option("--user", "user_id", default=None, help="Revoke every live session of this user.")
@database_option
@config_option
@json_option
def sessions_revoke(
    session_id: str | None,
    tenant_id: str,
    user_id: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Revoke viewer session SESSION_ID, or (--user) every live session of a user.

    The browsers holding them get "This session has ended" on their next request.
    """
    if (session_id is None) == (user_id is None):
        raise click.UsageError("name a SESSION_ID or --user, not both")
    log = open_log(load_settings(database, config))
    try:
        revoked = log.revoke_viewer_sessions(tenant_id, session_id=session_id, user_id=user_id)
    finally:
        log.close()
    if as_json:
        print_json({"tenant_id": tenant_id, "revoked": revoked})
    else:
        click.echo(f"revoked {revoked} session{'' if revoked == 1 else 's'}")


@tenants.group("framing")
def tenants_framing() -> None:
    """Show or set the origins that may frame a tenant's viewer (frame-ancestors)."""


def _print_framing(tenant_id: str, origins: tuple[str, ...], as_json: bool) -> None:
    if as_json:
        print_json({"tenant_id": tenant_id, "frame_ancestors": list(origins)})
        return
    click.echo(" ".join(origins) if origins else "(only the viewer's own origin)")


@tenants_framing.command("show")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@database_option
@config_option
@json_option
def framing_show(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Show the origins that may frame the tenant's viewer."""
    log = open_log(load_settings(database, config))
    try:
        origins = log.frame_ancestors(tenant_id)
    finally:
        log.close()
    _print_framing(tenant_id, origins, as_json)


@tenants_framing.command("set")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.argument("origins", nargs=-1)
@database_option
@config_option
@json_option
def framing_set(
    tenant_id: str,
    origins: tuple[str, ...],
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Let ORIGINS (https://host[:port] each; none: only the viewer's own) frame the
    tenant's viewer in an <iframe>."""
    log = open_log(load_settings(database, config))
    try:
        tenant = log.set_frame_ancestors(tenant_id, origins)
    finally:
        log.close()
    _print_framing(tenant_id, tenant.frame_ancestors, as_json)


COMMANDS = [sessions]
