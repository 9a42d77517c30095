"""The Flask extension: ``Sealtrail(app, trusted_proxies=[...])`` or ``init_app(app)``.

Settings not passed as arguments are read from ``app.config``:
``SEALTRAIL_TRUSTED_PROXIES`` (a list of addresses/CIDRs) and
``SEALTRAIL_REQUEST_ID_HEADER``. It wraps ``app.wsgi_app`` in
``SealtrailWSGIMiddleware``, so ``before_request`` hooks, views and error
handlers all record with the request's ``ip``, ``user_agent`` and ``request_id``.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask

from sealtrail.integrations._request import DEFAULT_REQUEST_ID_HEADER
from sealtrail.integrations.wsgi import SealtrailWSGIMiddleware


class Sealtrail:
    """Flask extension filling ``sealtrail.context`` from each request."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        trusted_proxies: Iterable[str] | None = None,
        request_id_header: str | None = None,
    ) -> None:
        self.trusted_proxies = None if trusted_proxies is None else tuple(trusted_proxies)
        self.request_id_header = request_id_header
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        proxies = self.trusted_proxies
        if proxies is None:
            proxies = tuple(app.config.get("SEALTRAIL_TRUSTED_PROXIES", ()))
        header = self.request_id_header or app.config.get(
            "SEALTRAIL_REQUEST_ID_HEADER", DEFAULT_REQUEST_ID_HEADER
        )
        app.wsgi_app = SealtrailWSGIMiddleware(  # type: ignore[method-assign]
            app.wsgi_app, trusted_proxies=proxies, request_id_header=header
        )
        app.extensions["sealtrail"] = self
