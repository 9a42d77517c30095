"""What free-text search reads: the searchable text of an event and the words in it.

``search_text`` is what the SQLite full-text index stores (PostgreSQL's
generated ``tsvector`` reads the same columns). ``words`` splits text as SQLite's
FTS5 ``unicode61`` tokenizer (``remove_diacritics 2``) does, which PostgreSQL's
configuration imitates: a word is a run of letters and digits; diacritics fold
away without splitting a word; everything else separates; case folds.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from sealtrail.events import Event

__all__ = ["search_text", "words"]


def search_text(event: Event) -> str:
    """What free-text search (``q``) looks through, one field per line."""
    parts = [event.description, event.actor.name, event.actor.email]
    if event.target is not None:
        parts += [event.target.name, event.target.email]
    if event.resource is not None:
        parts += [event.resource.id, event.resource.name]
    return "\n".join(p for p in parts if p)


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words FTS5's unicode61 tokenizer (remove_diacritics 2) makes of ``text``."""
    out: list[str] = []
    current: list[str] = []
    for char in unicodedata.normalize("NFD", text.lower()):
        category = unicodedata.category(char)
        if category[0] == "M":
            continue  # a diacritic folded away: "é" reads "e" and never splits a word
        if category[0] in "LN" or category == "Co":
            current.append(char)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return tuple(out)
