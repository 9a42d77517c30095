"""Retention on the command line: ``retention set|show``, ``holds add|list|release``, ``prune``."""

from __future__ import annotations

import sys
from typing import BinaryIO

import click

from sealtrail.auth import Principal
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
    show_progress,
)
from sealtrail.events import format_timestamp
from sealtrail.retention import Hold, RetentionPolicy, Rule


@click.group()
def retention() -> None:
    """A tenant's retention policy: how long its events are kept (default: forever)."""


@retention.command("set")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.option(
    "--days",
    "days",
    type=int,
    multiple=True,
    help="Days to keep events. Given once more than --action-prefix, the first is the "
    "tenant's default; the others go with the prefixes in order.",
)
@click.option(
    "--action-prefix",
    "prefixes",
    multiple=True,
    help="Keep actions starting with this (auth., member.invited) for its own --days.",
)
@click.option("--forever", is_flag=True, help="Keep every event forever again (the default).")
@database_option
@config_option
@json_option
def set_policy(
    tenant_id: str,
    days: tuple[int, ...],
    prefixes: tuple[str, ...],
    forever: bool,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Replace the tenant's retention policy; pruning then removes what expired.

    \b
    sealtrail retention set --tenant acme --days 365
    sealtrail retention set --tenant acme --days 365 --action-prefix auth. --days 30
    sealtrail retention set --tenant acme --action-prefix auth. --days 30   (the rest: forever)
    sealtrail retention set --tenant acme --forever

    The longest matching prefix decides. A legal hold (sealtrail holds) keeps what it
    covers whatever the policy says. The change is recorded in the tenant's log.
    """
    if forever:
        if days or prefixes:
            raise click.UsageError("--forever takes no --days or --action-prefix")
        policy = RetentionPolicy()
    else:
        if len(days) not in (len(prefixes), len(prefixes) + 1) or not days:
            raise click.UsageError(
                "give --days for the tenant and/or one --days per --action-prefix (or --forever)"
            )
        default = days[0] if len(days) > len(prefixes) else None
        paired = days[1:] if default is not None else days
        rules = tuple(Rule(p, d) for p, d in zip(prefixes, paired, strict=True))
        policy = RetentionPolicy(default, rules)
    log = open_log(load_settings(database, config))
    try:
        applied = log.set_retention(Principal.operator(tenant_id), policy)
    finally:
        log.close()
    if as_json:
        print_json({"tenant_id": tenant_id, **applied.to_dict()})
        return
    click.echo(f"{tenant_id}: {applied.describe()}")


@retention.command("show")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@database_option
@config_option
@json_option
def show_policy(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """Show the tenant's retention policy, its active legal holds and what was pruned."""
    log = open_log(load_settings(database, config))
    try:
        principal = Principal.operator(tenant_id)
        policy = log.retention(principal)
        holds = log.holds(principal, active_only=True)
        prunes = log.prunes(tenant_id)
    finally:
        log.close()
    if as_json:
        print_json(
            {
                "tenant_id": tenant_id,
                **policy.to_dict(),
                "holds": [h.to_dict() for h in holds],
                "prunes": [p.to_dict() for p in prunes],
            }
        )
        return
    click.echo(f"{tenant_id}: {policy.describe()}")
    for hold in holds:
        click.echo(f"  held: {hold.describe()} ({hold.reason})")
    for prune in prunes:
        done = "" if prune.finished_at is not None else " (deletion unfinished)"
        click.echo(
            f"  pruned: events {prune.first_seq}..{prune.below - 1} on "
            f"{format_timestamp(prune.created_at)}{done}"
        )


@click.group()
def holds() -> None:
    """Legal holds: the events a hold covers are never pruned until it is released."""


@holds.command("add")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.option("--reason", required=True, help="Why (a case number); recorded in the log.")
@click.option("--account", "account_id", default=None, help="Hold only this account's events.")
@click.option("--since", default=None, help="Hold only events from this time (RFC 3339 or date).")
@click.option("--until", default=None, help="…and before this time (RFC 3339 or date).")
@database_option
@config_option
@json_option
def add_hold(
    tenant_id: str,
    reason: str,
    account_id: str | None,
    since: str | None,
    until: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Place a legal hold on the tenant's events (all, one account's, or a time range)."""
    log = open_log(load_settings(database, config))
    try:
        hold = log.add_hold(
            Principal.operator(tenant_id), reason, account_id=account_id, since=since, until=until
        )
    finally:
        log.close()
    if as_json:
        print_json(hold.to_dict())
        return
    click.echo(f"placed {hold.describe()}")


@holds.command("list")
@click.option("--tenant", "tenant_id", required=True, help="The tenant.")
@click.option("--all", "show_all", is_flag=True, help="Released holds too.")
@database_option
@config_option
@json_option
def list_holds(
    tenant_id: str, show_all: bool, database: str | None, config: str | None, as_json: bool
) -> None:
    """List the tenant's active legal holds (with --all, released ones too)."""
    log = open_log(load_settings(database, config))
    try:
        found = log.holds(Principal.operator(tenant_id), active_only=not show_all)
    finally:
        log.close()
    if as_json:
        print_json([h.to_dict() for h in found])
        return
    if not found:
        click.echo(f"{tenant_id}: no {'' if show_all else 'active '}legal holds")
    for hold in found:
        click.echo(_hold_line(hold))


def _hold_line(hold: Hold) -> str:
    state = (
        "active" if hold.released_at is None else f"released {format_timestamp(hold.released_at)}"
    )
    return (
        f"{hold.describe()} — {state} — placed {format_timestamp(hold.created_at)}: {hold.reason}"
    )


@holds.command("release")
@click.argument("hold_id")
@click.option("--tenant", "tenant_id", required=True, help="The hold's tenant.")
@database_option
@config_option
@json_option
def release_hold(
    hold_id: str, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Release legal hold HOLD_ID: what it kept may be pruned again."""
    log = open_log(load_settings(database, config))
    try:
        hold = log.release_hold(Principal.operator(tenant_id), hold_id)
    finally:
        log.close()
    if as_json:
        print_json(hold.to_dict())
        return
    click.echo(f"released {hold.describe()}")


@click.command()
@click.option("--tenant", "tenant_ids", multiple=True, help="Prune only this tenant (repeatable).")
@click.option("--dry-run", is_flag=True, help="Only say what would be pruned.")
@click.option(
    "--archive",
    type=click.File("wb"),
    default=None,
    help="First write the pruned range as an export bundle to this file (needs one --tenant).",
)
@database_option
@config_option
@json_option
def prune(
    tenant_ids: tuple[str, ...],
    dry_run: bool,
    archive: BinaryIO | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Remove what each tenant's retention policy lets go, keeping the rest provable.

    \b
    sealtrail prune --dry-run
    sealtrail prune --tenant acme --archive acme-pruned.bundle.ndjson

    Each tenant loses a prefix of its log: the events before the first one that
    its policy or a legal hold keeps (an event kept stops the cut there, even if
    later ones expired). The range is announced in the tenant's log
    (audit_log.events_pruned) first, then deleted in bounded batches; leaf hashes
    and tree nodes stay, so every remaining proof verifies and sealtrail verify
    reports the pruned range. Interrupted, running it again finishes the job.
    """
    if archive is not None and len(tenant_ids) != 1:
        raise click.UsageError("--archive writes one tenant's bundle: give --tenant once")
    if archive is not None and dry_run:
        raise click.UsageError("--archive writes what is pruned: not with --dry-run")
    log = open_log(load_settings(database, config))
    try:
        with click.progressbar(
            length=0, label="pruning", file=sys.stderr, hidden=not show_progress() or dry_run
        ) as bar:
            report = log.prune(
                tenants=tenant_ids or None, dry_run=dry_run, archive=archive, progress=bar.update
            )
    finally:
        log.close()
    if as_json:
        print_json(report.to_dict())
        return
    for found in report.tenants:
        click.echo(found.summary())
    for name in report.partitions_dropped:
        click.echo(f"dropped partition {name}")
    verb = "would prune" if dry_run else "pruned"
    click.echo(f"{verb} {report.events:,} events in {len(report.tenants)} tenants")


COMMANDS = [retention, holds, prune]
