from __future__ import annotations

from pathlib import Path

import pytest

from .vectors import VECTORS_DIR


@pytest.fixture(scope="session")
def vectors_dir() -> Path:
    """The shared vectors; their absence is a failure, never a skip."""
    if not (VECTORS_DIR / "README.md").is_file():
        pytest.fail(f"test vectors not found at {VECTORS_DIR} (expected ../shared/vectors)")
    return VECTORS_DIR
