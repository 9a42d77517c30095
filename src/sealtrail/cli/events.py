"""Event commands: ``ingest``, ``search``, ``export``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

import click

from sealtrail import strictjson
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
from sealtrail.errors import FieldError, InvalidEvent, MalformedBody
from sealtrail.events import EventInput, format_timestamp, validate_event
from sealtrail.limits import DEFAULT_PAGE, EXPORT_FORMATS, MAX_BATCH, MAX_PAGE
from sealtrail.query import Page, parse_phrase


@dataclass
class IngestSummary:
    lines: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected_batches: int = 0
    problems: list[str] = field(default_factory=list)


def _batches(stream: BinaryIO) -> Iterator[tuple[list[tuple[int, bytes]], int]]:
    """Non-blank lines with their numbers, MAX_BATCH at a time, plus bytes read."""
    batch: list[tuple[int, bytes]] = []
    consumed = 0
    for number, line in enumerate(stream, start=1):
        consumed += len(line)
        if line.strip():
            batch.append((number, line))
        if len(batch) >= MAX_BATCH:
            yield batch, consumed
            batch, consumed = [], 0
    if batch or consumed:
        yield batch, consumed


def _line_of(lines: list[tuple[int, bytes]], index: int | None) -> int:
    """The line a batch error points at: its event's, or the batch's first."""
    return lines[index][0] if index is not None and index < len(lines) else lines[0][0]


def _validate(lines: list[tuple[int, bytes]]) -> tuple[list[EventInput], list[str]]:
    valid: list[EventInput] = []
    problems: list[str] = []
    for number, raw in lines:
        try:
            body = strictjson.loads(raw)
        except MalformedBody as exc:
            problems.append(f"line {number}: {exc.message}")
            continue
        event, errors = validate_event(body, number)
        if event is None:
            problems.extend(_describe(number, errors))
        else:
            valid.append(event)
    return valid, problems


def _describe(number: int, errors: list[FieldError]) -> list[str]:
    return [f"line {number}: {e.field} {e.message}" for e in errors]


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option("--tenant", "tenant_id", required=True, help="Tenant to record into.")
@database_option
@config_option
@json_option
def ingest(
    file: BinaryIO, tenant_id: str, database: str | None, config: str | None, as_json: bool
) -> None:
    """Record events from an NDJSON FILE (- for stdin), in batches (the API's batch limit).

    A batch with any bad line is stored not at all; each bad line is reported
    with its line number, and the command exits 1. Resending a file is safe:
    events with an id the tenant already has are not stored twice.
    """
    log = open_log(load_settings(database, config))
    summary = IngestSummary()
    total = _size(file)
    operator = Principal.operator(tenant_id)
    try:
        log.tenant(tenant_id)
        with click.progressbar(
            length=total or 0,
            label="ingesting",
            file=sys.stderr,
            hidden=not show_progress() or not total,
        ) as bar:
            for lines, consumed in _batches(file):
                summary.lines += len(lines)
                events, problems = _validate(lines)
                if problems:
                    summary.rejected_batches += 1
                    summary.problems.extend(problems)
                elif events:
                    try:
                        receipts = log.append(operator, events)
                    except InvalidEvent as exc:
                        summary.rejected_batches += 1
                        summary.problems.extend(
                            f"line {_line_of(lines, d.index)}: {d.field} {d.message}"
                            for d in exc.details
                        )
                    else:
                        created = sum(1 for r in receipts if r.created)
                        summary.stored += created
                        summary.duplicates += len(receipts) - created
                bar.update(consumed)
    finally:
        log.close()
    if as_json:
        print_json(
            {
                "lines": summary.lines,
                "stored": summary.stored,
                "duplicates": summary.duplicates,
                "rejected_batches": summary.rejected_batches,
                "errors": summary.problems,
            }
        )
    else:
        for problem in summary.problems:
            click.echo(problem, err=True)
        click.echo(
            f"{counted(summary.stored, 'event')} stored, {summary.duplicates} already present, "
            f"{counted(summary.rejected_batches, 'batch', 'batches')} rejected,"
            f" from {counted(summary.lines, 'line')}"
        )
    if summary.problems:
        sys.exit(1)


def _size(file: BinaryIO) -> int | None:
    try:
        import os

        return os.fstat(file.fileno()).st_size or None
    except (OSError, ValueError, AttributeError):
        return None


@click.command()
@click.argument("phrase", required=False, default="")
@click.option("--tenant", "tenant_id", required=True, help="Tenant to search.")
@click.option(
    "--saved",
    "saved_name",
    metavar="NAME",
    help="Run the tenant's shared saved search of this name instead of a PHRASE.",
)
@click.option("--limit", default=DEFAULT_PAGE, show_default=True, type=click.IntRange(1, MAX_PAGE))
@click.option("--order", type=click.Choice(["desc", "asc"]), default="desc", show_default=True)
@database_option
@config_option
@json_option
def search(
    phrase: str,
    tenant_id: str,
    saved_name: str | None,
    limit: int,
    order: str,
    database: str | None,
    config: str | None,
    as_json: bool,
) -> None:
    """Search a tenant's events with a search PHRASE, or with a saved search (--saved NAME).

    Example: sealtrail search 'action:member.* -actor:ann@example.com created:>=2026-03-01'
    """
    if saved_name is not None and phrase:
        raise click.UsageError("give a PHRASE or --saved NAME, not both")
    operator = Principal.operator(tenant_id)
    log = open_log(load_settings(database, config))
    try:
        log.tenant(tenant_id)
        if saved_name is not None:
            phrase = log.saved_search_named(operator, saved_name).phrase
        query = parse_phrase(phrase)
        query = type(query)(terms=query.terms, time=query.time, order=order)  # type: ignore[arg-type]
        result = log.search(operator, query, Page(limit=limit))
    finally:
        log.close()
    if as_json:
        print_json({"events": [e.to_dict() for e in result.events], "total": result.total})
        return
    if not result.events:
        click.echo("no events match", err=True)
    for event in result.events:
        actor = event.actor.email or event.actor.name or event.actor.id
        click.echo(
            f"{format_timestamp(event.occurred_at)}  #{event.seq:<7} {event.action:<32} "
            f"{actor:<28} {event.description or ''}"
        )


@click.command()
@click.option("--tenant", "tenant_id", required=True, help="Tenant to export.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(EXPORT_FORMATS),
    default=EXPORT_FORMATS[0],
    show_default=True,
)
@click.option("--phrase", default="", help="Only events matching this search phrase.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    help="File (default: stdout).",
)
@database_option
@config_option
def export(
    tenant_id: str,
    fmt: str,
    phrase: str,
    output: str | None,
    database: str | None,
    config: str | None,
) -> None:
    """Export a tenant's events as CSV, NDJSON or a verifiable bundle."""
    query = parse_phrase(phrase)
    log = open_log(load_settings(database, config))
    try:
        log.tenant(tenant_id)
        chunks = log.export(Principal.operator(tenant_id), query, fmt).chunks  # type: ignore[arg-type]
        if output is None:
            for chunk in chunks:
                sys.stdout.buffer.write(chunk)
            sys.stdout.flush()
        else:
            with open(output, "wb") as handle:
                for chunk in chunks:
                    handle.write(chunk)
            click.echo(f"wrote {output}", err=True)
    finally:
        log.close()


COMMANDS = [ingest, search, export]
