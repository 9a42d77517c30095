"""The Jinja2 environment: autoescaping everywhere, strict undefined, fingerprinted assets."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from pathlib import Path
from typing import Any, Final

import jinja2
from markupsafe import Markup, escape
from starlette.responses import HTMLResponse

from sealtrail.limits import COUNT_CAP

HERE: Final = Path(__file__).resolve().parent
STATIC_DIR: Final = HERE / "static"
STATIC_PATH: Final = "/ui/static"


@cache
def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """``/ui/static/viewer.css?v=<hash>``: safe to cache, changes when the file does."""
    return f"{STATIC_PATH}/{name}?v={_fingerprint(name)}"


def _number(value: int) -> str:
    return f"{value:,}"


_BREAK_AFTER: Final = re.compile(r"(?<=[._/])")


LONG: Final = 24


def _breakable(value: str) -> Markup:
    """``value`` escaped; when longer than ``LONG``, with a line-break opportunity after
    each ``.``, ``_`` and ``/`` (so a long action name wraps instead of widening its column).
    """
    if len(value) <= LONG:
        return escape(value)
    return Markup("<wbr>").join(escape(part) for part in _BREAK_AFTER.split(value))


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    env.globals["count_cap"] = COUNT_CAP  # totals past it are not counted
    env.filters["number"] = _number
    env.filters["breakable"] = _breakable
    return env


def render(
    name: str, status: int = 200, headers: dict[str, str] | None = None, **context: Any
) -> HTMLResponse:
    html = environment().get_template(name).render(**context)
    return HTMLResponse(html, status, headers={"Cache-Control": "no-store", **(headers or {})})
