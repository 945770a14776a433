"""Anchoring: which transcript words are certainly heard where, before aligning between them.

Pure functions (no audio, no engine), so they are unit-tested on small inputs.

Two sources of anchors, combined:

* times the transcript already has (OHMS sync points, ``[hh:mm:ss]`` marks, paragraph times):
  a segment with a start time pins its first word near that moment (``given_anchors``);
* Gentle's way: the audio is recognised with a small language model built from the transcript
  itself, and runs of at least ``MIN_RUN`` recognised words that match the transcript word for
  word, in order, are kept (``matching_runs``). A run that short of the transcript is unlikely
  to match by chance; a swapped or missing passage breaks the run, so it is never anchored.

Between two anchors the transcript's words are forced-aligned to the audio between them
(``gaps``), which keeps each alignment short: aligning a long recording in one pass loses the
search path.
"""

from __future__ import annotations

import difflib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

#: Shortest run of recognised words matching the transcript that is trusted as an anchor.
MIN_RUN = 4


@dataclass(frozen=True)
class Heard:
    """A word the recogniser heard: its dictionary form and time (ms, interview timeline)."""

    key: str
    start_ms: int
    end_ms: int
    confidence: float = 1.0


@dataclass(frozen=True)
class Anchor:
    """Transcript word ``token`` is heard from ``start_ms`` to ``end_ms``."""

    token: int
    start_ms: int
    end_ms: int
    confidence: float = 1.0


@dataclass(frozen=True)
class Gap:
    """Transcript words ``first``..``last`` (inclusive; empty when ``first > last``) lie in
    the audio between ``start_ms`` and ``end_ms``, between two anchors."""

    first: int
    last: int
    start_ms: int
    end_ms: int

    @property
    def words(self) -> int:
        return max(0, self.last - self.first + 1)

    @property
    def duration_ms(self) -> int:
        return max(0, self.end_ms - self.start_ms)


def matching_runs(
    keys: Sequence[str], heard: Sequence[Heard], *, min_run: int = MIN_RUN
) -> list[Anchor]:
    """Anchors from recognised words: the transcript words (``keys``, normalised) that the
    recogniser heard in runs of ``min_run`` or more consecutive matches, in transcript order.

    An empty key (a word the engine cannot pronounce) never matches.
    """
    heard_keys = [h.key for h in heard]
    matcher = difflib.SequenceMatcher(None, list(keys), heard_keys, autojunk=False)
    anchors: list[Anchor] = []
    for block in matcher.get_matching_blocks():
        if block.size < min_run:
            continue
        for offset in range(block.size):
            h = heard[block.b + offset]
            if not keys[block.a + offset]:
                continue
            anchors.append(Anchor(block.a + offset, h.start_ms, h.end_ms, h.confidence))
    return anchors


def given_anchors(
    first_tokens: Sequence[int | None], starts: Sequence[int | None]
) -> list[tuple[int, int]]:
    """(token, ms) pairs from times the transcript already has: segment ``i`` starting at
    ``starts[i]`` pins its first word ``first_tokens[i]``. Times that go backwards are
    dropped (a rough mark out of order is a typing error, not an anchor)."""
    pinned: list[tuple[int, int]] = []
    last = -1
    for token, start in zip(first_tokens, starts, strict=True):
        if token is None or start is None or start < last:
            continue
        pinned.append((token, start))
        last = start
    return pinned


def consistent(anchors: Sequence[Anchor]) -> list[Anchor]:
    """Anchors in token order whose times also go forwards (the longest such chain, greedily:
    an anchor that would go back in time is dropped)."""
    kept: list[Anchor] = []
    for anchor in sorted(anchors, key=lambda a: a.token):
        if kept and (anchor.start_ms < kept[-1].end_ms or anchor.token <= kept[-1].token):
            continue
        kept.append(anchor)
    return kept


def gaps(
    anchors: Sequence[Anchor], token_count: int, start_ms: int, end_ms: int, first_token: int = 0
) -> list[Gap]:
    """The stretches between consecutive anchors (and before the first and after the last),
    with the transcript words and the audio each holds, for tokens ``first_token`` up to
    ``token_count``. Stretches with neither words nor audio are left out."""
    result: list[Gap] = []
    prev_token, prev_ms = first_token - 1, start_ms
    for anchor in [*anchors, Anchor(token_count, end_ms, end_ms)]:
        gap = Gap(prev_token + 1, anchor.token - 1, prev_ms, max(prev_ms, anchor.start_ms))
        if gap.words or gap.duration_ms > 0:
            result.append(gap)
        prev_token, prev_ms = anchor.token, anchor.end_ms
    return result


def chunks(
    anchors: Sequence[Anchor],
    token_count: int,
    start_ms: int,
    end_ms: int,
    *,
    pause_ms: int = 150,
    min_ms: int = 5_000,
    max_ms: int = 90_000,
) -> list[Gap]:
    """Cut the whole into stretches that are each aligned in one pass: between two
    consecutive anchored words with a pause between them (a cut in silence never splits a
    word), at least ``min_ms`` apart; between any two consecutive anchored words once a
    stretch reaches ``max_ms`` (a long pass loses the search path)."""
    cuts = [(0, start_ms)]
    for a, b in itertools.pairwise(anchors):
        if b.token != a.token + 1:
            continue
        since = b.start_ms - cuts[-1][1]
        if (b.start_ms - a.end_ms >= pause_ms and since >= min_ms) or since >= max_ms:
            cuts.append((b.token, (a.end_ms + b.start_ms) // 2))
    cuts.append((token_count, end_ms))
    return [Gap(t0, t1 - 1, m0, m1) for (t0, m0), (t1, m1) in itertools.pairwise(cuts)]


def windows_from_given(
    pinned: Sequence[tuple[int, int]], token_count: int, total_ms: int, margin_ms: int
) -> list[tuple[int, int, int, int]]:
    """Split the problem at the transcript's own rough times: (first token, last token,
    start ms, end ms) windows, each widened by ``margin_ms`` on both sides because a rough
    mark (a whole minute in OHMS) is only approximately where the words begin."""
    if not pinned:
        return [(0, token_count - 1, 0, total_ms)]
    cuts = list(pinned)
    if cuts[0][0] != 0:
        cuts.insert(0, (0, 0))
    windows = []
    for i, (token, ms) in enumerate(cuts):
        next_token, next_ms = cuts[i + 1] if i + 1 < len(cuts) else (token_count, total_ms)
        if next_token <= token:
            continue
        windows.append(
            (token, next_token - 1, max(0, ms - margin_ms), min(total_ms, next_ms + margin_ms))
        )
    return windows
