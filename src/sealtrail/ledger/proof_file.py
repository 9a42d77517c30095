"""C2SP tlog-proof files (c2sp.org/tlog-proof): one event's proof, verifiable offline.

::

    c2sp.org/tlog-proof@v1
    extra <base64 of the event's leaf bytes>
    index <seq>
    <base64 inclusion proof hash, one per line, leaf's sibling first>

    <the checkpoint note, verbatim, with the log's signature and any cosignatures>

Sealtrail's ``extra`` is the event's *leaf bytes* (the RFC 8785 object of SPEC
§3, personal fields only as salted commitments), so a verifier needs no
Sealtrail code: leaf hash = SHA-256(0x00 ‖ extra), then RFC 6962 inclusion at
``index`` under the checkpoint's root. As tlog-proof says, ``extra`` is not
trusted by itself: it is believed only once its hash is proven included, and
the verifier then checks that it names the event it expected (``id``, ``seq``
equal to ``index``, ``tenant_id`` matching the origin).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from sealtrail.errors import NoteError
from sealtrail.ledger.merkle import HASH_SIZE

HEADER: Final = "c2sp.org/tlog-proof@v1"
FILE_EXTENSION: Final = ".tlog-proof"
MAX_PROOF_LINES: Final = 63

_DECIMAL: Final = re.compile(r"0|[1-9][0-9]*")


def _b64decode(text: str, what: str) -> bytes:
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (binascii.Error, UnicodeEncodeError):
        raise NoteError(f"tlog-proof: {what} is not base64") from None


@dataclass(frozen=True, slots=True)
class TlogProof:
    """An entry index, its inclusion proof, the checkpoint note, and optional extra data."""

    index: int
    proof: tuple[bytes, ...]
    checkpoint: str
    extra: bytes | None = None

    def __post_init__(self) -> None:
        if self.index < 0:
            raise NoteError("tlog-proof: the index is negative")
        if len(self.proof) > MAX_PROOF_LINES or any(len(h) != HASH_SIZE for h in self.proof):
            raise NoteError(f"tlog-proof: at most {MAX_PROOF_LINES} {HASH_SIZE}-byte hashes")
        if not self.checkpoint.endswith("\n") or self.checkpoint.startswith("\n"):
            raise NoteError("tlog-proof: the checkpoint is a note ending in a newline")

    def to_text(self) -> str:
        lines = [HEADER]
        if self.extra is not None:
            lines.append("extra " + base64.b64encode(self.extra).decode("ascii"))
        lines.append(f"index {self.index}")
        lines.extend(base64.b64encode(h).decode("ascii") for h in self.proof)
        return "\n".join(lines) + "\n\n" + self.checkpoint

    @classmethod
    def from_text(cls, text: str) -> TlogProof:
        """Parse a proof file; the checkpoint is returned verbatim, not yet verified."""
        head, blank, checkpoint = text.partition("\n\n")
        if not blank:
            raise NoteError("tlog-proof: no empty line before the checkpoint")
        lines = head.split("\n")
        if lines[0] != HEADER:
            raise NoteError(f"tlog-proof: the first line must be {HEADER}")
        position = 1
        extra = None
        if position < len(lines) and lines[position].startswith("extra "):
            extra = _b64decode(lines[position][len("extra ") :], "extra")
            position += 1
        if position >= len(lines) or not lines[position].startswith("index "):
            raise NoteError("tlog-proof: no index line")
        index_text = lines[position][len("index ") :]
        if _DECIMAL.fullmatch(index_text) is None:
            raise NoteError(f"tlog-proof: bad index {index_text[:30]!r}")
        proof = tuple(_b64decode(line, "a proof line") for line in lines[position + 1 :])
        return cls(int(index_text), proof, checkpoint, extra)


def tlog_proof(
    index: int, proof: Sequence[bytes], checkpoint_note: str, extra: bytes | None = None
) -> str:
    """The tlog-proof file text."""
    return TlogProof(index, tuple(proof), checkpoint_note, extra).to_text()
