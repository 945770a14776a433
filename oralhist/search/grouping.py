"""Grouping matches by interview and counting facets, over every match (numpy over the
index's columns); used by ``SearchIndex.search``.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .common import MAX_FACET_VALUES, interview_group
from .results import DocumentHit, Moment


@dataclass
class Groups:
    """Per group key (sorted; an interview id, or ``-(docnum + 1)`` for a document): the best
    score, the number of moments, and whether its catalogue record matched."""

    keys: np.ndarray
    best: np.ndarray
    moments: np.ndarray
    catalogue: np.ndarray

    @classmethod
    def of(cls, keys: np.ndarray, scores: np.ndarray, moment: np.ndarray | None) -> Groups:
        """Group matches by key (``moment``: which matches are moments; all if ``None``)."""
        if len(keys) > 1:
            # The usual case: each group's matches are one run of docnums (an interview's
            # records are added together; a document is a group of its own), so runs are
            # groups and no sort of the matches is needed. Checked: interview keys (> 0) of
            # successive runs increase (index order is id order); document keys are distinct.
            starts = np.concatenate(([0], np.flatnonzero(keys[1:] != keys[:-1]) + 1))
            run_keys = keys[starts]
            interviews = run_keys[run_keys > 0]
            if (interviews[1:] > interviews[:-1]).all():
                sizes = np.diff(np.append(starts, len(keys)))
                if moment is None:
                    moments = sizes
                    catalogue = np.zeros(len(starts), dtype=bool)
                else:
                    moments = np.add.reduceat(moment.astype(np.int64), starts)
                    catalogue = moments < sizes
                order = np.argsort(run_keys, kind="stable")
                best = np.maximum.reduceat(scores, starts)
                return cls(run_keys[order], best[order], moments[order], catalogue[order])
        unique, inverse = np.unique(keys, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float64)
        np.maximum.at(best, inverse, scores)
        catalogue = np.zeros(len(unique), dtype=bool)
        if moment is None:
            moments = np.bincount(inverse, minlength=len(unique))
        else:
            moments = np.bincount(inverse[moment], minlength=len(unique))
            catalogue[inverse[~moment]] = True
        return cls(unique, best, moments, catalogue)

    @classmethod
    def merge(cls, parts: list[Groups]) -> Groups:
        """One table from several segments' (an interview may span segments)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return cls(empty, np.empty(0), empty, np.empty(0, dtype=bool))
        keys = np.concatenate([p.keys for p in parts])
        unique, inverse = np.unique(keys, return_inverse=True)
        best = np.zeros(len(unique), dtype=np.float64)
        np.maximum.at(best, inverse, np.concatenate([p.best for p in parts]))
        moments = np.bincount(
            inverse, weights=np.concatenate([p.moments for p in parts]), minlength=len(unique)
        ).astype(np.int64)
        catalogue = np.zeros(len(unique), dtype=bool)
        catalogue[inverse[np.concatenate([p.catalogue for p in parts])]] = True
        return cls(unique, best, moments, catalogue)

    def __len__(self) -> int:
        return len(self.keys)

    def row(self, key: int) -> tuple[float, int, bool]:
        i = int(np.searchsorted(self.keys, key))
        return float(self.best[i]), int(self.moments[i]), bool(self.catalogue[i])


