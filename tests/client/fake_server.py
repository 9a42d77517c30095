"""A fake Sealtrail server for SDK tests: an httpx handler with a script of answers."""

from __future__ import annotations

import threading
from collections import deque
from random import Random
from typing import Any

import httpx
import orjson

Answer = int | httpx.Response | Exception


class FakeServer:
    """Answers ``POST /v1/events`` from a script (then 201) and remembers every request.

    ``requests`` holds each request's list of events; ``stored`` the ids of events
    in requests answered 2xx. An ``Exception`` in the script is raised as if the
    network failed. ``gate``, when set, makes every request wait until it opens.
    """

    def __init__(self, *answers: Answer) -> None:
        self.script: deque[Answer] = deque(answers)
        self.requests: list[list[dict[str, Any]]] = []
        self.headers: list[httpx.Headers] = []
        self.stored: list[str] = []
        self.entered = threading.Event()
        self.gate: threading.Event | None = None
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        events: list[dict[str, Any]] = orjson.loads(request.content)["events"]
        with self._lock:
            self.requests.append(events)
            self.headers.append(request.headers)
            answer: Answer = self.script.popleft() if self.script else 201
        self.entered.set()
        if self.gate is not None:
            self.gate.wait(30)
        if isinstance(answer, Exception):
            raise answer
        response = answer if isinstance(answer, httpx.Response) else httpx.Response(answer)
        if response.is_success:
            with self._lock:
                self.stored.extend(event["id"] for event in events)
        return response

    @property
    def sent_ids(self) -> list[str]:
        return [event["id"] for batch in self.requests for event in batch]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)


def event(n: int = 0) -> dict[str, Any]:
    """Keyword arguments for one valid ``record()`` call."""
    return {"action": "member.invited", "actor": "user:u_1", "target": f"user:u_{n}"}


class HighestDraw(Random):
    """A Random whose ``uniform(a, b)`` is always ``b``: a backoff shows its upper bound."""

    def uniform(self, a: float, b: float) -> float:
        return b
