"""``/v1/detections`` (scope ``detections:manage``) and ``/v1/alerts`` (``events:read``).

Rules are data: a search phrase, a condition, a severity (docs/detections.md). The
built-in rules are listed with the tenant's own; ``PATCH`` tunes one, ``DELETE`` puts
it back to its defaults. ``POST /v1/detection-tests`` replays history through a rule
and says what it would have opened (not under ``/v1/detections/``: a rule may be named
``test``, and one path must answer one set of methods). Acknowledging or resolving an alert needs
``detections:manage`` and is recorded in the tenant's log.
"""

from __future__ import annotations

from typing import Any, Final

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from sealtrail.api import schemas
from sealtrail.audit_log import alert_dict, replay_start
from sealtrail.errors import InvalidInput, InvalidQuery
from sealtrail.limits import DEFAULT_PAGE
from sealtrail.server import deps
from sealtrail.server.requests import client_ip, query_lists, read_json

router = APIRouter(tags=["detections"])

JSON = "application/json"
RULE_SHAPE = '{"name", "phrase", "severity", "condition"?, "context"?, "hours"?, "title"?}'
_RULE: Final = schemas.returns(schemas.RuleOut, "the rule")
_SETTINGS: Final = schemas.returns(schemas.DetectionSettingsOut, "the detection settings")
_ALERT: Final = schemas.returns(schemas.AlertOut, "the alert")


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type=JSON)


def _settings_dict(request: Request) -> dict[str, str]:
    log, principal = deps.audit_log(request), deps.principal(request)
    return log.detection_settings(principal).to_dict()


@router.get(
    "/v1/detections",
    summary="The tenant's detection rules: built-in and its own",
    response_class=Response,
    **schemas.operation(
        errors=(422,),
        responses={200: schemas.returns(schemas.RuleList, "the rules and the settings")},
    ),
)
def list_detections(request: Request) -> Response:
    query_lists(request, allowed=())
    rules = deps.audit_log(request).detection_rules(deps.principal(request))
    return _json({"rules": [r.to_dict() for r in rules], "settings": _settings_dict(request)})


@router.post(
    "/v1/detections",
    status_code=201,
    summary="Add a detection rule",
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 409),
        body=schemas.json_body(schemas.RULE_IN),
        responses={
            201: {
                **_RULE,
                **schemas.links(
                    GetDetection=("get_detection", {"name": "$response.body#/name"}),
                    UpdateDetection=("update_detection", {"name": "$response.body#/name"}),
                    DeleteDetection=("delete_detection", {"name": "$response.body#/name"}),
                ),
            }
        },
    ),
)
async def add_detection(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(request, deps.settings(request).max_body_bytes, RULE_SHAPE)
    rule = await run_in_threadpool(deps.audit_log(request).add_detection, principal, body)
    return _json(rule.to_dict(), 201)


@router.post(
    "/v1/detection-tests",
    summary="Replay history through a rule: the alerts it would have opened (nothing stored)",
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 404),
        body=schemas.json_body(schemas.RULE_TEST_IN),
        responses={200: schemas.returns(schemas.ReplayOut, "the alerts it would have opened")},
    ),
)
async def test_detection(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        '{"rule": NAME or a rule, "since": "30d" or an RFC 3339 time}',
    )
    if not isinstance(body, dict) or "rule" not in body:
        raise InvalidInput('send {"rule": NAME or a rule, "since": "30d"}')
    unknown = set(body) - {"rule", "since"}
    if unknown:
        raise InvalidInput(f"unknown field {sorted(unknown)[0]!r} (fields: rule, since)")
    rule = body["rule"]
    if not isinstance(rule, str | dict):
        raise InvalidInput("rule is a rule's name or a rule as JSON")
    since = replay_start(body.get("since", "30d"))
    alerts = await run_in_threadpool(deps.audit_log(request).test_detection, principal, rule, since)
    return _json({"alerts": [a.to_dict() for a in alerts]})


@router.get(
    "/v1/detections/{name}",
    summary="One detection rule",
    response_class=Response,
    **schemas.operation(errors=(404, 422), responses={200: _RULE}),
)
def get_detection(request: Request, name: str) -> Response:
    rule = deps.audit_log(request).detection_rule(deps.principal(request), name)
    return _json(rule.to_dict())


