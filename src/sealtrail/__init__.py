"""Sealtrail: a tamper-evident audit log for SaaS products.

    import sealtrail

    audit = sealtrail.Client("https://audit.example.com", api_key)     # over HTTP
    audit = sealtrail.AuditLog.open("sqlite:///./sealtrail.db")       # or in-process
    with sealtrail.context(actor={"type": "user", "id": "u_1"}, tenant="acme"):
        audit.record(action="member.invited", target={"type": "user", "id": "u_2"})

Names are imported on first use, so ``import sealtrail`` stays cheap for the CLI.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from sealtrail.audit_log import AuditLog
    from sealtrail.client import AsyncClient, Client
    from sealtrail.errors import (
        AuthenticationFailed,
        InvalidEvent,
        InvalidInput,
        InvalidQuery,
        NotFound,
        PermissionDenied,
        SealtrailError,
    )
    from sealtrail.recording import context

_EXPORTS = {
    "AuditLog": "sealtrail.audit_log",
    "Client": "sealtrail.client",
    "AsyncClient": "sealtrail.client",
    "context": "sealtrail.recording",
    "SealtrailError": "sealtrail.errors",
    "InvalidInput": "sealtrail.errors",
    "InvalidEvent": "sealtrail.errors",
    "InvalidQuery": "sealtrail.errors",
    "AuthenticationFailed": "sealtrail.errors",
    "PermissionDenied": "sealtrail.errors",
    "NotFound": "sealtrail.errors",
}

__all__ = [
    "AsyncClient",
    "AuditLog",
    "AuthenticationFailed",
    "Client",
    "InvalidEvent",
    "InvalidInput",
    "InvalidQuery",
    "NotFound",
    "PermissionDenied",
    "SealtrailError",
    "__version__",
    "context",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'sealtrail' has no attribute {name!r}")
    if name == "AuditLog":
        from sealtrail._extras import require_server

        require_server()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