class SpeakerNumbers:
    """Every speaker name of the index's segments numbered once, so that a query's speaker
    facet is one ``bincount`` over all segments (a common word's matches have a thousand
    speakers). Names are only ever added: a name no segment holds any more counts nothing."""

    def __init__(self) -> None:
        self._number: dict[str, int] = {}
        self._names: list[str] = []

    def numbers(self, table) -> np.ndarray:
        """The number of each of a segment table's speaker refs."""
        found = table.speaker_numbers
        if found is None:
            number = self._number
            for name in table.speakers:
                if name not in number:
                    number[name] = len(self._names)
                    self._names.append(name)
            found = table.speaker_numbers = np.array(
                [number[name] for name in table.speakers], dtype=np.int64
            )
        return found

    def top(self, numbers: list[np.ndarray], counts: list[np.ndarray], k: int):
        """The ``k`` most frequent named speakers, ties by name, from per-segment tallies."""
        if not numbers:
            return []
        total = np.bincount(
            np.concatenate(numbers), weights=np.concatenate(counts), minlength=len(self._names)
        )
        unnamed = self._number.get("")
        if unnamed is not None:
            total[unnamed] = 0
        present = np.flatnonzero(total)
        if len(present) > k:
            floor = np.partition(total[present], -k)[-k]
            present = present[total[present] >= floor]
        names = self._names
        tally = [(names[i], int(total[i])) for i in present.tolist()]
        return sorted(tally, key=lambda kv: (-kv[1], kv[0]))[:k]


def _top(items) -> list[tuple[str, int]]:
    """The most frequent values, ties by name (``MAX_FACET_VALUES`` of them); only those that
    can be in the top are sorted."""
    items = list(items)
    if len(items) > MAX_FACET_VALUES:
        floor = heapq.nlargest(MAX_FACET_VALUES, (n for _, n in items))[-1]
        items = [kv for kv in items if kv[1] >= floor]
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))[:MAX_FACET_VALUES]


class FactTable:
    """The facet facts of every group key a query of this index generation has shown (an
    interview's collection, narrators, language and decade; a document's decade), as numpy
    columns of value numbers, so that a query's facets are a ``bincount`` over its groups:
    a common word has ~11,000 groups at 10,000 interviews, and counting their facts in
    Python ``Counter``s took ~9 ms a query. Keys are added as queries first show them (from
    ``GroupingMixin._facts``, whose cards are kept per segment); the table is dropped with the
    generation it was built for."""

    FACETS = ("collection", "narrator", "language", "decade")

    def __init__(self) -> None:
        self._rows: dict[int, int] = {}  # group key -> row
        self._keys = np.empty(0, dtype=np.int64)  # the keys, sorted, and
        self._row_of = np.empty(0, dtype=np.int64)  # the row of each
        self._names: dict[str, list] = {f: [] for f in self.FACETS}  # value number -> value
        self._numbers: dict[str, dict] = {f: {} for f in self.FACETS}  # value -> number
        # per facet: the row of each (row, value) pair and the value's number
        self._pair_rows: dict[str, list[int]] = {f: [] for f in self.FACETS}
        self._pair_values: dict[str, list[int]] = {f: [] for f in self.FACETS}
        self._arrays: dict[str, tuple[np.ndarray, np.ndarray]] | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def _number(self, facet: str, value) -> int:
        numbers = self._numbers[facet]
        found = numbers.get(value)
        if found is None:
            found = numbers[value] = len(self._names[facet])
            self._names[facet].append(value)
        return found

    def _add(self, key: int, facts: tuple) -> None:
        row = self._rows[key] = len(self._rows)
        collection, narrators, language, decade = facts[:4]
        for facet, values in (
            ("collection", (collection,)),
            ("narrator", narrators),
            ("language", (language,)),
            ("decade", (decade,)),
        ):
            for value in values:
                if value in ("", None):  # an empty value is not a facet value
                    continue
                self._pair_rows[facet].append(row)
                self._pair_values[facet].append(self._number(facet, value))

    def rows(self, keys: np.ndarray, facts_of) -> np.ndarray:
        """The rows of ``keys`` (sorted, unique group keys), adding those not seen yet with
        ``facts_of(key)``."""
        at = np.searchsorted(self._keys, keys)
        found = self._keys[np.minimum(at, len(self._keys) - 1)] == keys if len(self._keys) else None
        if found is None or not found.all():
            missing = keys if found is None else keys[~found]
            for key in missing.tolist():
                self._add(key, facts_of(key))
            every = np.fromiter(self._rows, dtype=np.int64, count=len(self._rows))
            order = np.argsort(every)
            self._keys = every[order]
            self._row_of = np.fromiter(self._rows.values(), dtype=np.int64, count=len(every))[order]
            self._arrays = None
            at = np.searchsorted(self._keys, keys)
        return self._row_of[at]

    def counts(self, facet: str, rows: np.ndarray) -> list[tuple]:
        """(value, number of ``rows`` having it) for every value some row has."""
        if self._arrays is None:
            self._arrays = {
                f: (
                    np.array(self._pair_rows[f], dtype=np.int64),
                    np.array(self._pair_values[f], dtype=np.int64),
                )
                for f in self.FACETS
            }
        pair_rows, pair_values = self._arrays[facet]
        if not len(rows) or not len(pair_rows):
            return []
        chosen = np.zeros(len(self._rows), dtype=bool)
        chosen[rows] = True
        tally = np.bincount(pair_values[chosen[pair_rows]], minlength=len(self._names[facet]))
        names = self._names[facet]
        return [(names[i], int(tally[i])) for i in np.flatnonzero(tally).tolist()]

    def top(self, facet: str, rows: np.ndarray) -> list[tuple]:
        return _top(self.counts(facet, rows))


