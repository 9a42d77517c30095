"""The SDK and the integrations package import no web framework until one is asked for."""

from __future__ import annotations

import subprocess
import sys

FRAMEWORKS = {"flask", "django", "starlette", "fastapi", "werkzeug"}


def _newly_imported(statement: str) -> set[str]:
    """Top-level packages that ``statement`` imports beyond what ``import sealtrail`` does."""
    probe = (
        "import sys, sealtrail\n"
        "before = set(sys.modules)\n"
        f"{statement}\n"
        "print(' '.join(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return {name.split(".")[0] for name in done.stdout.split()}


def test_sdk_and_framework_free_middleware_import_no_framework() -> None:
    loaded = _newly_imported(
        "import sealtrail.client, sealtrail.recording, sealtrail.integrations,"
        " sealtrail.integrations.asgi, sealtrail.integrations.wsgi"
    )
    assert "sealtrail" in loaded
    assert loaded.isdisjoint(FRAMEWORKS)


def test_the_flask_integration_imports_flask() -> None:
    assert "flask" in _newly_imported("import sealtrail.integrations.flask")
