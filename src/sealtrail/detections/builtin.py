"""The built-in rules: on for every tenant, each tunable (``PATCH /v1/detections/NAME``).

Events are selected by the catalog's categories and kinds (``catalog.toml``), not by
lists of actions, so a product's own registered types fall under the rule of their
category. docs/detections.md describes each rule; a test keeps the two in step.
"""

from __future__ import annotations

from typing import Final

from sealtrail.detections.rules import FirstSeen, Rule, Threshold

__all__ = ["BUILTIN_RULES", "builtin_rule"]

_SIGN_INS: Final = "category:auth kind:access"
_ADMIN: Final = "category:members category:api_keys category:organization"

BUILTIN_RULES: Final[tuple[Rule, ...]] = (
    Rule(
        name="failed-logins-per-actor",
        title="Failed sign-ins for one account",
        phrase=f"{_SIGN_INS} outcome:failure",
        condition=Threshold(10, 5 * 60, ("actor",)),
        severity="high",
        builtin=True,
    ),
    Rule(
        name="failed-logins-per-ip",
        title="Failed sign-ins from one IP address",
        phrase=f"{_SIGN_INS} outcome:failure",
        condition=Threshold(10, 5 * 60, ("ip",)),
        severity="high",
        builtin=True,
    ),
    Rule(
        name="login-from-new-ip",
        title="Sign-in from an IP address never seen for this user",
        phrase=f"{_SIGN_INS} outcome:success",
        condition=FirstSeen(("actor", "ip")),
        severity="medium",
        builtin=True,
    ),
    Rule(
        name="admin-change-after-hours",
        title="Administrative change outside business hours",
        phrase=f"{_ADMIN} outcome:success",
        condition=Threshold(1, 3600, ("actor",)),
        hours="outside",
        severity="medium",
        builtin=True,
    ),
    Rule(
        name="mass-deletion",
        title="Many deletions by one actor",
        phrase="kind:delete outcome:success",
        condition=Threshold(20, 10 * 60, ("actor",)),
        severity="high",
        builtin=True,
    ),
    Rule(
        name="role-escalation",
        title="Someone was made an admin or owner",
        phrase="category:members kind:update outcome:success",
        condition=Threshold(1, 3600, ("actor",)),
        context=(("new_role", ("admin", "owner")), ("role", ("admin", "owner"))),
        severity="high",
        builtin=True,
    ),
    Rule(
        name="api-key-by-new-actor",
        title="API key created by someone who never created one",
        phrase="category:api_keys kind:create outcome:success",
        condition=FirstSeen(("actor",)),
        severity="medium",
        builtin=True,
    ),
    Rule(
        name="settings-by-new-actor",
        title="Organization settings changed by someone who never changed them",
        phrase="category:organization kind:update outcome:success",
        condition=FirstSeen(("actor",)),
        severity="medium",
        builtin=True,
    ),
    Rule(
        name="export-by-new-actor",
        title="Audit log exported by someone who never exported it",
        phrase="action:audit_log.exported",
        condition=FirstSeen(("actor",)),
        severity="medium",
        builtin=True,
    ),
)


def builtin_rule(name: str) -> Rule | None:
    return next((rule for rule in BUILTIN_RULES if rule.name == name), None)