class GroupingMixin:
    """``SearchIndex``'s grouping and facets (its state is set up by ``SearchIndex``)."""

    def _group_matches(self, searcher, query):
        """Every match, grouped by interview (a document is a group of its own).

        Returns the ``Groups`` (best score, moments and catalogue match per group key: an
        interview id, or ``-(docnum + 1)`` for a document); kind and speaker counts; and the
        raw hits for ``_top_hits``. The per-match work is numpy over the segment's columns (a
        common word has tens of thousands of matches), and so is the per-group work.
        """
        kinds: Counter = Counter()
        speaker_ids: list[np.ndarray] = []  # per segment: speakers' numbers and their counts
        speaker_counts: list[np.ndarray] = []
        hits: list = []
        parts: list[Groups] = []
        for table, offset, found in self._evaluate(searcher, query):
            docs, scores = found.ids, found.scores
            iids, kind_refs, speaker_refs = table.columns()
            names = table.kinds
            kind_of = kind_refs[docs]
            # (a comparison a kind: bincount first copies the bytes into an int64 array)
            by_kind = [int(np.count_nonzero(kind_of == ref)) for ref in range(len(names))]
            for ref in np.flatnonzero(by_kind).tolist():
                kinds[names[ref]] += by_kind[ref]
            ref_of = {name: i for i, name in enumerate(names) if by_kind[i]}
            keys = iids[docs].astype(np.int64)
            # (indices, not boolean masks, to take from long arrays: numpy's boolean index
            # costs about three times ``flatnonzero`` and a ``take``)
            if "document" in ref_of:
                is_doc = np.flatnonzero(kind_of == ref_of["document"])
                keys[is_doc] = -(offset + docs[is_doc] + 1)
            if "segment" in ref_of:
                seg_ref = ref_of["segment"]
                refs = speaker_refs[docs] if by_kind[seg_ref] == len(docs) else None
                if refs is None:
                    refs = speaker_refs[docs[np.flatnonzero(kind_of == seg_ref)]]
                counts = np.bincount(refs)
                present = np.flatnonzero(counts)
                speaker_ids.append(self._speakers.numbers(table)[present])
                speaker_counts.append(counts[present])
            # A catalogue record (kind interview) makes its group a catalogue match, not a
            # moment; everything else is a moment (a document counts as its own group).
            moment = kind_of != ref_of["interview"] if "interview" in ref_of else None
            parts.append(Groups.of(keys, scores, moment))
            hits.append((offset, docs, keys, scores, moment))
        speakers = self._speakers.top(speaker_ids, speaker_counts, MAX_FACET_VALUES)
        return Groups.merge(parts), kinds, speakers, hits

    @staticmethod
    def _top_hits(hits: list, wanted, per_group: int) -> dict:
        """The ``per_group`` best moments (score, docnum) of each wanted group key (interview
        ids: documents have no moments)."""
        found: dict = {key: [] for key in wanted}
        if per_group <= 0 or not found:
            return found
        # The wanted keys are interview ids (> 0): a flag per id up to the largest, and one
        # past it for every key outside (documents' keys are negative), instead of a binary
        # search a match (a common word's 400 k matches: ~5 ms).
        top = max(found)
        flags = np.zeros(top + 2, dtype=bool)
        flags[np.fromiter(found, dtype=np.int64, count=len(found))] = True
        for offset, docs, keys, scores, moment in hits:
            picked = flags[np.clip(keys, 0, top + 1)]
            if moment is not None:
                picked &= moment
            at = np.flatnonzero(picked)
            for key, score, docnum in zip(
                keys[at].tolist(), scores[at].tolist(), (docs[at] + offset).tolist(), strict=True
            ):
                found[key].append((score, docnum))
        return {key: heapq.nlargest(per_group, hits) for key, hits in found.items()}

    def _facts(self, searcher, key: int) -> tuple:
        """(collection, narrators, language, decade, date for sorting) of a group key."""
        found = self._group_facts.get(key)
        if found is None:
            if key < 0:  # a document
                year = self._document(searcher, -key - 1).get("year")
                found = (None, (), None, year, "" if year is None else f"{int(year):04d}")
            else:
                card = self._card(searcher, key)
                year = card.get("year")
                found = (
                    card.get("collection"),
                    tuple(card.get("narrators") or ()),
                    card.get("language"),
                    year,
                    card.get("date_recorded") or "",
                )
            if found[3] is not None:
                found = (*found[:3], str(int(found[3]) // 10 * 10), found[4])
            self._group_facts[key] = found
        return found

    def _facets_and_order(self, searcher, groups: Groups, kinds, speakers, sort):
        facts = self._fact_table
        rows = facts.rows(groups.keys, lambda key: self._facts(searcher, key))
        facets = {
            "collection": facts.top("collection", rows),
            "narrator": facts.top("narrator", rows),
            "speaker": speakers,
            "decade": sorted(facts.counts("decade", rows)),
            "language": facts.top("language", rows),
            "kind": _top(kinds.items()),
        }
        if sort == "date":
            keys = groups.keys.tolist()
            dates = [self._facts(searcher, key)[4] for key in keys]
            best = groups.best.tolist()
            at = sorted(
                range(len(keys)),
                key=lambda i: (dates[i] == "", dates[i], -best[i], keys[i]),
            )
        else:
            at = np.lexsort((groups.keys, -groups.moments, -groups.best))
        return facets, groups.keys[at].tolist()

    def _moment(self, searcher, docnum: int, marks) -> Moment:
        fields = searcher.stored_fields(docnum)
        stored = fields["stored"]
        return Moment(
            kind=stored["kind"],
            interview_id=stored["iid"],
            segment_id=stored.get("seg"),
            start_ms=stored.get("start"),
            end_ms=stored.get("end"),
            speaker=stored.get("speaker") or "",
            snippet_html=self._highlighter.snippet(stored.get("text") or "", marks),
        )

    def _group(self, searcher, key, g, top: list, marks):
        best, n_moments, catalogue = g
        if key < 0:  # a document
            stored = self._document(searcher, -key - 1)
            return DocumentHit(
                document_id=stored["document_id"],
                title=stored.get("title") or "",
                snippet_html=self._highlighter.snippet(stored.get("text") or "", marks),
                score=best,
            )
        card = self._card(searcher, key)
        return interview_group(
            key,
            card,
            score=best,
            total_moments=n_moments,
            catalogue_match=catalogue,
            moments=[self._moment(searcher, docnum, marks) for _, docnum in top],
        )
