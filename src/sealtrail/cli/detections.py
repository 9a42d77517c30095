"""Detections on the command line: ``sealtrail detections …``.

Rules, their business hours, a replay of history through one rule, and the alerts
they opened. docs/detections.md describes the rule syntax.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from sealtrail.audit_log import AuditLog, alert_dict, replay_start
from sealtrail.auth import Principal
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
)

F = TypeVar("F", bound=Callable[..., Any])


def _tenant(func: F) -> F:
    return click.option("--tenant", "tenant_id", required=True, help="The tenant.")(func)


def _common(func: F) -> F:
    return _tenant(database_option(config_option(json_option(func))))


def _with_log(database: str | None, config: str | None, work: Callable[[AuditLog], Any]) -> Any:
    log = open_log(load_settings(database, config))
    try:
        return work(log)
    finally:
        log.close()


def _show_rule(rule: dict[str, Any]) -> str:
    state = "on " if rule["enabled"] else "off"
    condition = rule["condition"] or "every event"
    extra = f", {rule['hours']} business hours" if rule["hours"] else ""
    kind = "built-in" if rule["builtin"] else "own"
    return (
        f"{state} {rule['name']:<26} {rule['severity']:<8} [{kind}] {rule['phrase']}"
        f" | {condition}{extra}"
    )


@click.group()
def detections() -> None:
    """Detection rules (a search phrase + a condition) and the alerts they open."""


@detections.command("list")
@_common
def list_rules(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """The tenant's rules: the built-in ones (as tuned) and its own."""
    principal = Principal.operator(tenant_id)

    def work(log: AuditLog) -> dict[str, Any]:
        rules = [r.to_dict() for r in log.detection_rules(principal)]
        return {"rules": rules, "settings": log.detection_settings(principal).to_dict()}

    found = _with_log(database, config, work)
    if as_json:
        print_json(found)
        return
    for rule in found["rules"]:
        click.echo(_show_rule(rule))
    settings = found["settings"]
    click.echo(f"business hours: {settings['business_hours']} ({settings['timezone']})")


