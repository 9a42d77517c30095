"""The receiver example in docs/streams.md, loaded as code so the tests can run it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "streams.md"


def receiver_example(**settings: Any) -> dict[str, Any]:
    """Execute the documented receiver with ``settings`` replacing its constants."""
    match = re.search(r"<!-- example: receiver -->\n```python\n(.*?)\n```", DOC.read_text(), re.S)
    assert match is not None, "docs/streams.md lost its receiver example"
    namespace: dict[str, Any] = {"__name__": "streams_receiver_example"}
    exec(compile(match.group(1), str(DOC), "exec"), namespace)
    for name, value in settings.items():
        assert name in namespace, name
        namespace[name] = value
    return namespace
