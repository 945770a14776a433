"""What one user may see in search: built by the access policy, applied by the search adapter.

The search package never decides access; it folds a ``SearchScope`` into every query so that
totals, facets, snippets and suggestions are computed only over what the user may read.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SearchScope:
    """The readable part of the archive for one user.

    - words (segments, index points) are visible when ``everything``, or the interview is in
      ``granted_interview_ids``, or it is published, its access level is in ``levels`` and its
      ``embargo_until`` is not after ``today``;
    - an interview's catalogue record is visible when ``everything``, or it is published, or
      ``owner_user_id`` created it, or it is granted;
    - a document is visible when ``everything`` or its access level is in ``document_levels``.
    """

    everything: bool = False
    levels: frozenset[str] = frozenset({"open"})
    today: int = 0
    granted_interview_ids: frozenset[int] = frozenset()
    owner_user_id: int | None = None
    document_levels: frozenset[str] = frozenset({"open"})

    @classmethod
    def archivist(cls) -> SearchScope:
        return cls(everything=True)
