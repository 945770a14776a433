"""Snippets: the stored text, HTML-escaped, with the query's matches in ``<mark>``.

Cut from the stored text of the hit, with the same folding and stemming as the index, so
``organising`` marks ``organised`` and ``Andre`` marks ``André``. Cheaper and more predictable
than whoosh's highlighter, and it never leaves unescaped text behind.

Its cost is bounded whatever the text's length: a text longer than ``LONG_TEXT`` is searched
for its first match piece by piece (``SCAN_PIECE`` characters at a time, ``MAX_SCAN`` at most)
and only a window around that match is marked and escaped. A 24 MB single-cue SRT used to make
every search that matched it take ~10 s (the whole text tokenized for one 240-character
snippet); a match beyond ``MAX_SCAN`` shows the text's opening, unmarked.
"""

from __future__ import annotations

import re
from html import escape

from whoosh.analysis.tokenizers import default_pattern
from whoosh.support.charset import accent_map

from .query import Marks

# whoosh's default token pattern without its capturing group (``findall`` gives words).
_ASCII_WORDS = re.compile(r"[\w\*]+(?:\.?[\w\*]+)*")
SNIPPET_CHARS = 240
LEAD_CHARS = 70
#: Texts up to this length are marked whole (every segment of an ordinary transcript).
LONG_TEXT = 4_000
#: A long text is scanned for its first match in pieces of this size...
SCAN_PIECE = 8_000
#: ...and no further than this: the most one snippet tokenizes (~5 ms of work).
MAX_SCAN = 200_000


class Highlighter:
    """Marks a query's words in stored text. Tokenizes exactly as ``schema.folding_analyzer``
    (whoosh's default token pattern, lower case, ``accent_map``) but with one regex pass and
    ``str`` methods instead of the analyzer's per-token generator chain (a third of a results
    page's time went there)."""

    def __init__(self, language) -> None:
        self._finditer = default_pattern.finditer
        self._body_form = language.body_form
        self._fast_findall = _ASCII_WORDS.findall
        self._fast_finditer = _ASCII_WORDS.finditer

    def tokens(self, text: str) -> list[tuple[str, int, int]]:
        return [
            (m.group().lower().translate(accent_map), m.start(), m.end())
            for m in self._finditer(text)
        ]

    def _matcher(self, marks: Marks):
        """word -> does it match (a plain word's stem, or a folded word), cached per query
        (a page's snippets share most of their words)."""
        cache = marks.__dict__.get("_hits")
        if cache is None:
            cache = marks.__dict__["_hits"] = {}
        words, stems, body_form = marks.words, marks.stems, self._body_form

        def hit(w: str) -> bool:
            found = cache.get(w)
            if found is None:
                found = cache[w] = w in words or bool(stems and body_form(w) in stems)
            return found

        return hit

    def spans(self, text: str, marks: Marks) -> list[tuple[int, int]]:
        """Character ranges of ``text`` that match, in order, not overlapping."""
        hit = self._matcher(marks)
        if text.isascii():
            # Lower-cased ASCII tokenizes to the same words at the same offsets, and
            # ``accent_map`` leaves it alone: one C-level pass for the words, offsets only
            # when something matches.
            low = text.lower()
            words = self._fast_findall(low)
            flags = [hit(w) for w in words]
            if not marks.phrases and not any(flags):
                return []
            offsets = [m.span() for m in self._fast_finditer(low)]
            found = [span for span, flag in zip(offsets, flags, strict=True) if flag]
            tokens = None
        else:
            tokens = self.tokens(text)
            words = [t[0] for t in tokens]
            offsets = [(t[1], t[2]) for t in tokens]
            found = [(start, end) for w, start, end in tokens if hit(w)]
        present = set(words) if marks.phrases else ()
        for phrase in marks.phrases:
            if any(w is not None and w not in present for w in phrase):
                continue
            n = len(phrase)
            first = phrase[0]
            for i in range(len(words) - n + 1):
                if (first is None or words[i] == first) and all(
                    phrase[k] is None or words[i + k] == phrase[k] for k in range(1, n)
                ):
                    found.append((offsets[i][0], offsets[i + n - 1][1]))
        found.sort()
        merged: list[tuple[int, int]] = []
        for start, end in found:
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
            else:
                merged.append((start, end))
        return merged

    def snippet(self, text: str, marks: Marks, max_chars: int = SNIPPET_CHARS) -> str:
        text = text or ""
        if len(text) <= LONG_TEXT:
            return self._snippet(text, marks, max_chars, 0, 0)
        first = self._first_match(text, marks)
        lo = max(0, first - LEAD_CHARS - 20)
        if lo:  # start at a word
            space = text.find(" ", lo, first)
            lo = space + 1 if space >= 0 else lo
        hi = min(len(text), lo + max_chars + LEAD_CHARS + 40)
        if hi < len(text):  # end at a word
            space = text.rfind(" ", first, hi)
            hi = space if space > first else hi
        return self._snippet(text[lo:hi], marks, max_chars, lo, len(text) - hi)

    def _first_match(self, text: str, marks: Marks) -> int:
        """Where the first match of ``marks`` in ``text`` starts (0 when none is found in its
        first ``MAX_SCAN`` characters), scanning piece by piece, cut at spaces so that no
        word is split."""
        pos, end = 0, min(len(text), MAX_SCAN)
        while pos < end:
            cut = min(len(text), pos + SCAN_PIECE)
            if cut < len(text):
                space = text.find(" ", cut, cut + 200)
                cut = space if space >= 0 else cut
            spans = self.spans(text[pos:cut], marks)
            if spans:
                return pos + spans[0][0]
            pos = cut
        return 0

    def _snippet(self, text: str, marks: Marks, max_chars: int, before: int, after: int) -> str:
        """The snippet of ``text``, a piece of a longer text with ``before`` characters in
        front of it and ``after`` behind (ellipses say so)."""
        spans = self.spans(text, marks)
        lo, hi = 0, len(text)
        if len(text) > max_chars:
            first = spans[0][0] if spans else 0
            lo = max(0, first - LEAD_CHARS)
            if lo:
                space = text.find(" ", lo, first)
                lo = space + 1 if space >= 0 else lo
            hi = min(len(text), lo + max_chars)
            if hi < len(text):
                space = text.rfind(" ", lo, hi)
                hi = space if space > lo else hi
        out = ["\u2026" if lo > 0 or before > 0 else ""]
        pos = lo
        for start, end in spans:
            if end <= lo or start >= hi:
                continue
            start, end = max(start, lo), min(end, hi)
            out.append(escape(text[pos:start]))
            out.append("<mark>" + escape(text[start:end]) + "</mark>")
            pos = end
        out.append(escape(text[pos:hi]))
        if hi < len(text) or after > 0:
            out.append("\u2026")
        return "".join(out)
