"""The package's public surface is what ``__all__`` says, and nothing dangles."""

from __future__ import annotations

import sealtrail.ledger as ledger
from sealtrail.ledger import checkpoint, leaf, merkle, note, tree


def test_all_names_resolve_and_are_unique() -> None:
    assert len(set(ledger.__all__)) == len(ledger.__all__)
    for name in ledger.__all__:
        assert getattr(ledger, name) is not None, name


def test_every_public_function_and_class_is_exported() -> None:
    for module in (checkpoint, leaf, merkle, note, tree):
        for name, value in vars(module).items():
            if name.startswith("_") or getattr(value, "__module__", None) != module.__name__:
                continue
            assert name in ledger.__all__, f"{module.__name__}.{name}"
