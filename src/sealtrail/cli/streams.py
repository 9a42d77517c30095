"""Streams on the command line: ``streams create|list|show|test|replay|pause|resume|delete|
deliveries|rotate-secret`` — the operator's view of ``/v1/streams``, no API key needed —
and the operator's own ``streams rekey`` and ``streams new-secrets-key`` (the key stream
secrets are encrypted with at rest)."""

from __future__ import annotations

from typing import Any

import click
from cryptography.fernet import Fernet

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.cli.common import (
    config_option,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
)
from sealtrail.events import now_micros
from sealtrail.limits import DEFAULT_SECRET_OVERLAP, STREAM_DELIVERY_LOG, STREAM_FORMATS
from sealtrail.stream_admin import StreamView
from sealtrail.streams.config import SIGNING_SCHEMES, SigningChoice, StreamSpec


def _open(database: str | None, config: str | None) -> AuditLog:
    return open_log(load_settings(database, config))


def _line(view: StreamView) -> str:
    body = view.to_dict(now_micros())
    delivery = body["delivery"]
    text = (
        f"{view.id}  {body['name']}  {view.status}  {body['format']}"
        f"  {view.spec.destination.describe()}  next_seq={delivery['next_seq']}"
        f" lag={delivery['lag']}"
    )
    if body["filter"]:
        text += f"  filter={body['filter']!r}"
    signing = body.get("signing") or {}
    if signing.get("scheme") == "v1a":
        text += f"  signing=v1a {signing['public_key']}"
    if delivery["last_error"]:
        text += f"\n    last error ({delivery['attempts']} attempts): {delivery['last_error']}"
    return text


def _show(view: StreamView, as_json: bool, extra: dict[str, Any] | None = None) -> None:
    if as_json:
        print_json({**view.to_dict(now_micros()), **(extra or {})})
    else:
        click.echo(_line(view))


def _signing(scheme: str | None, secret_file: str | None) -> SigningChoice | None:
    """``--signing`` and ``--signing-secret-file`` as the API's ``signing`` member."""
    if scheme is None and secret_file is None:
        return None
    signing: dict[str, Any] = {"scheme": scheme or "v1"}
    if secret_file is not None:
        with click.open_file(secret_file, "r") as handle:
            signing["secret"] = handle.read().strip()
        if scheme is None and signing["secret"].startswith("whsk_"):
            signing["scheme"] = "v1a"
    return SigningChoice.from_body({"signing": signing})


def _show_keys(body: dict[str, Any], secret: str | None, what: str) -> None:
    signing = body.get("signing") or {}
    if secret is not None:
        click.echo(f"{what} (shown once): {secret}")
    if signing.get("public_key"):
        click.echo(f"v1a public key (give it to the receiver): {signing['public_key']}")


def tenant_option(func: Any) -> Any:
    return click.option("--tenant", "tenant_id", required=True, help="The tenant.")(func)


@click.group()
def streams() -> None:
    """Deliver a tenant's trail to its SIEM: webhooks and syslog (docs/streams.md)."""


