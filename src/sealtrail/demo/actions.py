"""How each kind of event looks when somebody at the demo organisation causes it.

``Actions.act`` writes any catalog action: who may do it, in which account, about
which resource and target, with what context. Actions with a story of their own
(an app's versions, a setting's previous and new values, a job's run) have their
own builder; the rest follow their catalog entry and the resource's lifecycle
(created things are new, deleted things are never seen again).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from sealtrail.catalog import Catalog
from sealtrail.demo.cast import DEVELOPER, MEMBER, PRODUCTION, STAGING, TENANT_ID, VIEWER
from sealtrail.demo.habits import (
    ACCOUNT_ROLES,
    ACTIONS,
    API_SCOPES,
    AUDIT_PHRASES,
    BORN,
    DB_TABLES,
    DIES,
    GROUPS,
    JOB_ERRORS,
    JOBS,
    KEEPS,
    PERMISSIONS,
    SETTING_ACTIONS,
    SETTINGS,
    SETTINGS_RESOURCES,
    account_scoped,
)
from sealtrail.demo.inventory import Item, new_id, token
from sealtrail.demo.world import MINUTE, SECOND, Who, World
from sealtrail.detections.builtin import builtin_rule
from sealtrail.events import Resource, Target

_AFTER_HOURS = builtin_rule("admin-change-after-hours")
assert _AFTER_HOURS is not None
ADMIN_CATEGORIES = frozenset(
    term.removeprefix("category:")
    for term in _AFTER_HOURS.phrase.split()
    if term.startswith("category:")
)
"""The categories of admin changes, as the built-in rule names them."""

Builder = Callable[[str, int, Who, str | None], int]


class Actions:
    """Writes catalog actions into the world's timeline."""

    def __init__(self, world: World, catalog: Catalog) -> None:
        self.world = world
        self.rng: random.Random = world.rng
        self.catalog = catalog
        self._settings: dict[tuple[str, str], dict[str, Any]] = {}
        self._account_roles: dict[tuple[str, str], str] = {}
        self._builders: dict[str, Builder] = {
            "app.published": self._publish,
            "app.rolled_back": self._roll_back,
            "app.version_restored": self._restore,
            "app.unpublished": self._unpublish,
            "app.duplicated": self._duplicate,
            "app.moved": self._move,
            "db.create": self.db_write,
            "db.update": self.db_write,
            "db.delete": self.db_write,
            "message.send": self.message,
            "message.deleted": self.message,
            "job.created": self._job,
            "job.started": self._job,
            "job.completed": self._job,
            "job.failed": self._job,
            "job.cancelled": self._cancel_job,
            "member.role_updated": self._account_role,
            "audit_log.viewed": self._audit_read,
            "audit_log.exported": self._audit_read,
            "user.updated": self._profile,
            "auth.password_changed": self._self_only,
            "account.created": self._account,
            "account.updated": self._account,
            "account.deleted": self._account,
            "settings.updated": self._settings_resource,
        }

    # -- choosing who and where ------------------------------------------------
    def is_admin_change(self, action: str) -> bool:
        """Whether the admin-change-after-hours rule counts ``action`` (by its category)."""
        return self.catalog.classify(action).category in ADMIN_CATEGORIES

    def pool(self, action: str) -> str:
        return ACTIONS.get(action, ("admin", 0.0, 0.0))[0]

    def account_for(self, who: Who) -> str:
        person = who.person
        if person is not None:
            if len(person.accounts) == 1:
                return person.accounts[0]
            return PRODUCTION if self.rng.random() < 0.68 else STAGING
        return PRODUCTION if self.rng.random() < 0.7 else STAGING

    def colleague(self, at: int, who: Who) -> Target | None:
        person = self.world.pick(at, GROUPS["anyone"], besides=who.person)
        return None if person is None else person.target(at)

    # -- any action -----------------------------------------------------------------
    def act(self, action: str, at: int, who: Who, account: str | None = None) -> int:
        if account is None and account_scoped(action):
            account = self.account_for(who)
        builder = self._builders.get(action)
        if builder is not None:
            return builder(action, at, who, account)
        setting = SETTING_ACTIONS.get(action)
        if setting is not None:
            return self.world.emit(at, action, who, context=self._change(setting, "org"))
        event_type = self.catalog.classify(action)
        item = self._item(action, event_type.resource_type, account, at)
        target = self.colleague(at, who) if event_type.expects_target else None
        if event_type.expects_target and target is None:
            return 0
        context = self._context(action, item, at)
        return self.world.emit(
            at,
            action,
            who,
            account=account,
            target=target,
            resource=None if item is None else item.resource,
            context=context,
        )

    def _item(self, action: str, kind: str | None, account: str | None, at: int) -> Item | None:
        if kind is None:
            return None
        items = self.world.items
        verb = action.rpartition(".")[2]
        if action in KEEPS:
            return items.use(kind, account, at)
        if verb in BORN or action in BORN:
            return items.create(kind, account, at)
        if verb in DIES or action in DIES:
            return items.retire(kind, account, at)
        return items.use(kind, account, at)

    def _context(self, action: str, item: Item | None, at: int) -> dict[str, Any] | None:
        rng = self.rng
        prefix, _, verb = action.partition(".")
        if prefix == "api_key":
            return self._api_key_context(verb)
        if action == "app.settings_updated" and item is not None:
            return self._change("app", item.resource.id)
        if action == "channel.configured" and item is not None:
            return {"channel": item.resource.name, **self._change("channel", item.resource.id)}
        if action == "app.updated":
            fields = ("system_prompt", "instructions", "tools", "starter_questions", "avatar")
            return {"changed": sorted(rng.sample(fields, rng.randint(1, 2)))}
        if action in ("oauth.connected", "integration.connected"):
            return {"scopes": rng.sample(["read", "write", "files.read", "users.read"], 2)}
        if action in ("oauth.disconnected", "integration.disconnected"):
            reasons = ("no longer used", "token expired", "replaced by a new connection")
            return {"reason": rng.choice(reasons)}
        if action in ("knowledge_source.linked", "knowledge_source.unlinked"):
            account = None if item is None else item.account_id
            app = self.world.items.use("app", account, at)
            return {"app_id": app.resource.id, "app_name": app.resource.name}
        if action == "knowledge_source.created":
            return {
                "source_kind": rng.choice(("file", "url", "connector")),
                "documents": rng.randint(1, 400),
            }
        if action == "phone_number.purchased":
            return {"capabilities": ["voice", "sms"], "monthly_price": "1.15", "currency": "EUR"}
        if verb == "verified":
            return {
                "method": "DNS TXT record",
                "checks": ["spf", "dkim"] if prefix == "sender_domain" else ["txt"],
            }
        if action == "role.updated":
            before = sorted(rng.sample(PERMISSIONS, 2))
            after = sorted(set(before) | {rng.choice(PERMISSIONS)})
            return {"previous_permissions": before, "new_permissions": after}
        if action == "role.created":
            return {"permissions": sorted(rng.sample(PERMISSIONS, 3))}
        if action in ("workspace.member_permissions_updated", "workspace.permissions_updated"):
            before = sorted(rng.sample(PERMISSIONS[:4], 1))
            after = sorted(set(before) | set(rng.sample(PERMISSIONS[:4], 2)))
            return {"previous_permissions": before, "new_permissions": after}
        if action == "consumer_package.updated":
            price = rng.choice((9, 19, 49, 99))
            return {
                "previous": {"price_eur": price},
                "new": {"price_eur": price + rng.choice((1, 5, 10))},
            }
        if action == "billing.top_up_purchased":
            credits = rng.choice((5000, 10000, 25000))
            return {
                "credits": credits,
                "amount": f"{credits / 100:.2f}",
                "currency": "EUR",
                "automatic": False,
            }
        if action in ("auth.session_revoked", "auth.mfa_reset"):
            return {
                "reason": rng.choice(("lost device", "requested by the user", "security review"))
            }
        if action == "voice_clone.created":
            return {"language": rng.choice(("en-GB", "en-US", "de-DE")), "consent_recorded": True}
        if action == "license.expired":
            return {"expired_on": "end of term", "seats": rng.choice((10, 25, 50))}
        if action in ("license.activated", "license.renewed"):
            return {"seats": rng.choice((10, 25, 50)), "term_months": 12}
        return None

    def _api_key_context(self, verb: str) -> dict[str, Any] | None:
        rng = self.rng
        if verb in ("create", "created"):
            scopes = sorted(rng.sample(API_SCOPES, rng.randint(1, 3)))
            return {"scopes": scopes, "expires_in_days": rng.choice((30, 90, 365))}
        if verb == "rotated":
            return {
                "previous_key_suffix": f"…{token(rng, 4)}",
                "new_key_suffix": f"…{token(rng, 4)}",
            }
        if verb == "updated":
            before = sorted(rng.sample(API_SCOPES, 2))
            return {
                "previous_scopes": before,
                "new_scopes": sorted({*before, rng.choice(API_SCOPES)}),
            }
        if verb == "deactivated":
            reasons = ("unused for 60 days", "replaced after rotation", "integration retired")
            return {"reason": rng.choice(reasons)}
        return None

    def _change(self, group: str, scope: str) -> dict[str, Any]:
        """``{"previous": {...}, "new": {...}}`` for one or two settings of a group."""
        options = SETTINGS[group]
        current = self._settings.setdefault(
            (group, scope), {k: self.rng.choice(v) for k, v in options.items()}
        )
        keys = self.rng.sample(sorted(options), 1 if self.rng.random() < 0.75 else 2)
        previous, new = {}, {}
        for key in keys:
            choices = [v for v in options[key] if v != current[key]]
            previous[key], new[key] = current[key], self.rng.choice(choices)
            current[key] = new[key]
        return {"previous": previous, "new": new}

    # -- builders with a story of their own -----------------------------------------
    def _publish(self, action: str, at: int, who: Who, account: str | None) -> int:
        app = self.world.items.use("app", account, at)
        previous, app.version = app.live, app.version + 1
        app.live = app.version
        context = {
            "version": app.version,
            "previous_version": previous,
            "commit": f"{self.rng.getrandbits(28):07x}",
        }
        count = self.world.emit(
            at, "app.published", who, account=account, resource=app.resource, context=context
        )
        if self.rng.random() < 0.06:  # a bad release, rolled back by someone on call
            later = at + self.rng.randint(8, 55) * MINUTE
            fixer = self.world.pick(later, GROUPS["dev"])
            if fixer is not None:
                count += self._roll_back_app(later, self.world.as_who(fixer, later), account, app)
        return count

    def _roll_back(self, action: str, at: int, who: Who, account: str | None) -> int:
        app = self.world.items.use("app", account, at)
        return self._roll_back_app(at, who, account, app)

    def _roll_back_app(self, at: int, who: Who, account: str | None, app: Item) -> int:
        if app.live < 2:
            app.version += 1
            app.live = app.version
        app.last_used = max(app.last_used, at)
        previous, app.live = app.live, app.live - 1
        reasons = (
            "error rate above 5 % after release",
            "answers quoting the wrong price list",
            "latency regression",
            "customer escalation",
        )
        context = {
            "previous_version": previous,
            "new_version": app.live,
            "reason": self.rng.choice(reasons),
        }
        return self.world.emit(
            at,
            "app.rolled_back",
            who,
            account=account,
            resource=app.resource,
            context=context,
            description=f"{who.actor.name or 'Someone'} rolled back {app.resource.name}"
            f" to version {app.live}: {context['reason']}",
        )

    def _restore(self, action: str, at: int, who: Who, account: str | None) -> int:
        app = self.world.items.use("app", account, at)
        for _ in range(3):  # an app with a few versions to go back to
            if app.live >= 3:
                break
            app = self.world.items.use("app", account, at)
        restored = self.rng.randint(max(1, app.live - 5), max(1, app.live - 1))
        previous, app.version = app.live, app.version + 1
        app.live = app.version
        context = {
            "previous_version": previous,
            "new_version": app.version,
            "restored_from": restored,
        }
        return self.world.emit(
            at, "app.version_restored", who, account=account, resource=app.resource, context=context
        )

    def _unpublish(self, action: str, at: int, who: Who, account: str | None) -> int:
        app = self.world.items.use("app", account, at)
        return self.world.emit(
            at,
            "app.unpublished",
            who,
            account=account,
            resource=app.resource,
            context={"version": app.live},
        )

    def _duplicate(self, action: str, at: int, who: Who, account: str | None) -> int:
        source = self.world.items.use("app", account, at)
        copy = self.world.items.create("app", account, at, f"{source.resource.name} (copy)")
        context = {"source_app_id": source.resource.id, "source_app_name": source.resource.name}
        return self.world.emit(
            at, "app.duplicated", who, account=account, resource=copy.resource, context=context
        )

    def _move(self, action: str, at: int, who: Who, account: str | None) -> int:
        app = self.world.items.use("app", account, at)
        here = there = self.world.items.use("workspace", account, at)
        for _ in range(5):
            if there is not here:
                break
            there = self.world.items.use("workspace", account, at)
        else:
            return 0
        context = {"previous_workspace": here.resource.name, "new_workspace": there.resource.name}
        return self.world.emit(
            at, "app.moved", who, account=account, resource=app.resource, context=context
        )

    def db_write(self, action: str, at: int, who: Who, account: str | None) -> int:
        kind, prefix = self.rng.choice(DB_TABLES)
        resource = Resource(kind, f"{prefix}_{token(self.rng, 12)}")
        context: dict[str, Any] = {"table": f"{kind}s"}
        if action == "db.update":
            fields = ("status", "owner_id", "email", "tags", "priority", "notes")
            context["fields"] = sorted(self.rng.sample(fields, self.rng.randint(1, 3)))
        return self.world.emit(at, action, who, account=account, resource=resource, context=context)

    def message(self, action: str, at: int, who: Who, account: str | None) -> int:
        rng = self.rng
        resource = Resource("message", new_id(rng, "message"))
        if action == "message.deleted":
            context: dict[str, Any] = {
                "reason": rng.choice(("sent by mistake", "contained personal data"))
            }
            return self.world.emit(
                at, "message.deleted", who, account=account, resource=resource, context=context
            )
        channel = rng.choices(("whatsapp", "email", "sms", "slack"), (5, 3, 2, 1))[0]
        recipient = (
            f"customer.{rng.randint(1000, 9999)}@example.com"
            if channel == "email"
            else f"#support-{rng.randint(1, 40)}"
            if channel == "slack"
            else f"+44 7700 900{rng.randint(0, 999):03d}"
        )
        templates = ("order_update", "appointment_reminder", "ticket_reply", "payment_receipt")
        context = {"channel": channel, "to": recipient, "template": rng.choice(templates)}
        return self.world.emit(
            at, "message.send", who, account=account, resource=resource, context=context
        )

    def _job(self, action: str, at: int, who: Who, account: str | None) -> int:
        if action != "job.created":  # the platform's part of a run someone started
            who = self.world.bot(self.world.robots.scheduler)
        trigger = "manual" if who.person else "schedule"
        return self.run_job(at, who, account, trigger=trigger, fails=action == "job.failed")

    def run_job(
        self, at: int, who: Who, account: str | None, *, trigger: str, fails: bool | None = None
    ) -> int:
        """A job's life: created, started by a worker, then completed or (now and then) failed."""
        rng, world = self.rng, self.world
        kind, name, _, seconds = rng.choices(JOBS, [j[2] for j in JOBS])[0]
        job = Resource("job", new_id(rng, "job"), name)
        system = world.bot(world.robots.system)
        count = world.emit(
            at,
            "job.created",
            who,
            account=account,
            resource=job,
            context={"job_type": kind, "trigger": trigger},
        )
        started = at + rng.randint(1, 90) * SECOND
        worker = f"worker-{rng.randint(1, 6)}"
        count += world.emit(
            started,
            "job.started",
            system,
            account=account,
            resource=job,
            context={"worker": worker},
        )
        took = int(seconds * rng.lognormvariate(0, 0.5) * SECOND)
        if rng.random() < 0.06 if fails is None else fails:
            context: dict[str, Any] = {
                "error": rng.choice(JOB_ERRORS),
                "attempt": 1,
                "duration_ms": took // 3 // 1000,
            }
            return count + world.emit(
                started + took // 3,
                "job.failed",
                system,
                account=account,
                resource=job,
                context=context,
                outcome="failure",
                description=f"{name} failed: {context['error']}",
            )
        context = {"duration_ms": took // 1000, "records": rng.randint(10, 50_000)}
        return count + world.emit(
            started + took, "job.completed", system, account=account, resource=job, context=context
        )

    def _cancel_job(self, action: str, at: int, who: Who, account: str | None) -> int:
        kind, name, _, _ = self.rng.choice(JOBS)
        job = Resource("job", new_id(self.rng, "job"), name)
        context = {"job_type": kind, "reason": self.rng.choice(("stuck", "started by mistake"))}
        return self.world.emit(
            at, "job.cancelled", who, account=account, resource=job, context=context
        )

    def _account_role(self, action: str, at: int, who: Who, account: str | None) -> int:
        person = self.world.pick(at, {DEVELOPER, MEMBER, VIEWER}, besides=who.person)
        if person is None or account is None:
            return 0
        key = (person.id, account)
        previous = self._account_roles.get(key) or self.rng.choice(("viewer", "editor", "editor"))
        new = self.rng.choice([r for r in ACCOUNT_ROLES if r != previous])
        self._account_roles[key] = new
        return self.world.emit(
            at,
            "member.role_updated",
            who,
            account=account,
            target=person.target(at),
            context={"previous_role": previous, "new_role": new},
        )

    def _audit_read(self, action: str, at: int, who: Who, account: str | None) -> int:
        return self.audit_read(at, who, exported=action == "audit_log.exported")

    def audit_read(self, at: int, who: Who, *, exported: bool, phrase: str | None = None) -> int:
        phrase = self.rng.choice(AUDIT_PHRASES) if phrase is None else phrase
        resource = Resource("audit_log", TENANT_ID)
        if exported:
            context: dict[str, Any] = {
                "format": self.rng.choice(("csv", "csv", "ndjson")),
                "phrase": phrase,
            }
            return self.world.emit(
                at, "audit_log.exported", who, resource=resource, context=context
            )
        context = {"phrase": phrase, "offset": 0, "results": 50}
        return self.world.emit(at, "audit_log.viewed", who, resource=resource, context=context)

    def _profile(self, action: str, at: int, who: Who, account: str | None) -> int:
        person = who.person
        if person is None:
            return 0
        titles = ("Support Engineer", "Senior Support Engineer", "Product Manager", "Team Lead")
        before, after = self.rng.sample(titles, 2)
        return self.world.emit(
            at,
            "user.updated",
            who,
            target=person.target(at),
            resource=Resource("user", person.id, person.name),
            context={"previous": {"job_title": before}, "new": {"job_title": after}},
        )

    def _self_only(self, action: str, at: int, who: Who, account: str | None) -> int:
        return 0 if who.person is None else self.world.emit(at, "auth.password_changed", who)

    def _account(self, action: str, at: int, who: Who, account: str | None) -> int:
        """Accounts are the organisation's business: these events belong to no account."""
        items, verb = self.world.items, action.partition(".")[2]
        if verb == "updated":
            account_id, name = self.rng.choice(((PRODUCTION, "Production"), (STAGING, "Staging")))
            resource = Resource("account", account_id, name)
            context: dict[str, Any] | None = self._change("localization", account_id)
        elif verb == "created":
            resource = items.create("account", None, at).resource
            context = {"region": self.rng.choice(("eu-west-1", "eu-central-1"))}
        else:
            resource = items.retire("account", None, at).resource
            context = {"reason": "no longer needed"}
        return self.world.emit(at, action, who, resource=resource, context=context)

    def _settings_resource(self, action: str, at: int, who: Who, account: str | None) -> int:
        section = self.rng.choice(SETTINGS_RESOURCES)
        label = section.replace("_", " ").capitalize().replace("Rpa", "RPA")
        resource = Resource("settings", section, f"{label} settings")
        context = self._change(section, account or "org")
        return self.world.emit(
            at, "settings.updated", who, account=account, resource=resource, context=context
        )
