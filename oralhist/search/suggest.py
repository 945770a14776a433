""" "Did you mean": a corrected query whose misspelt words are replaced by words the
scope may read (``SearchIndex.suggest``).
"""

from __future__ import annotations

from whoosh import query as wq

from .common import suggest_query
from .query import parse, positive_words
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

        def visible(word: str) -> bool:
            query = self._word_query(searcher, word)
            return query is not None and self._visible(searcher, query, scope)

        def near(word: str, distance: int) -> list[str]:
            found = {
                t.decode() if isinstance(t, bytes) else t
                for t in reader.terms_within(
                    "exact", word, distance, prefix=2 if len(word) >= 5 else 1
                )
            }
            return sorted(found, key=lambda t: (-reader.doc_frequency("exact", t), t))

        def finds(corrected) -> bool:
            query, _ = self._compile(searcher, corrected)
            return self._visible(searcher, query, scope, filter_queries)

        return suggest_query(
            q,
            tree,
            fold=lambda text: [t.text for t in self._fold(text)],
            visible=visible,
            near=near,
            finds=finds,
        )
