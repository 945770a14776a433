""" "Did you mean": a corrected query whose misspelt words are replaced by words the
scope may read (``SearchIndex.suggest``).
"""

from __future__ import annotations

from whoosh import query as wq

from ..errors import QueryError
from .query import Word, parse, positive_words
from .restriction import AccessRestriction
from .scope import SearchScope


class SuggestMixin:
    """``SearchIndex``'s suggestions (its state is set up by ``SearchIndex``)."""

    def suggest(self, q: str, scope: SearchScope) -> str | None:
        """A corrected query whose misspelt words are replaced by words ``scope`` may read."""
        tree = parse(q)
        with self._lock:
            searcher = self._current()
            return self._suggest(searcher, q, tree, scope, [])

    def _word_query(self, searcher, text: str):
        words = [t.text for t in self._fold(text)]
        if len(words) != 1:
            return None
        return self._compiler(searcher).word(words[0])

    def _visible(self, searcher, query, scope, extra=()) -> bool:
        return self._exists(
            searcher, wq.And([query, *extra, AccessRestriction(scope, self._tables)])
        )

    def _has_unseen_word(self, searcher, tree, scope) -> bool:
        for word in positive_words(tree):
            query = self._word_query(searcher, word.text)
            if query is not None and not self._visible(searcher, query, scope):
                return True
        return False

    def _suggest(self, searcher, q: str, tree, scope, filter_queries) -> str | None:
        reader = searcher.reader()
        replacements: list[tuple[Word, str]] = []
        for word in positive_words(tree):
            query = self._word_query(searcher, word.text)
            folded = [t.text for t in self._fold(word.text)]
            if query is None or len(folded) != 1 or self._visible(searcher, query, scope):
                continue
            original = folded[0]
            if len(original) < 3 or original.isdigit():
                continue
            for distance in (1, 2) if len(original) > 4 else (1,):
                found = {
                    t.decode() if isinstance(t, bytes) else t
                    for t in reader.terms_within(
                        "exact", original, distance, prefix=2 if len(original) >= 5 else 1
                    )
                }
                found.discard(original)
                ranked = sorted(found, key=lambda t: (-reader.doc_frequency("exact", t), t))
                choice = next(
                    (
                        t
                        for t in ranked[:10]
                        if (cq := self._word_query(searcher, t)) is not None
                        and self._visible(searcher, cq, scope)
                    ),
                    None,
                )
                if choice:
                    replacements.append((word, choice))
                    break
        if not replacements:
            return None
        suggestion = q
        for word, choice in sorted(replacements, key=lambda r: -r[0].start):
            suggestion = suggestion[: word.start] + choice + suggestion[word.end :]
        try:
            corrected, _ = self._compile(searcher, parse(suggestion))
        except QueryError:
            return None
        if not self._visible(searcher, corrected, scope, filter_queries):
            return None
        return suggestion
