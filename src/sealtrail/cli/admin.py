"""Operator commands: schema migrations, tenants and API keys."""

from __future__ import annotations

from typing import Any

import click

from sealtrail.audit_log import AuditLog
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
)
from sealtrail.events import format_timestamp


@click.command()
@database_option
@config_option
@json_option
def migrate(database: str | None, config: str | None, as_json: bool) -> None:
    """Create or upgrade the database schema."""
    log = open_log(load_settings(database, config), migrated=False)
    try:
        applied = log.migrate()
        revision = log.schema_revision()
    finally:
        log.close()
    if as_json:
        print_json({"applied": applied, "revision": revision})
    elif applied:
        click.echo(f"applied {', '.join(applied)}; schema is at {revision}")
    else:
        click.echo(f"schema is up to date at {revision}")


@click.group()
def tenants() -> None:
    """Create and list tenants (the organisations whose trails you keep)."""


@tenants.command("create")
@click.argument("tenant_id")
@click.option("--name", default=None, help="Display name (default: the id).")
@click.option("--strict", is_flag=True, help="Accept only registered event types.")
@database_option
@config_option
@json_option
def tenants_create(
    tenant_id: str,
    name: str | None,
    strict: bool,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Create tenant TENANT_ID."""
    log = open_log(load_settings(database, config))
    try:
        tenant = log.create_tenant(tenant_id, name, strict=strict)
    finally:
        log.close()
    record = {
        "id": tenant.id,
        "name": tenant.name,
        "strict": tenant.strict,
        "created_at": format_timestamp(tenant.created_at),
    }
    if as_json:
        print_json(record)
    else:
        click.echo(f"created tenant {tenant.id}")


@tenants.command("list")
@database_option
@config_option
@json_option
def tenants_list(database: str | None, config: str | None, as_json: bool) -> None:
    """List every tenant."""
    log = open_log(load_settings(database, config))
    try:
        found = log.tenants()
    finally:
        log.close()
    records = [
        {
            "id": t.id,
            "name": t.name,
            "strict": t.strict,
            "created_at": format_timestamp(t.created_at),
        }
        for t in found
    ]
    if as_json:
        print_json({"tenants": records})
        return
    for r in records:
        click.echo(f"{r['id']}\t{r['name']}\t{'strict' if r['strict'] else ''}")


@tenants.group("masking")
def tenants_masking() -> None:
    """Show or set the context keys a tenant's events are masked by (docs/privacy.md)."""


def _masking_record(log: AuditLog, tenant_id: str) -> dict[str, Any]:
    global_keys, own = log.mask_keys(tenant_id)
    return {
        "tenant_id": tenant_id,
        "global": list(global_keys),
        "tenant": list(own),
        "card_numbers": log.settings.mask_card_numbers,
    }


def _print_masking(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(record)
        return
    click.echo(f"global:       {', '.join(record['global']) or '(none)'}")
    click.echo(f"tenant:       {', '.join(record['tenant']) or '(none)'}")
    click.echo(f"card numbers: {'masked' if record['card_numbers'] else 'kept'}")


@tenants_masking.command("show")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@database_option
@config_option
@json_option
def masking_show(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Show the global and the tenant's own mask patterns."""
    log = open_log(load_settings(database, config))
    try:
        record = _masking_record(log, tenant_id)
    finally:
        log.close()
    _print_masking(record, as_json)


@tenants_masking.command("set")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.argument("patterns", nargs=-1)
@database_option
@config_option
@json_option
def masking_set(
    tenant_id: str,
    patterns: tuple[str, ...],
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Replace the tenant's own PATTERNS (none: only the global ones apply).

    Values under matching context keys are stored as "[masked]" from the next
    event on; events already recorded are not changed.
    """
    log = open_log(load_settings(database, config))
    try:
        log.set_mask_keys(tenant_id, patterns)
        record = _masking_record(log, tenant_id)
    finally:
        log.close()
    _print_masking(record, as_json)


@click.group()
def keys() -> None:
    """Create, list and revoke API keys (stored only as hashes)."""


@keys.command("create")
@click.option("--tenant", "tenant_id", required=True, help="Tenant the key acts in.")
@click.option(
    "--scopes",
    default="events:write,events:read",
    show_default=True,
    help="Comma-separated: events:write, events:read, viewer:mint, events:erase, streams:manage.",
)
@click.option("--name", default=None, help="A label to recognise the key by.")
@database_option
@config_option
@json_option
def keys_create(
    tenant_id: str,
    scopes: str,
    name: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Create an API key. The key itself is shown only now."""
    log = open_log(load_settings(database, config))
    try:
        created = log.create_api_key(tenant_id, scopes, name=name)
    finally:
        log.close()
    record = {
        "id": created.record.id,
        "key": created.plain,
        "tenant_id": created.record.tenant_id,
        "scopes": sorted(created.record.scopes),
    }
    if as_json:
        print_json(record)
    else:
        click.echo(
            f"key id:  {record['id']}\ntenant:  {tenant_id}\nscopes:  {','.join(record['scopes'])}"
        )
        click.echo(f"key:     {created.plain}\n(store it now: it is not shown again)")


@keys.command("list")
@click.option("--tenant", "tenant_id", default=None, help="Only this tenant's keys.")
@database_option
@config_option
@json_option
def keys_list(
    tenant_id: str | None, database: str | None, config: str | None, as_json: bool
) -> None:
    """List API keys (never the keys themselves)."""
    log = open_log(load_settings(database, config))
    try:
        found = log.api_keys(tenant_id)
    finally:
        log.close()
    records: list[dict[str, Any]] = [
        {
            "id": k.id,
            "tenant_id": k.tenant_id,
            "scopes": sorted(k.scopes),
            "name": k.name,
            "created_at": format_timestamp(k.created_at),
            "revoked_at": None if k.revoked_at is None else format_timestamp(k.revoked_at),
        }
        for k in found
    ]
    if as_json:
        print_json({"keys": records})
        return
    for r in records:
        state = "revoked" if r["revoked_at"] else "active"
        click.echo(
            f"{r['id']}\t{r['tenant_id']}\t{','.join(r['scopes'])}\t{state}\t{r['name'] or ''}"
        )


@keys.command("revoke")
@click.argument("key_id")
@database_option
@config_option
@json_option
def keys_revoke(key_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Revoke API key KEY_ID; requests with it get 401 from now on."""
    log = open_log(load_settings(database, config))
    try:
        log.revoke_api_key(key_id)
    finally:
        log.close()
    if as_json:
        print_json({"id": key_id, "revoked": True})
    else:
        click.echo(f"revoked {key_id}")


COMMANDS = [migrate, tenants, keys]
