"""Where the shared public test vectors live: ``/work/shared`` beside the checkout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS_DIR = (Path(__file__).resolve().parents[2] / ".." / "shared" / "vectors").resolve()


def load_json(relative: str) -> Any:
    return json.loads((VECTORS_DIR / relative).read_text(encoding="utf-8"))


def relative_files(folder: str, pattern: str = "**/*.json") -> list[str]:
    """Vector files under ``folder`` as paths relative to the vectors dir, sorted."""
    root = VECTORS_DIR / folder
    return sorted(str(p.relative_to(VECTORS_DIR)) for p in root.glob(pattern))