@detections.command("add")
@click.argument("name")
@click.option("--phrase", required=True, help="Which events count, as a search phrase.")
@click.option("--severity", required=True, type=click.Choice(["low", "medium", "high", "critical"]))
@click.option(
    "--condition", default=None, help="'count >= N within D [by F, …]' or 'first time (F, …)'."
)
@click.option("--title", default=None, help="What an alert says (default: the name).")
@click.option(
    "--hours",
    type=click.Choice(["outside", "inside"]),
    default=None,
    help="Only events outside (or inside) the tenant's business hours.",
)
@click.option(
    "--context",
    "contexts",
    multiple=True,
    metavar="KEY=V1,V2",
    help="Only events whose context KEY holds one of the values (repeatable: any).",
)
@_common
def add(
    name: str,
    phrase: str,
    severity: str,
    condition: str | None,
    title: str | None,
    hours: str | None,
    contexts: tuple[str, ...],
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Add a rule of the tenant's own."""
    body: dict[str, Any] = {"name": name, "phrase": phrase, "severity": severity}
    if condition is not None:
        body["condition"] = condition
    if title is not None:
        body["title"] = title
    if hours is not None:
        body["hours"] = hours
    if contexts:
        body["context"] = _context(contexts)
    principal = Principal.operator(tenant_id)
    rule = _with_log(database, config, lambda log: log.add_detection(principal, body)).to_dict()
    print_json(rule) if as_json else click.echo(_show_rule(rule))


def _context(values: tuple[str, ...]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for item in values:
        key, equals, listed = item.partition("=")
        if not equals or not key.strip():
            raise click.UsageError(f"--context {item!r}: write KEY=VALUE[,VALUE…]")
        out.setdefault(key.strip(), []).extend(v.strip() for v in listed.split(",") if v.strip())
    return out


@detections.command("set")
@click.argument("name")
@click.option("--phrase", default=None, help="Which events count.")
@click.option("--severity", type=click.Choice(["low", "medium", "high", "critical"]), default=None)
@click.option("--condition", default=None, help="A new condition; 'none' for every event.")
@click.option("--title", default=None)
@click.option("--hours", type=click.Choice(["outside", "inside", "any"]), default=None)
@_common
def tune(
    name: str,
    phrase: str | None,
    severity: str | None,
    condition: str | None,
    title: str | None,
    hours: str | None,
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Change a rule: tune a built-in one (its threshold, window, severity …)."""
    body: dict[str, Any] = {}
    for key, value in (("phrase", phrase), ("severity", severity), ("title", title)):
        if value is not None:
            body[key] = value
    if condition is not None:
        body["condition"] = None if condition.strip().lower() == "none" else condition
    if hours is not None:
        body["hours"] = None if hours == "any" else hours
    if not body:
        raise click.UsageError(
            "say what to change: --phrase, --severity, --condition, --title or --hours"
        )
    _change(name, body, tenant_id, database, config, as_json)


def _change(
    name: str,
    body: dict[str, Any],
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    principal = Principal.operator(tenant_id)
    rule = _with_log(
        database, config, lambda log: log.update_detection(principal, name, body)
    ).to_dict()
    print_json(rule) if as_json else click.echo(_show_rule(rule))


@detections.command("disable")
@click.argument("name")
@_common
def disable(
    name: str, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Turn a rule off (a built-in one too); ``enable`` turns it back on."""
    _change(name, {"enabled": False}, tenant_id, database, config, as_json)


@detections.command("enable")
@click.argument("name")
@_common
def enable(
    name: str, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Turn a rule back on."""
    _change(name, {"enabled": True}, tenant_id, database, config, as_json)


@detections.command("remove")
@click.argument("name")
@_common
def remove(
    name: str, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Delete a rule of the tenant's own, or put a built-in one back to its defaults."""
    principal = Principal.operator(tenant_id)
    reset = _with_log(database, config, lambda log: log.remove_detection(principal, name))
    if as_json:
        print_json({"name": name, "reset": None if reset is None else reset.to_dict()})
    elif reset is None:
        click.echo(f"removed {name}")
    else:
        click.echo(f"reset to the defaults: {_show_rule(reset.to_dict())}")


@detections.command("test")
@click.argument("rule")
@click.option(
    "--since",
    default="30d",
    show_default=True,
    help="How far back: a duration (30d, 12h) or an RFC 3339 time.",
)
@_common
def test(
    rule: str, since: str, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Replay history through RULE (a rule's name) and show the alerts it would have
    opened. Nothing is stored and nothing is sent."""
    start = replay_start(since)
    principal = Principal.operator(tenant_id)
    found = _with_log(database, config, lambda log: log.test_detection(principal, rule, start))
    if as_json:
        print_json({"alerts": [a.to_dict() for a in found]})
        return
    for alert in found:
        click.echo(f"{alert.severity:<8} {alert.summary}")
        click.echo(f"         search: {alert.search}")
    click.echo(f"{len(found)} alert{'s' if len(found) != 1 else ''} would have opened")


@detections.command("hours")
@click.option("--timezone", default=None, help="An IANA time zone, like Europe/Berlin.")
@click.option("--business-hours", default=None, help="Like 'Mon-Fri 08:00-18:00'.")
@_common
def hours(
    timezone: str | None,
    business_hours: str | None,
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Show or set the tenant's time zone and business hours (rules with hours read them)."""
    principal = Principal.operator(tenant_id)
    body = {k: v for k, v in (("timezone", timezone), ("business_hours", business_hours)) if v}

    def work(log: AuditLog) -> dict[str, str]:
        if body:
            return log.set_detection_settings(principal, body).to_dict()
        return log.detection_settings(principal).to_dict()

    settings = _with_log(database, config, work)
    if as_json:
        print_json(settings)
    else:
        click.echo(f"{settings['business_hours']} ({settings['timezone']})")


@detections.command("alerts")
@click.option("--status", type=click.Choice(["open", "acknowledged", "resolved"]), default=None)
@click.option("--limit", type=click.IntRange(1, 200), default=50, show_default=True)
@_common
def alerts(
    status: str | None,
    limit: int,
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """The alerts the rules opened, newest first."""
    principal = Principal.operator(tenant_id)
    found = _with_log(
        database,
        config,
        lambda log: [alert_dict(a) for a in log.alerts(principal, status=status, limit=limit)],
    )
    if as_json:
        print_json({"alerts": found})
        return
    for alert in found:
        click.echo(
            f"{alert['id']}  {alert['status']:<12} {alert['severity']:<8} {alert['summary']}"
        )


@detections.command("ack")
@click.argument("alert_id")
@click.option("--resolve", is_flag=True, help="Resolve it rather than acknowledge it.")
@_common
def ack(
    alert_id: str,
    resolve: bool,
    tenant_id: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Acknowledge (or --resolve) an alert; recorded in the tenant's log."""
    principal = Principal.operator(tenant_id)

    def work(log: AuditLog) -> dict[str, Any]:
        change = log.resolve_alert if resolve else log.acknowledge_alert
        return alert_dict(change(principal, alert_id))

    alert = _with_log(database, config, work)
    if as_json:
        print_json(alert)
    else:
        click.echo(f"{alert['id']}: {alert['status']}")


COMMANDS = [detections]
