"""Operator commands: schema migrations, tenants and API keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sealtrail import ratelimit
from sealtrail.audit_log import AuditLog, CreatedKey, TenantRateLimits
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
)
from sealtrail.errors import InvalidInput
from sealtrail.events import format_timestamp, now_micros
from sealtrail.keys import key_state, parse_duration
from sealtrail.limits import DEFAULT_ROTATION_OVERLAP, RATE_WINDOW

F = TypeVar("F", bound=Callable[..., Any])


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


@tenants.group("limits")
def tenants_limits() -> None:
    """Show or set a tenant's rate limits (docs/operations.md#rate-limits)."""


def _limits_record(log: AuditLog, tenant_id: str) -> dict[str, Any]:
    own, in_force = log.rate_limits(tenant_id)
    return {
        "tenant_id": tenant_id,
        "enabled": log.settings.rate_limits,
        "window_seconds": RATE_WINDOW,
        "limits": ratelimit.as_dict(in_force),
        "tenant": ratelimit.as_dict(own),
    }


def _print_limits(record: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print_json(record)
        return
    if not record["enabled"]:
        click.echo("rate limits are off (setting rate_limits = false)")
    for name, value in record["limits"].items():
        unit = "events/s" if name.endswith("writes") else "read units/s"
        source = "tenant" if record["tenant"][name] is not None else "default"
        click.echo(f"{name.replace('_', ' '):14} {value:>9} {unit:13} ({source})")


@tenants_limits.command("show")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@database_option
@config_option
@json_option
def limits_show(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Show the rate limits in force for a tenant and which are its own."""
    log = open_log(load_settings(database, config))
    try:
        record = _limits_record(log, tenant_id)
    finally:
        log.close()
    _print_limits(record, as_json)


def _rate_option(name: str, what: str) -> Callable[[F], F]:
    return click.option(
        f"--{name.replace('_', '-')}",
        name,
        metavar="N|default",
        default=None,
        help=f"{what}; 'default' drops the tenant's own value.",
    )


@tenants_limits.command("set")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@_rate_option("key_writes", "Events per second one API key may write")
@_rate_option("tenant_writes", "Events per second all the tenant's keys together may write")
@_rate_option("key_reads", "Read units per second one API key may use")
@_rate_option("tenant_reads", "Read units per second all the tenant's keys together may use")
@database_option
@config_option
@json_option
def limits_set(
    tenant_id: str,
    key_writes: str | None,
    tenant_writes: str | None,
    key_reads: str | None,
    tenant_reads: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Set a tenant's own rate limits; limits not named keep their value.

    A search, one event, a proof, a checkpoint, the catalog or a viewer link
    costs 1 read unit; an export 10; a bundle 30. Every API process applies the
    change within seconds. The change is recorded in the tenant's own log
    (audit_log.rate_limits_changed).
    """
    given = {
        "key_writes": key_writes,
        "tenant_writes": tenant_writes,
        "key_reads": key_reads,
        "tenant_reads": tenant_reads,
    }
    if all(v is None for v in given.values()):
        raise click.UsageError(
            "name at least one of --key-writes, --tenant-writes, --key-reads, --tenant-reads"
        )
    log = open_log(load_settings(database, config))
    try:
        own, _ = log.rate_limits(tenant_id)
        values = ratelimit.as_dict(own)
        for name, text in given.items():
            if text is not None:
                values[name] = _rate(name, text)
        log.set_rate_limits(tenant_id, TenantRateLimits(**values))
        record = _limits_record(log, tenant_id)
    finally:
        log.close()
    _print_limits(record, as_json)


def _rate(name: str, text: str) -> int | None:
    if text.strip().lower() == "default":
        return None
    try:
        return int(text)
    except ValueError:
        raise InvalidInput(
            f"--{name.replace('_', '-')} must be a whole number per second or 'default',"
            f" not {text!r}"
        ) from None


@click.group()
def keys() -> None:
    """Create, rotate, list and revoke API keys (stored only as hashes)."""


def _created(created: CreatedKey, as_json: bool, **extra: Any) -> None:
    key = created.record
    record = {
        "id": key.id,
        "key": created.plain,
        "tenant_id": key.tenant_id,
        "scopes": sorted(key.scopes),
        "expires_at": _when(key.expires_at),
        **extra,
    }
    if as_json:
        print_json(record)
        return
    click.echo(
        f"key id:  {key.id}\ntenant:  {key.tenant_id}\nscopes:  {','.join(record['scopes'])}"
    )
    click.echo(f"expires: {record['expires_at'] or 'never'}")
    for label, value in extra.items():
        click.echo(f"{label.replace('_', ' ')}: {value}")
    click.echo(f"key:     {created.plain}\n(store it now: it is not shown again)")


def _when(micros: int | None) -> str | None:
    return None if micros is None else format_timestamp(micros)


def _duration(value: str | None, what: str, *, zero: bool = False) -> int | None:
    return None if value is None else parse_duration(value, what, zero=zero)


_EXPIRES_HELP = "Lifetime, e.g. 90d, 12h, 2w (units s, m, h, d, w); after it the key answers 401."


@keys.command("create")
@click.option("--tenant", "tenant_id", required=True, help="Tenant the key acts in.")
@click.option(
    "--scopes",
    default="events:write,events:read",
    show_default=True,
    help="Comma-separated: events:write, events:read, viewer:mint, events:erase,"
    " streams:manage, detections:manage.",
)
@click.option("--name", default=None, help="A label to recognise the key by.")
@click.option("--expires-in", "expires_in", default=None, metavar="DURATION", help=_EXPIRES_HELP)
@database_option
@config_option
@json_option
def keys_create(
    tenant_id: str,
    scopes: str,
    name: str | None,
    expires_in: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Create an API key. The key itself is shown only now.

    The creation is recorded in the tenant's own log (audit_log.api_key_created).
    """
    lifetime = _duration(expires_in, "--expires-in")
    log = open_log(load_settings(database, config))
    try:
        created = log.create_api_key(tenant_id, scopes, name=name, expires_in=lifetime)
    finally:
        log.close()
    _created(created, as_json)


@keys.command("rotate")
@click.argument("key_id")
@click.option(
    "--overlap",
    default=f"{DEFAULT_ROTATION_OVERLAP // 3600}h",
    show_default=True,
    metavar="DURATION",
    help="How long the old key keeps working beside the new one (0s: not at all).",
)
@click.option(
    "--expires-in",
    "expires_in",
    default=None,
    metavar="DURATION",
    help="Lifetime of the new key (default: the lifetime the old key was given, if any).",
)
@database_option
@config_option
@json_option
def keys_rotate(
    key_id: str,
    overlap: str,
    expires_in: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Replace API key KEY_ID by a new key with the same tenant, scopes and name.

    The old key keeps working until the overlap ends, then answers 401. The
    rotation is recorded in the tenant's own log (audit_log.api_key_rotated).
    """
    window = _duration(overlap, "--overlap", zero=True)
    lifetime = _duration(expires_in, "--expires-in")
    log = open_log(load_settings(database, config))
    try:
        created = log.rotate_api_key(key_id, overlap=window or 0, expires_in=lifetime)
        old = log.api_key(key_id)
    finally:
        log.close()
    _created(created, as_json, replaces=key_id, old_key_expires_at=_when(old.expires_at))


@keys.command("list")
@click.option("--tenant", "tenant_id", default=None, help="Only this tenant's keys.")
@database_option
@config_option
@json_option
def keys_list(
    tenant_id: str | None, database: str | None, config: str | None, as_json: bool
) -> None:
    """List API keys (never the keys themselves), with their state, expiry and last use.

    LAST USED is written at most once a minute per key and API process, so it
    may trail the latest request by up to a minute.
    """
    log = open_log(load_settings(database, config))
    try:
        found = log.api_keys(tenant_id)
    finally:
        log.close()
    now = now_micros()
    records: list[dict[str, Any]] = [
        {
            "id": k.id,
            "tenant_id": k.tenant_id,
            "scopes": sorted(k.scopes),
            "name": k.name,
            "created_at": format_timestamp(k.created_at),
            "revoked_at": _when(k.revoked_at),
            "expires_at": _when(k.expires_at),
            "last_used_at": _when(k.last_used_at),
            "replaced_by": k.replaced_by,
            "state": key_state(k, now),
        }
        for k in found
    ]
    if as_json:
        print_json({"keys": records})
        return
    click.echo("ID\tTENANT\tSCOPES\tSTATE\tEXPIRES\tLAST USED\tNAME")
    for r in records:
        click.echo(
            f"{r['id']}\t{r['tenant_id']}\t{','.join(r['scopes'])}\t{r['state']}"
            f"\t{r['expires_at'] or 'never'}\t{r['last_used_at'] or 'never'}\t{r['name'] or ''}"
        )


@keys.command("revoke")
@click.argument("key_id")
@database_option
@config_option
@json_option
def keys_revoke(key_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Revoke API key KEY_ID; requests with it get 401 from now on.

    The revocation is recorded in the tenant's own log (audit_log.api_key_revoked).
    """
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
