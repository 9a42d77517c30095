"""The ``sealtrail`` command line: a thin skin over ``AuditLog``.

Each command is its docstring plus a few library calls. Errors Sealtrail
raises on purpose print one line on stderr and exit 1; usage errors exit 2.
"""

from __future__ import annotations

import sys

import click

from sealtrail import __version__
from sealtrail.cli import (
    admin,
    detections,
    events,
    ledger,
    privacy,
    retention,
    serve,
    sessions,
    streams,
    witness,
)
from sealtrail.errors import SealtrailError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="sealtrail")
def cli() -> None:
    """Sealtrail: a tamper-evident audit log for SaaS products."""


for module in (
    serve,
    admin,
    events,
    ledger,
    privacy,
    retention,
    sessions,
    streams,
    detections,
    witness,
):
    for command in module.COMMANDS:
        cli.add_command(command)


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except SealtrailError as exc:
        click.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except BrokenPipeError:
        sys.exit(0)
