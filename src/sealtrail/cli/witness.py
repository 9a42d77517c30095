"""``sealtrail witness``: run a small C2SP tlog-witness for a Sealtrail log (or any log)."""

from __future__ import annotations

import click
import uvicorn

from sealtrail.cli.common import json_option, print_json
from sealtrail.errors import NoteError, SealtrailError
from sealtrail.witness.app import create_witness_app
from sealtrail.witness.service import Witness, check_log, load_or_create_witness_key
from sealtrail.witness.state import WitnessState

_STATE = click.option(
    "--state",
    "state_path",
    default="./sealtrail-witness.db",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The witness's SQLite file (trusted logs, latest cosigned checkpoints).",
)
_KEY = click.option(
    "--key",
    "key_path",
    default="./sealtrail-witness.key",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The witness's signer key file (created 0600 by init).",
)


@click.group()
def witness() -> None:
    """A C2SP tlog-witness: cosigns a log's checkpoints only while they only grow.

    \b
    sealtrail witness init --name witness.acme.example/w1     # prints the witness vkey
    sealtrail witness add-log --origin sealtrail/acme --vkey "$(cat sealtrail.vkey)"
    sealtrail witness serve --port 7380
    """


@witness.command()
@click.option("--name", required=True, help="The witness key name, e.g. witness.example/w1.")
@_STATE
@_KEY
@json_option
def init(name: str, state_path: str, key_path: str, as_json: bool) -> None:
    """Create the witness key and state if missing; print the witness's vkey."""
    cosigner = load_or_create_witness_key(key_path, name)
    WitnessState(state_path)
    if as_json:
        print_json({"name": cosigner.name, "vkey": cosigner.vkey})
    else:
        click.echo(cosigner.vkey)


@witness.command("add-log")
@click.option("--origin", required=True, help="The log's checkpoint origin line.")
@click.option("--vkey", "vkeys", required=True, multiple=True, help="The log's verifier key.")
@_STATE
def add_log(origin: str, vkeys: tuple[str, ...], state_path: str) -> None:
    """Trust a log: cosign checkpoints of ORIGIN signed by one of its keys."""
    keys = [v.strip() for v in vkeys]
    try:
        check_log(origin, keys)
    except NoteError as exc:
        raise click.BadParameter(exc.message) from None
    WitnessState(state_path).add_log(origin, keys)
    click.echo(f"trusting {origin}")


@witness.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=7380, show_default=True, type=int, help="Port.")
@_STATE
@_KEY
def serve(host: str, port: int, state_path: str, key_path: str) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint (one process)."""
    cosigner = load_or_create_witness_key(key_path)
    state = WitnessState(state_path)
    if not state.logs():
        raise SealtrailError("the witness trusts no log yet: run sealtrail witness add-log")
    click.echo(f"witness {cosigner.vkey} on http://{host}:{port}", err=True)
    app = create_witness_app(Witness(cosigner, state))
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


COMMANDS = [witness]
