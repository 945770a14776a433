"""Snippets: the stored text, HTML-escaped, with the query's matches in ``<mark>``.

Cut from the stored text of the hit (a segment is short enough to show whole), with the same
folding and stemming as the index, so ``organising`` marks ``organised`` and ``Andre`` marks
``André``. Cheaper and more predictable than whoosh's highlighter, and it never leaves
unescaped text behind.
"""

from __future__ import annotations

from html import escape

from whoosh.analysis.tokenizers import default_pattern
from whoosh.support.charset import accent_map

from .query import Marks

SNIPPET_CHARS = 240
LEAD_CHARS = 70


class Highlighter:
    """Marks a query's words in stored text. Tokenizes exactly as ``schema.folding_analyzer``
    (whoosh's default token pattern, lower case, ``accent_map``) but with one regex pass and
    ``str`` methods instead of the analyzer's per-token generator chain (a third of a results
    page's time went there)."""

    def __init__(self, language) -> None:
        self._finditer = default_pattern.finditer
        self._body_form = language.body_form

    def tokens(self, text: str) -> list[tuple[str, int, int]]:
        return [
            (m.group().lower().translate(accent_map), m.start(), m.end())
            for m in self._finditer(text)
        ]

    def spans(self, text: str, marks: Marks) -> list[tuple[int, int]]:
        """Character ranges of ``text`` that match, in order, not overlapping."""
        tokens = self.tokens(text)
        words, stems, body_form = marks.words, marks.stems, self._body_form
        found: list[tuple[int, int]] = [
            (start, end)
            for w, start, end in tokens
            if w in words or (stems and body_form(w) in stems)
        ]
        for phrase in marks.phrases:
            n = len(phrase)
            for i in range(len(tokens) - n + 1):
                if all(phrase[k] is None or tokens[i + k][0] == phrase[k] for k in range(n)):
                    found.append((tokens[i][1], tokens[i + n - 1][2]))
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
        out = ["\u2026" if lo > 0 else ""]
        pos = lo
        for start, end in spans:
            if end <= lo or start >= hi:
                continue
            start, end = max(start, lo), min(end, hi)
            out.append(escape(text[pos:start]))
            out.append("<mark>" + escape(text[start:end]) + "</mark>")
            pos = end
        out.append(escape(text[pos:hi]))
        if hi < len(text):
            out.append("\u2026")
        return "".join(out)
