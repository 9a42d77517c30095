"""At interpreter exit whatever is still queued is sent, for both clients."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PRELUDE = """
import asyncio, sys
import httpx, orjson
from sealtrail.client import AsyncClient, Client

def handle(request):
    with open(sys.argv[1], "a") as ledger:
        ledger.writelines(e["id"] + "\\n" for e in orjson.loads(request.content)["events"])
    return httpx.Response(201)

transport = httpx.MockTransport(handle)
"""

SCRIPTS = {
    "sync": """
client = Client("http://sealtrail.test", "k", transport=transport, flush_interval=3600)
ids = [client.record(action="job.created", actor="system") for _ in range(5)]
""",
    "async-loop-ended-without-aclose": """
client = AsyncClient("http://sealtrail.test", "k", transport=transport, flush_interval=3600)

async def main():
    return [client.record(action="job.created", actor="system") for _ in range(5)]

ids = asyncio.run(main())
""",
}


@pytest.mark.parametrize("name", list(SCRIPTS))
def test_queued_events_are_sent_at_exit(tmp_path: Path, name: str) -> None:
    ledger = tmp_path / "received.txt"
    script = PRELUDE + SCRIPTS[name] + "print(' '.join(ids))\n"  # then exit: no flush, no close
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script), str(ledger)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    recorded = done.stdout.split()
    assert len(recorded) == 5
    assert ledger.read_text().split() == recorded
