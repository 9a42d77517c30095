"""Privacy on the command line: ``erase``."""

from __future__ import annotations

import sys

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
from sealtrail.privacy import Subject


@click.command()
@click.option("--tenant", "tenant_id", required=True, help="Tenant to erase in.")
@click.option("--email", default=None, help="The subject's email, as actor or target.")
@click.option("--actor-id", default=None, help="The subject's user id, where they are the actor.")
@click.option("--target-id", default=None, help="The subject's user id, where they are the target.")
@click.option(
    "--reason",
    default="data subject erasure request (GDPR Art. 17)",
    show_default=True,
    help="Why; recorded in the log, so it must not name the subject.",
)
@click.option("--dry-run", is_flag=True, help="Only count the events that would change.")
@database_option
@config_option
@json_option
def erase(
    tenant_id: str,
    email: str | None,
    actor_id: str | None,
    target_id: str | None,
    reason: str,
    dry_run: bool,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Erase a data subject's personal fields; every proof still verifies.

    Names, emails, IP, user agent, and descriptions or contexts that mention
    them read [erased] from then on; the commitments the Merkle leaves hold
    stay. Interrupted, the same command goes on where it stopped; run again
    after it finished, it changes nothing.
    """
    named = [
        (k, v) for k, v in (("email", email), ("actor_id", actor_id), ("target_id", target_id)) if v
    ]
    if len(named) != 1:
        raise click.UsageError("name the subject once: --email, --actor-id or --target-id")
    kind, value = named[0]
    subject = Subject.named(kind, value)
    log = open_log(load_settings(database, config))
    try:
        principal = Principal.operator(tenant_id)
        erasure = log.erase(principal, subject, reason, dry_run=dry_run)
        if erasure.status == "running" and erasure.erasure_id is not None:
            with click.progressbar(
                length=erasure.events_matched,
                label="erasing",
                file=sys.stderr,
                hidden=not show_progress(),
            ) as bar:
                erasure = log.run_erasure(tenant_id, erasure.erasure_id, progress=bar.update)
    finally:
        log.close()
    if as_json:
        print_json(erasure.to_dict())
        return
    if dry_run:
        click.echo(f"{erasure.events_matched} events hold personal data of this subject")
        return
    click.echo(
        f"erasure {erasure.erasure_id}: {erasure.status}, "
        f"{erasure.events_erased} of {erasure.events_matched} events erased"
    )
    for note in erasure.purged:
        click.echo(f"  {note}")


COMMANDS = [erase]
