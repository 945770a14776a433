"""Recognising ``NAME:`` speaker labels at the start of a line (SRT, plain text, OHMS).

A label is 1-5 words of letters (digits, ``.``, ``'``, ``-`` and ``_`` allowed after the
first letter) followed by a colon and a space or the end of the line. It is ``"upper"``
when written in capitals (``SCHNEIDER:``, ``KC:``, ``NAME OF INTERVIEWEE:``) and ``"title"``
when every word is capitalised (``Sarah Schneider:``, ``Name of Interviewee:``). Callers
decide how much evidence they need: title-case labels look like ordinary prose
("However: ..."), so they are only trusted when the file uses them consistently.
"""

from __future__ import annotations

import re
from typing import NamedTuple

_LABEL = re.compile(r"\s*(?P<name>[^\W\d_][\w.'\u2019\- ]{0,59}?)\s*:(?:\s+(?P<rest>.*)|$)", re.S)
_PARTICLES = {"de", "da", "del", "der", "di", "du", "la", "le", "van", "von", "of", "y", "e"}
_NOT_NAMES = {"note", "notes", "http", "https", "re", "fwd", "ps", "nb", "p.s", "n.b"}


class Label(NamedTuple):
    name: str
    rest: str
    kind: str  # "upper" or "title"


def split_label(line: str) -> Label | None:
    """The speaker label at the start of ``line``, or ``None``."""
    match = _LABEL.match(line)
    if not match:
        return None
    name = " ".join(match.group("name").split())
    words = name.split(" ")
    if len(words) > 5 or name.lower() in _NOT_NAMES:
        return None
    rest = (match.group("rest") or "").strip()
    letters = [c for c in name if c.isalpha()]
    if letters and all(c.isupper() for c in letters):
        return Label(name, rest, "upper")
    capitalised = all(w[0].isupper() or (i > 0 and w in _PARTICLES) for i, w in enumerate(words))
    if capitalised and any(c.islower() for c in letters):
        return Label(name, rest, "title")
    return None
