"""The routes that take a fixed few query parameters refuse any other, naming it."""

from __future__ import annotations

import pytest

from .conftest import Api, event


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/proofs/inclusion", {"seq": "0", "sizee": "1"}),
        ("/v1/proofs/consistency", {"first": "0", "secnd": "1"}),
        ("/v1/events/e1", {"include": "salts", "inclde": "x"}),
        ("/v1/events/e1/proof", {"format": "tlog-proof", "fromat": "x"}),
    ],
)
def test_an_unknown_parameter_is_named(api: Api, path: str, params: dict[str, str]) -> None:
    assert api.post(event("e1")).status_code == 201
    response = api.get(path, **params)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    typo = next(name for name in params if name not in ("seq", "first", "include", "format"))
    assert error["parameter"] == typo
    assert typo in error["message"]
    # The same request without the typo is answered.
    del params[typo]
    assert api.get(path, **params).status_code == 200
