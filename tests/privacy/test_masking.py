"""Masking at ingest: what a pattern matches, card numbers, nested context, and the log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sealtrail.audit_log import AuditLog
from sealtrail.auth import Principal
from sealtrail.errors import InvalidInput, NotFound
from sealtrail.limits import DEFAULT_MASK_KEYS, MASKED
from sealtrail.masking import Masker, is_card_number, parse_patterns
from sealtrail.settings import Settings

from . import independent

DEFAULTS = Masker(DEFAULT_MASK_KEYS)


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "Password",
        "passwd",
        "client_secret",
        "refresh_token",
        "apiKey",
        "X-Api-Key",
        "stripe.api_key",
        "Authorization",
        "set-cookie",
        "privateKey",
    ],
)
def test_default_patterns_mask_these_keys(key: str) -> None:
    assert DEFAULTS.mask({key: "s3cr3t", "kept": "x"}) == {key: MASKED, "kept": "x"}


@pytest.mark.parametrize("key", ["user", "role", "email", "api", "key", "previous_role"])
def test_default_patterns_keep_these_keys(key: str) -> None:
    context = {key: "value"}
    assert DEFAULTS.mask(context) is context


def test_nested_objects_and_lists_are_masked_and_keys_kept() -> None:
    context: dict[str, Any] = {
        "changes": [
            {"field": "password", "old": "a", "new": "b"},
            {"credentials": {"token": {"value": "t", "ttl": 5}, "user": "ann"}},
        ],
        "secrets": ["one", "two"],
        "depth": {"a": {"b": {"c": {"cookie": "c=1"}}}},
    }
    assert DEFAULTS.mask(context) == {
        "changes": [
            {"field": "password", "old": "a", "new": "b"},  # a value "password" is not a key
            {"credentials": {"token": MASKED, "user": "ann"}},
        ],
        "secrets": MASKED,  # a matched key masks its whole value
        "depth": {"a": {"b": {"c": {"cookie": MASKED}}}},
    }
    assert context["secrets"] == ["one", "two"]  # the caller's object is left alone


def test_globs_match_the_whole_key() -> None:
    masker = Masker(("pin*",))
    assert masker.mask({"pin": 1, "pin_code": 2, "shipping": 3}) == {
        "pin": MASKED,
        "pin_code": MASKED,
        "shipping": 3,
    }
    assert Masker(("pin",)).mask({"shipping": 3}) == {"shipping": MASKED}


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "card 5555555555554444 on file",
        "378282246310005",
        "6011111111111117",
        "3530111333300000",
        "2223003122003222",
    ],
)
def test_card_numbers_are_found(text: str) -> None:
    assert is_card_number(text)
    assert DEFAULTS.mask({"note": text}) == {"note": MASKED}


@pytest.mark.parametrize(
    "text",
    [
        "4111 1111 1111 1112",
        "1772323200000000",
        "123456789012",
        "order 4111111111111",
        "99999999999999999999999",
        "no digits",
    ],
)
def test_other_numbers_are_kept(text: str) -> None:
    assert not is_card_number(text)
    assert DEFAULTS.mask({"note": text}) == {"note": text}


def test_integers_and_switching_cards_off() -> None:
    assert DEFAULTS.mask({"n": 4111111111111111, "t": 1772323200000000}) == {
        "n": MASKED,
        "t": 1772323200000000,
    }
    assert Masker((), cards=False).mask({"n": 4111111111111111}) == {"n": 4111111111111111}


def test_patterns_parse() -> None:
    assert parse_patterns(" pin , ,token,pin") == ("pin", "token")
    assert parse_patterns(["a_b"]) == ("a_b",)
    for bad in ("x" * 65, "__"):
        with pytest.raises(InvalidInput):
            parse_patterns(bad)


@pytest.fixture
def log(tmp_path: Path) -> AuditLog:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'mask.db'}",
        signing_key_file=str(tmp_path / "key"),
        mask_context_keys="password,session_id",
    )
    audit_log = AuditLog.open(settings=settings)
    audit_log.migrate()
    audit_log.create_tenant("acme")
    audit_log.create_tenant("globex")
    return audit_log


def _record(log: AuditLog, tenant: str, context: dict[str, Any]) -> dict[str, Any]:
    operator = Principal.operator(tenant)
    receipt = log.ingest(
        operator,
        {"action": "user.updated", "actor": {"type": "user", "id": "u1"}, "context": context},
    )[0]
    return log.event_with_proof(operator, receipt.id, include_salts=True)


def test_the_log_stores_and_hashes_only_the_masked_context(log: AuditLog) -> None:
    shown = _record(
        log,
        "acme",
        {
            "session_id": "abc",
            "profile": {"password": "hunter2"},
            "token": "not a global pattern here",
            "card": "4111111111111111",
        },
    )
    assert shown["context"] == {
        "session_id": MASKED,
        "profile": {"password": MASKED},
        "token": "not a global pattern here",
        "card": MASKED,
    }
    leaf = independent.leaf_hash({k: v for k, v in shown.items() if k != "proof"})
    assert independent.b64(leaf) == shown["proof"]["leaf_hash"]  # the leaf commits to the mask
    assert log.verify_database(log.verifier_key).ok


def test_a_tenant_adds_its_own_patterns(log: AuditLog) -> None:
    tenant = log.set_mask_keys("acme", ["token", "ssn*"])
    assert tenant.mask_keys == ("token", "ssn*")
    assert log.mask_keys("acme") == (("password", "session_id"), ("token", "ssn*"))
    context = {"token": "t", "ssn_last4": "1234", "password": "p", "note": "n"}
    assert _record(log, "acme", context)["context"] == {
        "token": MASKED,
        "ssn_last4": MASKED,
        "password": MASKED,
        "note": "n",
    }
    assert _record(log, "globex", context)["context"] == {  # another tenant: only the global
        "token": "t",
        "ssn_last4": "1234",
        "password": MASKED,
        "note": "n",
    }
    log.set_mask_keys("acme", [])
    assert _record(log, "acme", context)["context"]["token"] == "t"
    with pytest.raises(NotFound):
        log.set_mask_keys("nobody", ["x"])
