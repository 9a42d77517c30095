"""Every HTTP route of an app, including those of included routers.

FastAPI (0.165 and later) keeps an included router as one ``_IncludedRouter`` entry of
``app.routes``; its routes sit in ``original_router.routes`` under the include's prefix.
Tests that walk "every route" must walk those too, or they silently check nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any


def every_route(routes: Iterable[Any], prefix: str = "") -> Iterator[tuple[str, frozenset[str]]]:
    """``(path, methods)`` of each route; a mount yields its path with no methods."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            context = getattr(route, "include_context", None)
            yield from every_route(included.routes, prefix + getattr(context, "prefix", ""))
            continue
        path = getattr(route, "path", None)
        if path is not None:
            yield prefix + path, frozenset(getattr(route, "methods", None) or ())
