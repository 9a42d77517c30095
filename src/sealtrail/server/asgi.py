"""The ASGI entry point uvicorn workers import (``sealtrail serve``).

Workers are separate processes, so they rebuild ``Settings`` from the
environment the ``serve`` command exported for them.
"""

from __future__ import annotations

from fastapi import FastAPI

from sealtrail.audit_log import AuditLog
from sealtrail.server.app import create_app
from sealtrail.settings import Settings


def create_from_environment() -> FastAPI:
    settings = Settings.load()
    return create_app(AuditLog.open(settings=settings, serving=True), settings)
