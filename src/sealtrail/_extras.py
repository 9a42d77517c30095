"""What the optional parts of Sealtrail need installed, named where they are imported.

``pip install sealtrail`` is the SDK and the middleware: an HTTP client and
nothing of the service. The service (``AuditLog``, the HTTP API, the viewer and
the ``sealtrail`` command) comes with the ``server`` extra, PostgreSQL with
``postgres``. Importing a part whose extra is missing says which one to install.
"""

from __future__ import annotations

import importlib.util
from typing import Final

SERVER_MODULES: Final = (
    "alembic",
    "click",
    "cryptography",
    "fastapi",
    "jinja2",
    "prometheus_client",
    "rfc8785",
    "sqlalchemy",
    "swagger_ui_bundle",
    "uvicorn",
)


def require_server() -> None:
    """Raise ``ModuleNotFoundError`` naming the ``server`` extra when it is not installed."""
    missing = [name for name in SERVER_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise ModuleNotFoundError(
            f"the Sealtrail service needs the server extra ({', '.join(missing)} missing):"
            " pip install 'sealtrail[server]'",
            name=missing[0],
        )
