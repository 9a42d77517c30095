"""Middleware that puts each request's ``ip``, ``user_agent`` and ``request_id`` into
``sealtrail.context``, so every event recorded while handling it carries them.

    from sealtrail.integrations.asgi import SealtrailMiddleware    # FastAPI, Starlette, any ASGI
    from sealtrail.integrations.flask import Sealtrail             # Flask extension
    from sealtrail.integrations.wsgi import SealtrailWSGIMiddleware  # any WSGI app
    "sealtrail.integrations.django.SealtrailMiddleware"             # Django MIDDLEWARE entry

Each takes ``trusted_proxies`` (addresses or CIDRs whose ``X-Forwarded-For`` is
believed; none by default) and ``request_id_header`` (``X-Request-ID``). This
package imports no web framework; each submodule imports only its own.
"""

from sealtrail.integrations._request import RequestFields, TrustedProxies

__all__ = ["RequestFields", "TrustedProxies"]