@streams.command("create")
@tenant_option
@click.option("--name", required=True, help="The stream's name (unique in the tenant).")
@click.option("--webhook", "url", default=None, metavar="URL", help="An https:// webhook URL.")
@click.option("--syslog", default=None, metavar="HOST:PORT", help="A syslog server (TCP).")
@click.option("--tls", is_flag=True, help="Syslog over TLS (RFC 5425).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(STREAM_FORMATS),
    default="json",
    show_default=True,
    help="How events are written.",
)
@click.option("--filter", "phrase", default=None, help="A search phrase: only what it matches.")
@click.option(
    "--signing",
    type=click.Choice(SIGNING_SCHEMES),
    default=None,
    help="Webhook signatures: v1 (HMAC-SHA256, the default) or v1a (Ed25519).",
)
@click.option(
    "--signing-secret-file",
    default=None,
    metavar="FILE",
    help="Sign with your own key (whsec_… or whsk_…) read from FILE ('-': stdin).",
)
@database_option
@config_option
@json_option
def create(
    tenant_id: str,
    name: str,
    url: str | None,
    syslog: str | None,
    tls: bool,
    fmt: str,
    phrase: str | None,
    signing: str | None,
    signing_secret_file: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Create a stream; it delivers from the next event on (replay backfills).

    A webhook stream's generated v1 signing secret (whsec_…) is printed once, now; a v1a
    stream's public key (whpk_…) is printed now and shown by `streams show`.
    """
    if (url is None) == (syslog is None):
        raise click.UsageError("give exactly one destination: --webhook URL or --syslog HOST:PORT")
    destination: dict[str, Any]
    if url is not None:
        if tls:
            raise click.UsageError("--tls is for --syslog; a webhook URL is https:// already")
        destination = {"type": "webhook", "url": url}
    else:
        assert syslog is not None
        host, _, port = syslog.rpartition(":")
        if not host or not port.isdigit():
            raise click.UsageError(f"--syslog wants HOST:PORT, not {syslog!r}")
        destination = {"type": "syslog", "host": host.strip("[]"), "port": int(port), "tls": tls}
    spec = StreamSpec.from_body(
        {"name": name, "destination": destination, "format": fmt, "filter": phrase}
    )
    choice = _signing(signing, signing_secret_file)
    log = _open(database, config)
    try:
        created = log.create_stream(Principal.operator(tenant_id), spec, choice)
    finally:
        log.close()
    body = created.to_dict(now_micros())
    if as_json:
        print_json(body)
        return
    click.echo(_line(created.view))
    _show_keys(body, created.secret, "signing secret")


@streams.command("list")
@tenant_option
@database_option
@config_option
@json_option
def list_(tenant_id: str, database: str | None, config: str | None, as_json: bool) -> None:
    """The tenant's streams: status (active, paused, failing), cursor, lag, last error."""
    log = _open(database, config)
    try:
        views = log.streams(Principal.operator(tenant_id))
    finally:
        log.close()
    if as_json:
        now = now_micros()
        print_json({"streams": [v.to_dict(now) for v in views]})
        return
    if not views:
        click.echo("no streams")
    for view in views:
        click.echo(_line(view))


@streams.command("show")
@tenant_option
@click.argument("stream_id")
@database_option
@config_option
@json_option
def show(
    tenant_id: str, stream_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """One stream."""
    log = _open(database, config)
    try:
        view = log.get_stream(Principal.operator(tenant_id), stream_id)
    finally:
        log.close()
    _show(view, as_json)


def _set_status(
    tenant_id: str, stream_id: str, status: str, database: str | None, config: str | None
) -> StreamView:
    log = _open(database, config)
    try:
        return log.update_stream(Principal.operator(tenant_id), stream_id, {"status": status})
    finally:
        log.close()


@streams.command("pause")
@tenant_option
@click.argument("stream_id")
@database_option
@config_option
@json_option
def pause(
    tenant_id: str, stream_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Stop delivering; the stream keeps its place in the log."""
    _show(_set_status(tenant_id, stream_id, "paused", database, config), as_json)


@streams.command("resume")
@tenant_option
@click.argument("stream_id")
@database_option
@config_option
@json_option
def resume(
    tenant_id: str, stream_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Deliver again, from where the stream was paused."""
    _show(_set_status(tenant_id, stream_id, "active", database, config), as_json)


@streams.command("replay")
@tenant_option
@click.argument("stream_id")
@click.option("--from-seq", type=int, required=True, help="The first seq to deliver again.")
@database_option
@config_option
@json_option
def replay(
    tenant_id: str,
    stream_id: str,
    from_seq: int,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Deliver the stream again from a seq of the log (at least once)."""
    log = _open(database, config)
    try:
        view = log.replay_stream(Principal.operator(tenant_id), stream_id, from_seq)
    finally:
        log.close()
    _show(view, as_json)


@streams.command("test")
@tenant_option
@click.argument("stream_id")
@database_option
@config_option
@json_option
def test(
    tenant_id: str, stream_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Send the stream a signed test message now; exit 1 if it was not delivered."""
    log = _open(database, config)
    try:
        delivery = log.test_stream(Principal.operator(tenant_id), stream_id)
    finally:
        log.close()
    body = delivery.to_dict()
    if as_json:
        print_json({"delivery": body})
    elif body["delivered"]:
        status = f" (HTTP {body['status']})" if body["status"] else ""
        click.echo(f"delivered{status} in {body['latency_ms']} ms")
    else:
        click.echo(f"not delivered: {body['error']}", err=True)
    if not body["delivered"]:
        raise SystemExit(1)


@streams.command("deliveries")
@tenant_option
@click.argument("stream_id")
@click.option("--limit", type=click.IntRange(1, STREAM_DELIVERY_LOG), default=20, show_default=True)
@database_option
@config_option
@json_option
def deliveries(
    tenant_id: str,
    stream_id: str,
    limit: int,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """The stream's latest delivery attempts, newest first."""
    log = _open(database, config)
    try:
        found = [
            d.to_dict()
            for d in log.stream_deliveries(Principal.operator(tenant_id), stream_id, limit)
        ]
    finally:
        log.close()
    if as_json:
        print_json({"deliveries": found})
        return
    for d in found:
        what = "test" if d["kind"] == "test" else f"seq {d['first_seq']}..{d['last_seq']}"
        result = "delivered" if d["delivered"] else f"failed: {d['error']}"
        click.echo(
            f"{d['at']}  {what}  {d['events']} events  attempt {d['attempt']}"
            f"  {result}  {d['latency_ms']} ms"
        )


@streams.command("rotate-secret")
@tenant_option
@click.argument("stream_id")
@click.option(
    "--overlap",
    type=int,
    default=DEFAULT_SECRET_OVERLAP,
    show_default=True,
    help="Seconds the old secret keeps signing beside the new one.",
)
@click.option(
    "--signing",
    type=click.Choice(SIGNING_SCHEMES),
    default=None,
    help="The new key's scheme (default: the current one's).",
)
@click.option(
    "--signing-secret-file",
    default=None,
    metavar="FILE",
    help="Your own new key (whsec_… or whsk_…) read from FILE ('-': stdin).",
)
@database_option
@config_option
@json_option
def rotate_secret(
    tenant_id: str,
    stream_id: str,
    overlap: int,
    signing: str | None,
    signing_secret_file: str | None,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """A new webhook signing key (a generated v1 secret is printed once, a v1a key's public
    half too); the old one signs on for --overlap."""
    choice = _signing(signing, signing_secret_file)
    log = _open(database, config)
    try:
        rotated = log.rotate_stream_secret(
            Principal.operator(tenant_id), stream_id, overlap, choice
        )
    finally:
        log.close()
    body = rotated.to_dict(now_micros())
    if as_json:
        print_json(body)
        return
    click.echo(_line(rotated.view))
    _show_keys(body, rotated.secret, "new signing secret")


@streams.command("delete")
@tenant_option
@click.argument("stream_id")
@database_option
@config_option
def delete(tenant_id: str, stream_id: str, database: str | None, config: str | None) -> None:
    """Delete a stream, its cursor and its delivery log."""
    log = _open(database, config)
    try:
        log.delete_stream(Principal.operator(tenant_id), stream_id)
    finally:
        log.close()
    click.echo(f"deleted {stream_id}")


@streams.command("rekey")
@database_option
@config_option
def rekey(database: str | None, config: str | None) -> None:
    """Encrypt every stream's secrets under the first stream secrets key.

    To rotate the key: put a new key first in stream_secrets_key (the old one after it),
    run this, then drop the old key. It also encrypts secrets an older Sealtrail stored in
    the clear (as `sealtrail migrate` does).
    """
    log = _open(database, config)
    try:
        changed = log.seal_stream_secrets()
    finally:
        log.close()
    click.echo(f"re-encrypted the secrets of {changed} stream(s)")


@streams.command("new-secrets-key")
def new_secrets_key() -> None:
    """Print a new stream secrets key (a Fernet key) for stream_secrets_key."""
    click.echo(Fernet.generate_key().decode("ascii"))


COMMANDS = [streams]
