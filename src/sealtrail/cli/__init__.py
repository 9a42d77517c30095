"""The ``sealtrail`` command line: a thin skin over ``AuditLog`` (``cli.app``).

It comes with the ``server`` extra; without it, importing this package says so.
"""

from sealtrail._extras import require_server

require_server()

from sealtrail.cli.app import cli, main  # noqa: E402  (after the check that names the extra)

__all__ = ["cli", "main"]
