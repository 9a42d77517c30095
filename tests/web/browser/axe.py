"""axe-core, from the npm registry, for the accessibility tests.

``tests/web/browser/axe/package.json`` and its lock pin axe-core; the first test
that needs it runs ``npm ci`` there (``node_modules`` is not committed). Nothing
else is downloaded: the script is read from disk and evaluated in the page, which a
strict Content-Security-Policy does not stop (it is the test's code, not the page's).
"""

from __future__ import annotations

import fcntl
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent / "axe"
SCRIPT: Final = HERE / "node_modules" / "axe-core" / "axe.min.js"
LOCK: Final = HERE / ".install.lock"  # beside node_modules, which npm ci replaces
BLOCKING: Final = ("serious", "critical")


class Unavailable(Exception):
    """axe-core is not installed and cannot be (no npm)."""


@cache
def source() -> str:
    # On a fresh clone every test worker finds the script missing at once. ``npm ci``
    # empties node_modules before it writes it, so a worker that read it meanwhile got
    # half a script ("SyntaxError: Unexpected end of input" in the page): one worker
    # installs while the others wait on the lock, then each reads the whole file.
    with LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not SCRIPT.is_file():
            npm = shutil.which("npm")
            if npm is None:
                raise Unavailable("no npm to install axe-core with (apt-get install npm)")
            subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=HERE,
                check=True,
                timeout=600,
                capture_output=True,
            )
        return SCRIPT.read_text(encoding="utf-8")


def violations(page: Any, *, impacts: tuple[str, ...] = BLOCKING) -> list[str]:
    """Every axe-core violation of these impacts on the page as it is now, one line each."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(source())
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(n["target"]) for n in v["nodes"][:5])
        for v in found
        if v["impact"] in impacts
    ]