@router.patch(
    "/v1/detections/{name}",
    summary="Change a rule (tune a built-in one, disable it)",
    response_class=Response,
    **schemas.operation(
        errors=(*schemas.BODY, 404),
        body=schemas.json_body(schemas.RULE_CHANGE_IN),
        responses={200: _RULE},
    ),
)
async def update_detection(request: Request, name: str) -> Response:
    principal = deps.principal(request)
    body = await read_json(request, deps.settings(request).max_body_bytes, RULE_SHAPE)
    rule = await run_in_threadpool(deps.audit_log(request).update_detection, principal, name, body)
    return _json(rule.to_dict())


@router.delete(
    "/v1/detections/{name}",
    summary="Delete a rule of the tenant's own, or put a built-in one back to its defaults",
    response_class=Response,
    **schemas.operation(
        errors=(404, 422),
        responses={
            200: schemas.returns(schemas.RuleOut, "a built-in rule, put back to its defaults"),
            204: {"description": "The rule was deleted"},
        },
    ),
)
def delete_detection(request: Request, name: str) -> Response:
    reset = deps.audit_log(request).remove_detection(deps.principal(request), name)
    if reset is None:
        return Response(status_code=204)
    return _json(reset.to_dict())


@router.get(
    "/v1/detection-settings",
    summary="The time zone and business hours rules read",
    response_class=Response,
    **schemas.operation(responses={200: _SETTINGS}),
)
def get_detection_settings(request: Request) -> Response:
    return _json(_settings_dict(request))


@router.put(
    "/v1/detection-settings",
    summary="Set the time zone and business hours",
    response_class=Response,
    **schemas.operation(
        errors=schemas.BODY,
        body=schemas.json_body(schemas.DETECTION_SETTINGS_IN),
        responses={200: _SETTINGS},
    ),
)
async def put_detection_settings(request: Request) -> Response:
    principal = deps.principal(request)
    body = await read_json(
        request,
        deps.settings(request).max_body_bytes,
        '{"timezone": "Europe/Berlin", "business_hours": "Mon-Fri 08:00-18:00"}',
    )
    settings = await run_in_threadpool(
        deps.audit_log(request).set_detection_settings, principal, body
    )
    return _json(settings.to_dict())


@router.get(
    "/v1/alerts",
    summary="Alerts the detection rules opened, newest first",
    response_class=Response,
    **schemas.operation(
        errors=(404, 422),
        auth="key_or_viewer",
        parameters=schemas.ALERT_PARAMETERS,
        responses={200: schemas.returns(schemas.AlertPage, "the alerts, newest first")},
    ),
)
def list_alerts(request: Request) -> Response:
    params = query_lists(request, allowed=("status", "limit", "before"))
    one = {key: values[-1] for key, values in params.items()}
    try:
        limit = int(one.get("limit", DEFAULT_PAGE))
    except ValueError:
        raise InvalidQuery("limit must be a whole number", "limit") from None
    alerts = deps.audit_log(request).alerts(
        deps.principal(request), status=one.get("status"), limit=limit, before=one.get("before")
    )
    next_before = alerts[-1].id if len(alerts) == limit else None
    return _json({"alerts": [alert_dict(a) for a in alerts], "next_before": next_before})


@router.get(
    "/v1/alerts/{alert_id}",
    summary="One alert",
    response_class=Response,
    **schemas.operation(errors=(404, 422), auth="key_or_viewer", responses={200: _ALERT}),
)
def get_alert(request: Request, alert_id: str) -> Response:
    alert = deps.audit_log(request).alert(deps.principal(request), alert_id)
    return _json(alert_dict(alert))


@router.post(
    "/v1/alerts/{alert_id}/acknowledge",
    summary="Acknowledge an alert (recorded as audit_log.alert_acknowledged)",
    response_class=Response,
    **schemas.operation(errors=(404, 422), auth="key_or_viewer", responses={200: _ALERT}),
)
def acknowledge_alert(request: Request, alert_id: str) -> Response:
    principal = deps.principal(request)
    alert = deps.audit_log(request).acknowledge_alert(principal, alert_id, ip=client_ip(request))
    return _json(alert_dict(alert))


@router.post(
    "/v1/alerts/{alert_id}/resolve",
    summary="Resolve an alert (recorded as audit_log.alert_resolved)",
    response_class=Response,
    **schemas.operation(errors=(404, 422), auth="key_or_viewer", responses={200: _ALERT}),
)
def resolve_alert(request: Request, alert_id: str) -> Response:
    principal = deps.principal(request)
    alert = deps.audit_log(request).resolve_alert(principal, alert_id, ip=client_ip(request))
    return _json(alert_dict(alert))
