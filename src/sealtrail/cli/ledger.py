"""Tamper evidence on the command line: ``checkpoint`` and ``verify``."""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

import click

from sealtrail.auth import Principal
from sealtrail.cli.common import (
    config_option,
    counted,
    database_option,
    json_option,
    load_settings,
    open_log,
    print_json,
    show_progress,
)
from sealtrail.errors import NoteError
from sealtrail.settings import Settings
from sealtrail.verify import Policy, Report, read_vkey, verify_bundle


@click.command()
@click.option("--tenant", "tenant_ids", multiple=True, help="Only this tenant (repeatable).")
@database_option
@config_option
@json_option
def checkpoint(
    tenant_ids: tuple[str, ...], database: str | None, config: str | None, as_json: bool
) -> None:
    """Sign a checkpoint now for every tenant whose tree has grown."""
    log = open_log(load_settings(database, config))
    try:
        ids = list(tenant_ids) or [t.id for t in log.tenants()]
        signed = [log.checkpoint(Principal.operator(tenant_id)) for tenant_id in ids]
        vkey = log.verifier_key
    finally:
        log.close()
    records = [
        {
            "tenant_id": c.tenant_id,
            "tree_size": c.tree_size,
            "root_hash": base64.b64encode(c.root_hash).decode("ascii"),
            "checkpoint": c.note,
        }
        for c in signed
    ]
    if as_json:
        print_json({"verifier_key": vkey, "checkpoints": records})
        return
    click.echo(f"verifier key: {vkey}")
    for c, r in zip(signed, records, strict=True):
        click.echo(f"{c.tenant_id}: {counted(c.tree_size, 'event')}, root {r['root_hash']}")


DEFAULT_WORKERS = min(os.cpu_count() or 1, 4)
"""``sealtrail verify --database``'s worker processes: one per core, a few at most."""


def _lines(stream: BinaryIO) -> Iterator[bytes]:
    yield from stream


