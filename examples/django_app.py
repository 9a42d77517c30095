"""A tiny single-file Django app that records an audit event per request through Sealtrail.

    SEALTRAIL_URL=http://127.0.0.1:8000 SEALTRAIL_API_KEY=st_... \
        python examples/django_app.py runserver 8080

    curl -X POST -H 'X-User-Id: u_1' http://127.0.0.1:8080/documents/d_1/share

The middleware (listed in MIDDLEWARE, configured by the SEALTRAIL_* settings)
puts the caller's ip, user agent and request id into ``sealtrail.context``;
the view names only who did what to which document.
"""

from __future__ import annotations

import os
import sys

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.urls import path

import sealtrail

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="example-only-not-secret",
        ALLOWED_HOSTS=["*"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["sealtrail.integrations.django.SealtrailMiddleware"],
        SEALTRAIL_TRUSTED_PROXIES=["10.0.0.0/8"],
        SEALTRAIL_REQUEST_ID_HEADER="X-Request-ID",
    )
    django.setup()

audit: sealtrail.Client | None = (
    None  # built from the environment on first use; tests set their own
)


def get_audit() -> sealtrail.Client:
    global audit
    if audit is None:
        audit = sealtrail.Client(os.environ["SEALTRAIL_URL"], os.environ["SEALTRAIL_API_KEY"])
    return audit


def share(request: HttpRequest, document_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    event_id = get_audit().record(
        action="document.shared",
        actor=f"user:{request.headers['X-User-Id']}",
        resource=f"document:{document_id}",
    )
    return JsonResponse({"event_id": event_id})


urlpatterns = [path("documents/<str:document_id>/share", share)]

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
