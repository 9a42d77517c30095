"""``python -m sealtrail`` runs the CLI."""

from sealtrail.cli import main

main()
