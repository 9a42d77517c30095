"""Django middleware: add ``"sealtrail.integrations.django.SealtrailMiddleware"`` to MIDDLEWARE.

Settings: ``SEALTRAIL_TRUSTED_PROXIES`` (addresses/CIDRs whose
``X-Forwarded-For`` is believed; default none) and
``SEALTRAIL_REQUEST_ID_HEADER`` (default ``X-Request-ID``). Works under WSGI
and ASGI; Django runs sync views of an ASGI app with a copy of the context.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings

from sealtrail.integrations._request import DEFAULT_REQUEST_ID_HEADER, RequestFields
from sealtrail.integrations.wsgi import environ_key
from sealtrail.recording import RecordingContext

GetResponse = Callable[[Any], Any]


class SealtrailMiddleware:
    """Fill ``ip``, ``user_agent`` and ``request_id`` for events recorded during a request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        header = getattr(settings, "SEALTRAIL_REQUEST_ID_HEADER", DEFAULT_REQUEST_ID_HEADER)
        self.fields = RequestFields(
            trusted_proxies=getattr(settings, "SEALTRAIL_TRUSTED_PROXIES", ()),
            request_id_header=header,
        )
        self._request_id = environ_key(header)
        self._async = iscoroutinefunction(get_response)
        if self._async:
            markcoroutinefunction(self)

    def __call__(self, request: Any) -> Any:
        if self._async:
            return self._acall(request)
        with self._context(request):
            return self.get_response(request)

    async def _acall(self, request: Any) -> Any:
        with self._context(request):
            response: Awaitable[Any] = self.get_response(request)
            return await response

    def _context(self, request: Any) -> AbstractContextManager[RecordingContext]:
        meta = request.META
        forwarded = meta.get("HTTP_X_FORWARDED_FOR")
        return self.fields.context(
            peer=meta.get("REMOTE_ADDR"),
            forwarded_for=[forwarded] if forwarded else [],
            user_agent=meta.get("HTTP_USER_AGENT"),
            request_id=meta.get(self._request_id),
        )
