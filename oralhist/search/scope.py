"""What one user may see in search: built by the access policy, applied by the search adapter.

The search package never decides access; it folds a ``SearchScope`` into every query so that
totals, facets, snippets and suggestions are computed only over what the user may read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def day_number(date: dt.date | None) -> int:
    """A date as the index compares it (``yyyymmdd``; 0 for none): embargo dates in the
    indexed records and ``SearchScope.today`` must be written the same way."""
    return date.year * 10000 + date.month * 100 + date.day if date else 0


@dataclass(frozen=True)
class SearchScope:
    """The readable part of the archive for one user.

    - words (segments, index points) are visible when ``everything``, or the interview is in
      ``granted_interview_ids`` (the user's own deposits: everything of them), or it is
      published, its access level is in ``levels`` and its ``embargo_until`` is not after
      ``today``, or it is in ``access_grant_ids`` and published, ``restricted`` and not
      under embargo (an approved access request opens a restricted interview, never a draft,
      a closed or an embargoed one, as ``policy.can_read_transcript`` says);
    - an interview's catalogue record is visible when ``everything``, or it is published, or
      ``owner_user_id`` created it, or it is in ``granted_interview_ids``;
    - a document is visible when ``everything`` or its access level is in ``document_levels``.
    """

    everything: bool = False
    levels: frozenset[str] = frozenset({"open"})
    today: int = 0
    granted_interview_ids: frozenset[int] = frozenset()
    owner_user_id: int | None = None
    document_levels: frozenset[str] = frozenset({"open"})
    access_grant_ids: frozenset[int] = frozenset()

    @classmethod
    def archivist(cls) -> SearchScope:
        return cls(everything=True)
