"""The HTTP service: the app factory and what the API and the viewer share.

``sealtrail.api`` (the JSON routers) and ``sealtrail.web`` (the viewer page)
both sit on this package and never import each other:

    app             create_app: one FastAPI app mounting the API and the viewer
    asgi            the entry point ``sealtrail serve``'s uvicorn workers import
    deps            the request's AuditLog, settings and caller (API key or cookie)
    requests        bounded strict-JSON bodies, query strings, credentials, client IP
    errors          domain errors → HTTP responses, in one place
    session_cookie  the HttpOnly cookie that carries a viewer session
    metrics         Prometheus counters and the middleware that times requests

It comes with the ``server`` extra; without it, importing this package says so.
"""

from sealtrail._extras import require_server

require_server()
