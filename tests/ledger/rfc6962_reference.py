"""A literal transcription of RFC 6962 §2.1 (MTH, PATH, PROOF), to test against.

It recurses exactly as the RFC's definitions read, over leaf *ranges* of one
fixed list of leaf data; MTH is memoised on the range so sweeps stay fast.
"""

from __future__ import annotations

import hashlib
from functools import cache


class Rfc6962:
    def __init__(self, data: list[bytes]) -> None:
        self.data = data
        self.mth = cache(self._mth)

    @staticmethod
    def _k(n: int) -> int:
        """The largest power of two smaller than n (n > 1)."""
        k = 1
        while k * 2 < n:
            k *= 2
        return k

    def _mth(self, start: int, end: int) -> bytes:
        n = end - start
        if n == 0:
            return hashlib.sha256(b"").digest()
        if n == 1:
            return hashlib.sha256(b"\x00" + self.data[start]).digest()
        k = self._k(n)
        left = self.mth(start, start + k)
        right = self.mth(start + k, end)
        return hashlib.sha256(b"\x01" + left + right).digest()

    def path(self, m: int, start: int, end: int) -> list[bytes]:
        """PATH(m, D[start:end]) with m relative to start."""
        n = end - start
        if n == 1:
            return []
        k = self._k(n)
        if m < k:
            return [*self.path(m, start, start + k), self.mth(start + k, end)]
        return [*self.path(m - k, start + k, end), self.mth(start, start + k)]

    def proof(self, m: int, n: int) -> list[bytes]:
        """PROOF(m, D[n]) = SUBPROOF(m, D[n], true)."""
        return self._subproof(m, 0, n, True)

    def _subproof(self, m: int, start: int, end: int, b: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if b else [self.mth(start, end)]
        k = self._k(n)
        if m <= k:
            return [*self._subproof(m, start, start + k, b), self.mth(start + k, end)]
        return [*self._subproof(m - k, start + k, end, False), self.mth(start, start + k)]
