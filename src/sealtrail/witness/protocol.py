"""The tlog-witness ``add-checkpoint`` request body and the answers it can get.

Body: ``old <size>\\n``, zero to 63 base64 consistency-proof lines, an empty
line, then the signed checkpoint note. The statuses are the protocol's own
vocabulary (c2sp.org/tlog-witness): 400 malformed, 403 no valid log signature,
404 unknown origin, 409 old size is not the witness's (body: its size), 422
inconsistent.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

MAX_PROOF_LINES: Final = 63
SIZE_CONTENT_TYPE: Final = "text/x.tlog.size"
_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")


class WitnessRefusal(Exception):
    """An add-checkpoint request the witness answers with ``status``."""

    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadRequest(WitnessRefusal):
    status = 400


class Forbidden(WitnessRefusal):
    status = 403


class UnknownLog(WitnessRefusal):
    status = 404


class SizeConflict(WitnessRefusal):
    """The old size is not the size the witness last cosigned (``size``)."""

    status = 409

    def __init__(self, size: int) -> None:
        super().__init__(f"the witness last cosigned size {size}")
        self.size = size


class Inconsistent(WitnessRefusal):
    status = 422


@dataclass(frozen=True, slots=True)
class AddCheckpoint:
    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: str

    def to_body(self) -> bytes:
        lines = [f"old {self.old_size}"]
        lines.extend(base64.b64encode(h).decode("ascii") for h in self.proof)
        return ("\n".join(lines) + "\n\n" + self.checkpoint).encode("utf-8")


def parse_size(text: str) -> int:
    if _DECIMAL.fullmatch(text) is None or int(text) > 2**63 - 1:
        raise BadRequest(f"bad tree size {text[:30]!r}")
    return int(text)


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("the body is not UTF-8") from None
    head, blank, checkpoint = text.partition("\n\n")
    if not blank or not checkpoint:
        raise BadRequest("no empty line before the checkpoint")
    lines = head.split("\n")
    if not lines[0].startswith("old "):
        raise BadRequest("the first line must be 'old <size>'")
    old_size = parse_size(lines[0][4:])
    proof_lines = lines[1:]
    if len(proof_lines) > MAX_PROOF_LINES:
        raise BadRequest(f"more than {MAX_PROOF_LINES} consistency proof lines")
    proof = []
    for line in proof_lines:
        try:
            proof.append(binascii.a2b_base64(line.encode("ascii"), strict_mode=True))
        except (binascii.Error, UnicodeEncodeError):
            raise BadRequest("a consistency proof line is not base64") from None
    return AddCheckpoint(old_size, tuple(proof), checkpoint)


def add_checkpoint_body(old_size: int, proof: Sequence[bytes], checkpoint: str) -> bytes:
    return AddCheckpoint(old_size, tuple(proof), checkpoint).to_body()
