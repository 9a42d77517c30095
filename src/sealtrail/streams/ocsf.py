"""Sealtrail events as OCSF 1.8.0 events (schema.ocsf.io/1.8.0).

Five classes carry the catalog: Authentication (3002) for sign-ins and sign-outs, User
Access Management (3005) for role and permission changes, Group Management (3006) for
workspace and process membership, Entity Management (3004) for the rest of identity
administration (members, invitations, users, roles, API keys, authentication settings)
and API Activity (6003) for everything else the host product records. ``mapping_for``
chooses the class and activity from the event's action, category and kind alone, so the
table in docs/streams.md (``mapping_markdown``) is the whole mapping; a test keeps the
two equal and validates an event of every catalog type against the OCSF 1.8.0 schema.

Fields OCSF has no place for (``action``, ``category``, ``kind``, ``account_id``, the
actor's role, ``context``, values OCSF's own types refuse) travel in ``unmapped``, so an
OCSF receiver loses nothing the API would have shown.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Final

from sealtrail import __version__
from sealtrail.catalog import Catalog, Kind
from sealtrail.events import Actor, Event, Resource, Target, format_timestamp
from sealtrail.ledger import origin_for_tenant
from sealtrail.streams.severity import severity

__all__ = [
    "OCSF_VERSION",
    "OcsfJson",
    "OcsfMapping",
    "mapping_for",
    "mapping_markdown",
    "to_ocsf",
]

OCSF_VERSION: Final = "1.8.0"

AUTHENTICATION: Final = 3002
ENTITY_MANAGEMENT: Final = 3004
USER_ACCESS: Final = 3005
GROUP_MANAGEMENT: Final = 3006
API_ACTIVITY: Final = 6003

_CLASSES: Final[dict[int, tuple[str, int, str]]] = {
    AUTHENTICATION: ("Authentication", 3, "Identity & Access Management"),
    ENTITY_MANAGEMENT: ("Entity Management", 3, "Identity & Access Management"),
    USER_ACCESS: ("User Access Management", 3, "Identity & Access Management"),
    GROUP_MANAGEMENT: ("Group Management", 3, "Identity & Access Management"),
    API_ACTIVITY: ("API Activity", 6, "Application Activity"),
}
_ACTIVITIES: Final[dict[int, dict[int, str]]] = {
    AUTHENTICATION: {1: "Logon", 2: "Logoff"},
    ENTITY_MANAGEMENT: {
        1: "Create",
        2: "Read",
        3: "Update",
        4: "Delete",
        8: "Enable",
        9: "Disable",
        10: "Activate",
        11: "Deactivate",
        99: "Other",
    },
    USER_ACCESS: {1: "Assign Privileges"},
    GROUP_MANAGEMENT: {3: "Add User", 4: "Remove User"},
    API_ACTIVITY: {1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other"},
}
# Entity Management and API Activity share these activity ids for the CRUD kinds.
_BY_KIND: Final[dict[str, int]] = {"create": 1, "access": 2, "update": 3, "delete": 4}

# Catalog categories whose events administer identities: Entity Management by kind.
_IAM_CATEGORIES: Final = frozenset({"members", "auth", "api_keys"})

_LOGON_VERBS: Final = frozenset(
    {"login", "signin", "logged_in", "signed_in", "log_in", "sign_in", "sso_login"}
)
_LOGOFF_VERBS: Final = frozenset(
    {"logout", "signout", "logged_out", "signed_out", "log_out", "sign_out"}
)

_ACTIONS: Final[dict[str, tuple[int, int]]] = {
    "auth.mfa_verified": (AUTHENTICATION, 1),
    **dict.fromkeys(
        (
            "member.role_changed",
            "member.role_updated",
            "workspace.member_permissions_updated",
            "workspace.permissions_updated",
        ),
        (USER_ACCESS, 1),
    ),
    **dict.fromkeys(("workspace.member_added", "process.member_added"), (GROUP_MANAGEMENT, 3)),
    **dict.fromkeys(("workspace.member_removed", "process.member_removed"), (GROUP_MANAGEMENT, 4)),
    **dict.fromkeys(
        ("member.invite_accepted", "invitation.accepted", "member.reactivated"),
        (ENTITY_MANAGEMENT, 10),
    ),
    **dict.fromkeys(("member.offboarded", "api_key.deactivated"), (ENTITY_MANAGEMENT, 11)),
    "auth.mfa_enabled": (ENTITY_MANAGEMENT, 8),
    "auth.mfa_disabled": (ENTITY_MANAGEMENT, 9),
}


@dataclass(frozen=True, slots=True)
class OcsfMapping:
    """An OCSF class and activity."""

    class_uid: int
    activity_id: int

    @property
    def class_name(self) -> str:
        return _CLASSES[self.class_uid][0]

    @property
    def category_uid(self) -> int:
        return _CLASSES[self.class_uid][1]

    @property
    def category_name(self) -> str:
        return _CLASSES[self.class_uid][2]

    @property
    def activity_name(self) -> str:
        return _ACTIVITIES[self.class_uid][self.activity_id]

    @property
    def type_uid(self) -> int:
        return self.class_uid * 100 + self.activity_id


def mapping_for(action: str, category: str, kind: str) -> OcsfMapping:
    """The OCSF class and activity of an event, from its action, category and kind.

    In order: the catalog types named in ``_ACTIONS``; an action whose verb signs in or
    out (any category, so tenant types such as ``customer.login`` count); the IAM
    categories (members, auth, api_keys) as Entity Management by kind; everything else
    as API Activity by kind. ``other`` kinds are activity 99 Other.
    """
    known = _ACTIONS.get(action)
    if known is not None:
        return OcsfMapping(*known)
    verb = action.rpartition(".")[2]
    if kind == "access" and verb in _LOGON_VERBS:
        return OcsfMapping(AUTHENTICATION, 1)
    if kind == "access" and verb in _LOGOFF_VERBS:
        return OcsfMapping(AUTHENTICATION, 2)
    activity = _BY_KIND.get(kind, 99)
    if category in _IAM_CATEGORIES:
        return OcsfMapping(ENTITY_MANAGEMENT, activity)
    return OcsfMapping(API_ACTIVITY, activity)


@dataclass(frozen=True, slots=True)
class OcsfJson:
    """Encoder: one OCSF 1.8.0 event object per Sealtrail event.

    ``product_name``/``vendor_name``/``product_version`` name the reporting product in
    ``metadata.product`` (Sealtrail and its version by default). ``service_name`` names
    the host product users sign in to (Authentication's ``service``); without it the
    service is identified by the tenant id.
    """

    product_name: str = "Sealtrail"
    vendor_name: str = "Sealtrail"
    product_version: str | None = __version__
    service_name: str | None = None
    name: ClassVar[str] = "ocsf"

    def encode(self, event: Event) -> dict[str, Any]:
        return to_ocsf(event, self)


# OCSF's own patterns (email_t, ip_t); a value they refuse goes to ``unmapped`` instead.
_OCSF_EMAIL: Final = re.compile(r"^[a-zA-Z0-9!#$%&'*+-/=?^_`{|}~.]+@[a-zA-Z0-9-]+\.[a-zA-Z0-9-.]+$")
_OCSF_IP_MAX: Final = 40
_USER_TYPES: Final[dict[str, tuple[int, str]]] = {
    "user": (1, "User"),
    "system": (3, "System"),
    "service": (4, "Service"),
    "api_key": (99, "API Key"),
}


def to_ocsf(event: Event, options: OcsfJson | None = None) -> dict[str, Any]:
    """The OCSF 1.8.0 object for one event (see the module docstring and docs/streams.md)."""
    options = options or OcsfJson()
    mapping = mapping_for(event.action, event.category, event.kind)
    level = severity(event)
    unmapped: dict[str, Any] = {
        "action": event.action,
        "category": event.category,
        "kind": event.kind,
    }
    out: dict[str, Any] = {
        "class_uid": mapping.class_uid,
        "class_name": mapping.class_name,
        "category_uid": mapping.category_uid,
        "category_name": mapping.category_name,
        "activity_id": mapping.activity_id,
        "activity_name": mapping.activity_name,
        "type_uid": mapping.type_uid,
        "type_name": f"{mapping.class_name}: {mapping.activity_name}",
        "time": event.occurred_at // 1000,
        "severity_id": int(level),
        "severity": level.label,
        "status_id": 1 if event.outcome == "success" else 2,
        "status": "Success" if event.outcome == "success" else "Failure",
        "metadata": _metadata(event, options),
        "actor": {"user": _user(event.actor, event.tenant_id, unmapped, "actor")},
    }
    if event.description is not None:
        out["message"] = event.description
    endpoint = _endpoint(event.ip, unmapped)
    if endpoint is not None:
        out["src_endpoint"] = endpoint
    subject = event.target or event.actor
    if mapping.class_uid == AUTHENTICATION:
        out["user"] = _user(event.actor, event.tenant_id, unmapped, "user")
        out["service"] = (
            {"name": options.service_name} if options.service_name else {"uid": event.tenant_id}
        )
        if event.action == "auth.mfa_verified":
            out["is_mfa"] = True
    elif mapping.class_uid == ENTITY_MANAGEMENT:
        out["entity"] = _entity(event, unmapped)
    elif mapping.class_uid == USER_ACCESS:
        out["user"] = _user(subject, event.tenant_id, unmapped, "user")
        out["privileges"] = _privileges(event.context)
        if event.resource is not None:
            out["resources"] = [_resource(event.resource, 1)]
    elif mapping.class_uid == GROUP_MANAGEMENT:
        out["user"] = _user(subject, event.tenant_id, unmapped, "user")
        out["group"] = _group(event)
    else:
        api: dict[str, Any] = {"operation": event.action}
        if event.request_id is not None:
            api["request"] = {"uid": event.request_id}
        out["api"] = api
        # API Activity requires a source endpoint; without an IP it is named "unknown".
        out.setdefault("src_endpoint", {"name": "unknown"})
        resources = []
        if event.resource is not None:
            resources.append(_resource(event.resource, 1))
        if event.target is not None:
            resources.append(_target_resource(event.target))
        if resources:
            out["resources"] = resources
        if event.user_agent is not None:
            out["http_request"] = {"user_agent": event.user_agent}
    if event.user_agent is not None and mapping.class_uid != API_ACTIVITY:
        unmapped["user_agent"] = event.user_agent
    for name in ("account_id", "context"):
        value = getattr(event, name)
        if value is not None:
            unmapped[name] = value
    if event.actor.role is not None:
        unmapped["actor_role"] = event.actor.role
    out["unmapped"] = unmapped
    return out


def _metadata(event: Event, options: OcsfJson) -> dict[str, Any]:
    product: dict[str, Any] = {"name": options.product_name, "vendor_name": options.vendor_name}
    if options.product_version is not None:
        product["version"] = options.product_version
    metadata: dict[str, Any] = {
        "version": OCSF_VERSION,
        "product": product,
        "uid": event.id,
        "tenant_uid": event.tenant_id,
        "sequence": event.seq,
        "event_code": event.action,
        "log_name": origin_for_tenant(event.tenant_id),
        "logged_time": event.received_at // 1000,
        "original_time": format_timestamp(event.occurred_at),
    }
    if event.request_id is not None:
        metadata["correlation_uid"] = event.request_id
    return metadata


def _user(
    who: Actor | Target, tenant_id: str, unmapped: dict[str, Any], where: str
) -> dict[str, Any]:
    type_id, type_name = _USER_TYPES.get(who.type, (99, who.type))
    user: dict[str, Any] = {
        "uid": who.id,
        "type_id": type_id,
        "type": type_name,
        "org": {"uid": tenant_id},
    }
    if who.name is not None:
        user["name"] = who.name
    if who.email is not None:
        if _OCSF_EMAIL.fullmatch(who.email):
            user["email_addr"] = who.email
        else:
            unmapped[f"{where}_email"] = who.email
    return user


def _endpoint(ip: str | None, unmapped: dict[str, Any]) -> dict[str, Any] | None:
    if ip is None:
        return None
    if len(ip) <= _OCSF_IP_MAX:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            pass
        else:
            return {"ip": ip}
    unmapped["ip"] = ip
    return None


def _entity(event: Event, unmapped: dict[str, Any]) -> dict[str, Any]:
    """The managed entity: the target person, else the resource, else the actor."""
    if event.target is not None or event.resource is None:
        person = event.target or event.actor
        entity: dict[str, Any] = {
            "uid": person.id,
            "type_id": 2,
            "type": "User",
            "user": _user(person, event.tenant_id, unmapped, "entity"),
        }
        if person.name is not None:
            entity["name"] = person.name
        return entity
    resource = event.resource
    entity = {"uid": resource.id, "type_id": 99, "type": resource.type}
    if resource.name is not None:
        entity["name"] = resource.name
    return entity


def _resource(resource: Resource, role_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {"uid": resource.id, "type": resource.type, "role_id": role_id}
    if resource.name is not None:
        out["name"] = resource.name
    return out


def _target_resource(target: Target) -> dict[str, Any]:
    """The affected person, as a resource of an API Activity (role 3, Affected)."""
    out: dict[str, Any] = {"uid": target.id, "type": target.type, "role_id": 3}
    if target.name is not None:
        out["name"] = target.name
    return out


def _group(event: Event) -> dict[str, Any]:
    """The workspace or process a member joined or left."""
    if event.resource is not None:
        group: dict[str, Any] = {"uid": event.resource.id, "type": event.resource.type}
        if event.resource.name is not None:
            group["name"] = event.resource.name
        return group
    return {"uid": event.account_id or event.tenant_id}


def _privileges(context: dict[str, Any] | None) -> list[str]:
    """The privileges the user holds afterwards, as the producer's context states them.

    ``new_permissions``/``permissions`` (lists of strings), else ``new_role``/``role``;
    an empty list when the context says neither.
    """
    if not context:
        return []
    for key in ("new_permissions", "permissions"):
        value = context.get(key)
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return list(value)
    for key in ("new_role", "role"):
        value = context.get(key)
        if isinstance(value, str):
            return [value]
    return []


# -- the documented table --------------------------------------------------------


def _row(action: str, category: str, kind: Kind | str) -> str:
    mapping = mapping_for(action, category, kind)
    return (
        f"| `{action}` | {kind} | {mapping.class_name} ({mapping.class_uid})"
        f" | {mapping.activity_name} ({mapping.activity_id}) |"
    )


def mapping_markdown(catalog: Catalog | None = None) -> str:
    """The OCSF mapping of every catalog type, as the Markdown table in docs/streams.md."""
    catalog = catalog or Catalog.builtin()
    lines = ["| action | kind | OCSF class | activity |", "|---|---|---|---|"]
    for _slug, _label, types in catalog.categories():
        lines += [_row(t.name, t.category, t.kind) for t in types]
    return "\n".join(lines) + "\n"
