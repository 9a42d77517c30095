"""A tiny Flask app that records an audit event per request through Sealtrail.

    SEALTRAIL_URL=http://127.0.0.1:8000 SEALTRAIL_API_KEY=st_... \
        flask --app examples/flask_app.py run --port 8080

    curl -X POST -H 'X-User-Id: u_1' http://127.0.0.1:8080/documents/d_1/share

The extension puts the caller's ip, user agent and request id into
``sealtrail.context``; the view names only who did what to which document.
The client flushes what is queued when the process exits.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from flask import Flask, request

import sealtrail
from sealtrail.integrations.flask import Sealtrail


def create_app(
    audit: sealtrail.Client | None = None, trusted_proxies: Sequence[str] = ("10.0.0.0/8",)
) -> Flask:
    audit = audit or sealtrail.Client(os.environ["SEALTRAIL_URL"], os.environ["SEALTRAIL_API_KEY"])
    app = Flask(__name__)
    Sealtrail(app, trusted_proxies=trusted_proxies)

    @app.post("/documents/<document_id>/share")
    def share(document_id: str) -> dict[str, str]:
        event_id = audit.record(
            action="document.shared",
            actor=f"user:{request.headers['X-User-Id']}",
            resource=f"document:{document_id}",
        )
        return {"event_id": event_id}

    return app
