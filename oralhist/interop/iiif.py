"""IIIF Presentation 3 for audio: pure helpers that turn the interview's timeline into
Canvases, Ranges and media fragments, and its rights statement into a ``rights`` URI.

An interview of several parts (tape 1, tape 2) has one timeline in the archive (segment and
index times run across the parts); IIIF has one Canvas per part, each with its own
``duration``. ``locate`` maps an interview time to (part, time in the part), and ``spans``
cuts an interview range into per-Canvas pieces (``canvas#t=start,end``, seconds).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
MEDIA_TYPE = f'application/ld+json;profile="{CONTEXT}"'


@dataclass(frozen=True)
class Part:
    """One recording part on the interview's timeline."""

    position: int
    offset_ms: int
    duration_ms: int

    @property
    def end_ms(self) -> int:
        return self.offset_ms + self.duration_ms


def timeline(durations: Sequence[int]) -> list[Part]:
    parts, offset = [], 0
    for position, duration in enumerate(durations):
        parts.append(Part(position, offset, max(duration, 0)))
        offset += max(duration, 0)
    return parts


def seconds(ms: int) -> float:
    return round(ms / 1000, 3)


def spans(parts: Sequence[Part], start_ms: int, end_ms: int) -> list[tuple[Part, int, int]]:
    """The pieces of the interview range ``start_ms``..``end_ms`` on each part, in part
    time: ``[(part, local_start_ms, local_end_ms)]`` (empty pieces left out)."""
    pieces = []
    for part in parts:
        lo, hi = max(start_ms, part.offset_ms), min(end_ms, part.end_ms)
        if hi > lo:
            pieces.append((part, lo - part.offset_ms, hi - part.offset_ms))
    return pieces


def fragment(canvas_id: str, start_ms: int, end_ms: int) -> str:
    """``canvas#t=1.5,20``: a media fragment (W3C Media Fragments, seconds)."""
    return f"{canvas_id}#t={seconds(start_ms):g},{seconds(end_ms):g}"


_RIGHTS_URI = re.compile(
    r"https?://(?:creativecommons\.org/(?:licenses|publicdomain)/[\w./-]+"
    r"|rightsstatements\.org/vocab/[\w./-]+)"
)
_CC_NAME = re.compile(r"\bCC[ -](BY(?:-NC)?(?:-ND|-SA)?)[ -](\d\.\d)\b", re.IGNORECASE)
_CC0 = re.compile(r"\bCC0\b", re.IGNORECASE)


def rights_uri(statement: str) -> str | None:
    """The ``rights`` URI a statement names (IIIF allows only Creative Commons,
    RightsStatements.org or registered URIs): an explicit URI, or a Creative Commons licence
    by its usual name ("CC BY-NC 4.0"); None when the statement names neither."""
    found = _RIGHTS_URI.search(statement or "")
    if found:
        uri = found.group(0).rstrip(".")
        return uri.replace("https://rightsstatements.org", "http://rightsstatements.org")
    named = _CC_NAME.search(statement or "")
    if named:
        return f"http://creativecommons.org/licenses/{named.group(1).lower()}/{named.group(2)}/"
    if _CC0.search(statement or ""):
        return "http://creativecommons.org/publicdomain/zero/1.0/"
    return None


def language_map(text: str, language: str = "en") -> dict[str, list[str]]:
    return {language or "none": [text]}
