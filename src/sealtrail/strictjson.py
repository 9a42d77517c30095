"""Strict JSON at the door.

An audit log must store exactly what it was sent, so anything a JSON parser
would have to guess about is refused: NaN and Infinity, numbers that overflow to
infinity, duplicate keys (which value did the sender mean?), lone UTF-16
surrogates (they cannot be stored as UTF-8), invalid UTF-8, and nesting deeper
than ``MAX_DEPTH``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sealtrail.errors import MalformedBody
from sealtrail.limits import MAX_JSON_DEPTH

MAX_DEPTH = MAX_JSON_DEPTH

# A \uD800-\uDFFF escape; only bodies that contain one pay for the pairing check.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def _refuse_constant(name: str) -> Any:
    raise MalformedBody(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise MalformedBody(f"number {text[:40]} is out of range")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedBody(f"duplicate key {key!r}")
            seen.add(key)
    return obj


_DECODER = json.JSONDecoder(
    object_pairs_hook=_unique_keys,
    parse_constant=_refuse_constant,
    parse_float=_finite_float,
)


def _check_depth_and_surrogates(value: Any, check_surrogates: bool) -> None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            if depth > MAX_DEPTH:
                raise MalformedBody(f"JSON nesting is deeper than {MAX_DEPTH}")
            for key, child in item.items():
                if check_surrogates:
                    _check_string(key)
                stack.append((child, depth + 1))
        elif isinstance(item, list):
            if depth > MAX_DEPTH:
                raise MalformedBody(f"JSON nesting is deeper than {MAX_DEPTH}")
            stack.extend((child, depth + 1) for child in item)
        elif check_surrogates and isinstance(item, str):
            _check_string(item)


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedBody("string holds a lone surrogate") from exc


def loads(data: bytes | str) -> Any:
    """Parse one strict JSON document, raising MalformedBody with the reason."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise MalformedBody(f"body is not valid UTF-8 at byte {exc.start}") from exc
        raw = data
    else:
        text = data
        raw = data.encode("utf-8", "surrogatepass")
    if text.startswith("\ufeff"):
        raise MalformedBody("a byte order mark is not valid JSON")
    try:
        value, end = _DECODER.raw_decode(text, _skip_ws(text, 0))
    except json.JSONDecodeError as exc:
        raise MalformedBody(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from exc
    except RecursionError as exc:
        raise MalformedBody(f"JSON nesting is deeper than {MAX_DEPTH}") from exc
    if _skip_ws(text, end) != len(text):
        raise MalformedBody("extra data after the JSON document")
    _check_depth_and_surrogates(value, _SURROGATE_ESCAPE.search(raw) is not None)
    return value


def _skip_ws(text: str, pos: int) -> int:
    length = len(text)
    while pos < length and text[pos] in " \t\n\r":
        pos += 1
    return pos