@click.command()
@click.argument("bundle", required=False, type=click.File("rb"))
@click.option(
    "--key", "key_file", type=click.File("r"), help="The log's verifier key (C2SP vkey) file."
)
@click.option(
    "--checkpoint",
    "older",
    type=click.File("r"),
    help="A checkpoint you kept earlier: also prove the log only grew since it.",
)
@click.option(
    "--witness",
    "witness_vkeys",
    multiple=True,
    metavar="VKEY",
    help="A witness's vkey (or a file holding it): its cosignature is required. Repeatable.",
)
@click.option(
    "--quorum", type=int, default=None, help="With --witness: how many must cosign (default all)."
)
@click.option(
    "--policy",
    "policy_file",
    type=click.File("r"),
    help="A C2SP tlog-policy file: the log key, the witnesses and the quorum.",
)
@click.option(
    "--tenant",
    "tenant_ids",
    multiple=True,
    help="The tenant whose log this must be (a bundle), or only this tenant (repeatable).",
)
@click.option(
    "--complete",
    "require_complete",
    is_flag=True,
    help="Fail unless the bundle holds every event of its signed tree.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=DEFAULT_WORKERS,
    help=(
        "Database mode: processes that check a big tenant's seq ranges in parallel "
        "(default: the CPU count, at most 4); the report is the one a single process gives."
    ),
)
@database_option
@config_option
@json_option
def verify(
    bundle: BinaryIO | None,
    key_file: TextIO | None,
    older: TextIO | None,
    witness_vkeys: tuple[str, ...],
    quorum: int | None,
    policy_file: TextIO | None,
    tenant_ids: tuple[str, ...],
    require_complete: bool,
    workers: int,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Verify an export BUNDLE offline, or (without BUNDLE) the whole database.

    \b
    sealtrail verify export.bundle --key sealtrail.vkey [--tenant T] [--checkpoint older.txt]
    sealtrail verify export.bundle --key sealtrail.vkey --witness w1.vkey --witness w2.vkey
    sealtrail verify export.bundle --policy sealtrail.policy
    sealtrail verify --database sqlite:////srv/sealtrail.db [--key sealtrail.vkey]

    Every changed, removed, inserted, repeated or reordered event is named by
    its tenant and seq, and the exit status is 1. The output also says what
    was proven and what was not. With witnesses, a checkpoint that lacks their
    quorum of cosignatures is reported too: only witnesses catch a fork or
    rollback signed with the log's own key. Without --key, database mode reads
    the verifier key from the signing key file (signing_key_file) if it
    exists; it never creates one.
    """
    policy = _policy(witness_vkeys, quorum, policy_file)
    if bundle is not None:
        if len(tenant_ids) > 1:
            raise click.UsageError("a bundle holds one tenant's log: give --tenant once")
        if key_file is not None:
            verifier = read_vkey(_read_key(key_file))
        elif policy is not None and len(policy.logs) == 1:
            verifier = policy.logs[0]
        else:
            raise click.UsageError("verifying a bundle needs --key VKEY_FILE (or a policy's log)")
        with click.progressbar(
            length=0, label="verifying", file=sys.stderr, hidden=not show_progress()
        ) as bar:
            report = verify_bundle(
                _lines(bundle),
                verifier,
                older_checkpoint=older.read() if older is not None else None,
                tenant=tenant_ids[0] if tenant_ids else None,
                require_complete=require_complete,
                progress=bar.update,
                policy=policy,
            )
    else:
        if policy is not None:
            raise click.UsageError("--witness, --quorum and --policy check a BUNDLE's checkpoint")
        if older is not None or require_complete:
            raise click.UsageError("--checkpoint and --complete apply to a bundle")
        settings = load_settings(database, config)
        log = open_log(settings)
        try:
            vkey = _read_key(key_file) if key_file is not None else log.existing_verifier_key()
            with click.progressbar(
                length=0, label="verifying", file=sys.stderr, hidden=not show_progress()
            ) as bar:
                report = log.verify_database(
                    vkey, tenants=tenant_ids or None, progress=bar.update, workers=workers
                )
        finally:
            log.close()
        if vkey is None:
            click.echo(
                "no verifier key: checkpoint signatures are not checked. Pass --key VKEY_FILE, "
                f"or set {Settings.env_name('signing_key_file')} (signing_key_file) to the log's "
                f"signing key file ({settings.signing_key_file} does not exist)",
                err=True,
            )
    _print(report, as_json)
    if not report.ok:
        sys.exit(1)


def _policy(
    witness_vkeys: tuple[str, ...], quorum: int | None, policy_file: TextIO | None
) -> Policy | None:
    if policy_file is not None:
        if witness_vkeys or quorum is not None:
            raise click.UsageError("give either --policy or --witness/--quorum")
        return Policy.parse(policy_file.read())
    if quorum is not None and not witness_vkeys:
        raise click.UsageError("--quorum needs --witness")
    if not witness_vkeys:
        return None
    vkeys = [Path(v).read_text() if Path(v).is_file() else v for v in witness_vkeys]
    return Policy.of_witnesses(vkeys, quorum)


def _read_key(key_file: TextIO) -> str:
    """The vkey in a file, checked; surrounding whitespace is ignored."""
    text = key_file.read().strip()
    try:
        read_vkey(text)
    except NoteError as exc:
        raise click.UsageError(f"{key_file.name}: {exc.message}") from None
    return text


def _print(report: Report, as_json: bool) -> None:
    if as_json:
        print_json(report.to_dict())
        return
    for problem in report.problems:
        click.echo(f"FAIL {problem}")
    for warning in report.warnings:
        click.echo(f"WARN {warning}")
    for statement in report.pruned:
        click.echo(f"PRUNED {statement}")
    for statement in report.not_proven:
        click.echo(f"NOT PROVEN {statement}")
    for statement in report.proven:
        click.echo(f"proven {statement}")
    verdict = "OK" if report.ok else counted(len(report.problems), "problem")
    click.echo(
        f"{verdict}: {counted(report.events, 'event')} and"
        f" {counted(report.checkpoints, 'checkpoint')} checked"
        f" in {counted(len(report.tenants), 'tenant')} ({', '.join(report.tenants) or 'none'})"
    )


@click.command()
@click.argument("event_id")
@click.option("--tenant", "tenant_id", required=True, help="The event's tenant.")
@click.option(
    "-o",
    "--output",
    type=click.File("w"),
    default="-",
    help="Write the proof here (default: stdout); name it EVENT_ID.tlog-proof.",
)
@database_option
@config_option
def proof(
    event_id: str, tenant_id: str, output: TextIO, database: str | None, config: str | None
) -> None:
    """Print EVENT_ID's proof as a C2SP tlog-proof file, verifiable without Sealtrail.

    \b
    sealtrail proof 0190f3c2-... --tenant acme -o event.tlog-proof
    """
    log = open_log(load_settings(database, config))
    try:
        log.tenant(tenant_id)
        text = log.proof_file(Principal.operator(tenant_id), event_id)
    finally:
        log.close()
    output.write(text)


COMMANDS = [checkpoint, verify, proof]
