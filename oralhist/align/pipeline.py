"""Alignment and transcription of a whole interview (several parts), engine-agnostic.

Alignment: (1) the transcript's own times split the work into windows; (2) each window's audio
is recognised with the transcript's language model and matching word runs become anchors
(``anchoring``); (3) the whole is cut at pauses between anchored words into stretches of up to
a minute and a half, each forced-aligned in one pass; (4) a stretch that does not align as a
whole is aligned between its anchors, and what cannot be aligned there is marked unaligned with
its approximate range: transcript words not heard (a paragraph added in the transcript, an
answer moved elsewhere) and speech the transcript lacks (an omitted passage, an aside).

Times are milliseconds on the interview's timeline: the parts one after another.
"""

from __future__ import annotations

import functools
import itertools
import os
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from ..transcripts.model import Word
from . import anchoring, parallel
from .anchoring import Anchor, Heard
from .engine import Engine
from .text import Token, tokenise

Progress = Callable[[int, str], None]
#: A rough mark (OHMS: the minute) is only near its words: windows reach this far beyond.
GIVEN_MARGIN_MS = 30_000
#: Fewer milliseconds of audio a word than this: the words are not in that audio.
MIN_MS_PER_WORD = 120
#: A stretch without transcript words holding this much recognised speech is reported.
EXTRA_SPEECH_WORDS = 5
#: Anchored words on each side of a stretch that its alignment takes in.
CONTEXT_WORDS = 3
#: Audio beyond those context words' recognised edges that the alignment takes in.
EDGE_MS = 150
#: Words dropped from the end of an alignment that stopped early before it is resumed.
RESTART_DROP = 2
#: A pause (or a word) this long inside aligned words may hide speech the transcript lacks.
LONG_MS = 2_000
#: Words below this confidence are marked low-confidence in a machine draft.
LOW_CONFIDENCE = 0.5
#: With synthesis anchoring: audio beyond a segment's DTW times that its forced alignment
#: takes in (the DTW's segment starts are within ~100 ms: ``bench/results/align-*.json``).
SYNTHESIS_MARGIN_MS = 500
#: Tries at a segment's window, each wider by the margin where a word touched its edge.
SYNTHESIS_WIDEN = 3
#: A word this close to a window's edge is taken as cut by it.
EDGE_SLACK_MS = 30
#: Noise (standard deviation, in 16-bit steps: about -78 dBFS, far below any microphone's
#: noise floor) put in the samples that are exactly zero before words are forced-aligned.
#: Digital silence (an edited or generated recording, a synthetic voice's closures) has no
#: finite log energy, and PocketSphinx's search dies on it: without
#: it a fifth of the words spoken by one voice of the evaluation set were left unaligned
#: (``bench/results/align-*.json``). Every forced alignment gets it (a segment in place, a
#: stretch between anchors: 2.2 -> 0 % unaligned), never recognition: there the same noise
#: moved a short word after an omitted turn seconds away (``tests/align/test_sample.py``).
#: The noise is a function of the sample's place on the timeline, so overlapping stretches
#: agree and an alignment is reproducible.
DITHER = 4.0
#: Length of the repeating noise table (samples: 4 s at 16 kHz).
DITHER_PERIOD = 1 << 16
#: Recognition runs on windows this long, each a task (``parallel``): about the
#: PocketSphinx engine's own window, so a cancel waits seconds at most.
RECOGNISE_STEP_MS = 30_000


@dataclass
class Part:
    """One recording part: where it starts on the interview's timeline and its samples
    (``load`` returns int16 samples at 16 kHz, as one array or as an iterable of blocks)."""

    offset_ms: int
    duration_ms: int
    load: Callable[[], np.ndarray | Iterable[np.ndarray]]


@dataclass
class SegmentIn:
    text: str
    start_ms: int | None = None


@dataclass
class SegmentOut:
    start_ms: int | None
    end_ms: int | None
    words: list[Word]
    aligned: bool


@dataclass
class Result:
    """What an alignment or transcription found."""

    segments: list[SegmentOut]
    #: [{"segments": [positions], "start_ms", "end_ms", "reason"}]: approximate ranges.
    unaligned: list[dict] = field(default_factory=list)
    level: str = "words"
    stats: dict = field(default_factory=dict)


class Audio:
    """The interview's parts as one timeline of 16 kHz samples.

    The decoded samples are spooled to a temporary file (int16), never held whole in
    memory: a task reads the seconds it needs (``clip``), and the MFCC analysis reads a part
    through a memory map (``samples``). A 100-minute interview is 192 MB of samples, which
    the parent process held for the whole run beside its worker processes (issue 14: under
    600 MB for all processes); the page cache, not the process, keeps them near."""

    def __init__(self, parts: Sequence[Part], progress: Progress) -> None:
        self.parts = list(parts)
        self._files: list[tuple[IO[bytes], int]] = []
        for i, part in enumerate(self.parts):
            progress(1 + int(9 * i / max(1, len(self.parts))), f"Decoding part {i + 1}")
            self._files.append(_spool(part.load()))
        self.total_ms = (
            max((p.offset_ms + p.duration_ms for p in self.parts), default=0) if parts else 0
        )

    def close(self) -> None:
        """Delete the spooled samples."""
        for handle, _ in self._files:
            handle.close()
        self._files = []

    def samples(self, index: int) -> np.ndarray:
        """Part ``index``'s samples, memory-mapped read-only (drop the array when done: the
        pages it touched stay in this process's memory while it lives)."""
        handle, count = self._files[index]
        if count == 0:
            return np.zeros(0, dtype=np.int16)
        return np.memmap(handle, dtype=np.int16, mode="r", shape=(count,))

    def clip(self, start_ms: int, end_ms: int) -> Clip:
        """The samples from ``start_ms`` to ``end_ms`` (clamped to the timeline's start)."""
        start_ms = max(0, start_ms)
        return Clip(start_ms, self.slice(start_ms, end_ms))

    def slice(self, start_ms: int, end_ms: int) -> np.ndarray:
        pieces = []
        for part, (handle, count) in zip(self.parts, self._files, strict=True):
            lo = max(start_ms, part.offset_ms) - part.offset_ms
            hi = min(end_ms, part.offset_ms + part.duration_ms) - part.offset_ms
            lo, hi = min(lo * 16, count), min(hi * 16, count)
            if hi > lo:
                data = bytearray(os.pread(handle.fileno(), (hi - lo) * 2, lo * 2))
                pieces.append(np.frombuffer(data, dtype=np.int16))
        return np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int16)


def _spool(loaded: np.ndarray | Iterable[np.ndarray]) -> tuple[IO[bytes], int]:
    """Samples (an array or blocks of one) written to a temporary file: (file, count)."""
    # the file lives as long as the ``Audio`` (closed, and so deleted, by ``Audio.close``)
    handle = tempfile.TemporaryFile(prefix="oralhist-align-")  # noqa: SIM115
    count = 0
    try:
        for block in [loaded] if isinstance(loaded, np.ndarray) else loaded:
            data = np.ascontiguousarray(block, dtype=np.int16).reshape(-1)
            handle.write(data.tobytes())
            count += len(data)
        handle.flush()
    except BaseException:
        handle.close()
        raise
    return handle, count


@dataclass
class Clip:
    """A stretch of the timeline's samples: what one task needs of the audio (a task may
    run in another process, so it is given seconds of audio, never the whole)."""

    start_ms: int
    pcm: np.ndarray

    def slice(self, start_ms: int, end_ms: int) -> np.ndarray:
        lo = max(0, start_ms - self.start_ms) * 16
        hi = max(lo, (end_ms - self.start_ms) * 16)
        return self.pcm[lo:hi]


@functools.lru_cache(maxsize=1)
def _unit_noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal(DITHER_PERIOD).astype(np.float32)


def dither(pcm: np.ndarray, *, offset: int = 0, amount: float | None = None) -> np.ndarray:
    """A copy of ``pcm`` (int16) whose exact zeros hold faint noise (see ``DITHER``); the
    noise at each sample depends only on its place on the timeline (``offset`` + index)."""
    amount = DITHER if amount is None else amount
    out = np.array(pcm, dtype=np.int16)
    silent = np.flatnonzero(out == 0)
    if amount and len(silent):
        noise = _unit_noise()[(silent + offset) % DITHER_PERIOD] * amount
        out[silent] = np.rint(noise)
    return out


def _first_tokens(tokens: Sequence[Token], count: int) -> list[int | None]:
    first: list[int | None] = [None] * count
    for index, token in enumerate(tokens):
        if first[token.segment] is None:
            first[token.segment] = index
    return first


def align(
    segments: Sequence[SegmentIn],
    parts: Sequence[Part],
    engine: Engine,
    progress: Progress,
    *,
    synthesis: bool = False,
    processes: int = 1,
    min_parallel_ms: int = parallel.MIN_PARALLEL_MS,
) -> Result:
    """Align the transcript's segments to the parts' audio (see the module docstring).

    With ``synthesis`` (and an eSpeak NG voice for the engine's language), step (2) starts
    aeneas' way: the DTW of the spoken transcript against the recording gives each segment's
    times, each segment is forced-aligned there, and the recogniser runs only where that
    failed (and, to find speech the transcript lacks, in long pauses).

    With ``processes`` > 1 and at least ``min_parallel_ms`` of audio, the independent pieces
    of work run on that many worker processes (``parallel``), with the same result."""
    tokens = tokenise([s.text for s in segments], engine.known)
    sentences = [[t.key for t in tokens if t.segment == i and t.key] for i in range(len(segments))]
    progress(1, "Preparing the transcript's vocabulary")
    engine.prepare(sentences)
    audio = Audio(parts, progress)
    work = parallel.runner(engine, processes, audio.total_ms, min_ms=min_parallel_ms)
    try:
        result = _align(segments, tokens, audio, engine, work, progress, synthesis)
    finally:
        work.close()
        audio.close()
    result.stats["processes"] = work.processes
    return result


def _align(segments, tokens, audio, engine, work, progress, synthesis) -> Result:
    keys = [t.key for t in tokens]
    total = audio.total_ms

    pinned = anchoring.given_anchors(
        _first_tokens(tokens, len(segments)), [s.start_ms for s in segments]
    )
    heard_all: list[Heard] = []
    anchors: list[Anchor] = []
    voice = _voice(engine.language) if synthesis else None
    if voice is not None:
        anchors, windows = _synthesis_anchors(segments, tokens, audio, work, voice, progress)
        in_place = list(anchors)
    else:
        windows = anchoring.windows_from_given(pinned, len(tokens), total, GIVEN_MARGIN_MS)
    base, span = (30, 30) if voice is not None else (10, 50)
    for (first, last, _, _), heard in zip(
        windows, _recognise(work, audio, windows, progress, base, span), strict=True
    ):
        heard_all.extend(heard)
        window_anchors = anchoring.matching_runs(keys[first : last + 1], heard)
        anchors.extend(
            Anchor(a.token + first, a.start_ms, a.end_ms, a.confidence) for a in window_anchors
        )
    anchors = anchoring.consistent(anchors)
    heard_all.sort(key=lambda h: h.start_ms)

    times: list[tuple[int, int, float | None] | None] = [None] * len(tokens)
    for a in anchors:
        times[a.token] = (a.start_ms, a.end_ms, a.confidence)
    unaligned: list[dict] = []
    pieces = anchoring.chunks(anchors, len(tokens), 0, total)
    c = 0
    while c < len(pieces):
        progress(60 + int(38 * c / max(1, len(pieces))), "Aligning between anchors")
        chunk = pieces[c]
        if voice is not None and all(
            times[i] is not None for i in range(chunk.first, chunk.last + 1) if tokens[i].key
        ):
            c += 1  # every word already aligned where the synthesis put its segment
            continue
        if _align_whole(chunk, tokens, times, work, audio):
            c += 1
            continue
        # A cut where the recogniser heard a pause that is not there splits a word: try the
        # stretch together with the next one before giving up on aligning it whole.
        if c + 1 < len(pieces):
            after = pieces[c + 1]
            joined = anchoring.Gap(chunk.first, after.last, chunk.start_ms, after.end_ms)
            if _align_whole(joined, tokens, times, work, audio):
                c += 2
                continue
        # the stretch does not match its audio as a whole: align between its anchors
        inside = [a for a in anchors if chunk.first <= a.token <= chunk.last]
        for gap in anchoring.gaps(
            inside, chunk.last + 1, chunk.start_ms, chunk.end_ms, chunk.first
        ):
            _fill_gap(gap, tokens, times, work, audio, heard_all, unaligned)
        c += 1

    if voice is not None:
        # a stretch aligned again as a whole (around a segment that did not align in place)
        # keeps the in-place times of the words that had them: a short window fits them best
        for a in in_place:
            if _numeric(times[a.token]):
                times[a.token] = (a.start_ms, a.end_ms, a.confidence)
        heard_all.extend(_recognise_long_spans(times, work, audio))
        heard_all.sort(key=lambda h: h.start_ms)
    _flag_extra_speech(times, heard_all, unaligned)
    _interpolate(tokens, times)
    out = _segments(segments, tokens, times)
    _mark_unaligned_segments(out, unaligned)
    aligned_words = sum(1 for t in times if t is not None and t[0] != "unaligned")
    progress(99, "Writing the proposed version")
    return Result(
        out,
        sorted(unaligned, key=lambda u: u["start_ms"]),
        "words",
        {
            "words": len(tokens),
            "aligned_words": aligned_words,
            "anchors": len(anchors),
            "given_times": len(pinned),
            "audio_ms": total,
            "anchoring": "synthesis" if voice is not None else "recognition",
            "recognised_ms": sum(end - start for _, _, start, end in windows),
        },
    )


def _voice(language: str) -> str | None:
    from . import espeak

    return espeak.voice_for(language)


def _synthesis_anchors(segments, tokens, audio, work, voice, progress):
    """Anchors from the DTW's segment times: each segment forced-aligned in its DTW window
    (widened by ``SYNTHESIS_MARGIN_MS``). Returns the anchors and the windows (first token,
    last token, start ms, end ms) still to recognise: each run of segments that did not align
    there, between the aligned words around it."""
    from . import segments as segment_level
    from .text import spoken_words

    texts = [" ".join(spoken_words(s.text)) for s in segments]
    seg_times, _ = segment_level.segment_times(texts, audio, voice, progress, 10, 10)
    by_segment: dict[int, list[int]] = {}
    for i, token in enumerate(tokens):
        if token.key:
            by_segment.setdefault(token.segment, []).append(i)
    anchors: list[Anchor] = []
    aligned: set[int] = set()
    total = audio.total_ms
    aligned.update(index for index in seg_times if not by_segment.get(index))
    ordered = [index for index in sorted(seg_times) if by_segment.get(index)]
    reach = SYNTHESIS_MARGIN_MS * (SYNTHESIS_WIDEN + 1)

    def tasks():
        for index in ordered:
            start, end = seg_times[index]
            keys = [tokens[i].key for i in by_segment[index]]
            yield audio.clip(start - reach, end + reach), start, end, total, keys

    for n, (index, found) in enumerate(zip(ordered, work.map(_place, tasks()), strict=True)):
        progress(20 + int(10 * n / max(1, len(ordered))), "Aligning each segment in place")
        if found is None:
            continue
        aligned.add(index)
        anchors.extend(
            Anchor(i, h.start_ms, h.end_ms, h.confidence)
            for i, h in zip(by_segment[index], found, strict=True)
        )
    # Where a segment did not align in place the DTW went astray, and its neighbours'
    # windows are suspect too: a short question warped into the pause before it leaves the
    # next answer's window holding the question's speech, and the forced aligner, which must
    # place every word, puts the answer's first words on it (seconds early: the 6 s outlier
    # of bench/results/align-30min-dtw+sphinx-after-dither.json). The neighbours are found
    # again by recognition, with the failed segment.
    spoken = [i for i in range(len(segments)) if by_segment.get(i)]
    suspect = set()
    for k, index in enumerate(spoken):
        if index not in aligned:
            suspect.update(spoken[max(0, k - 1) : k + 2])
    aligned -= suspect
    anchors = [a for a in anchors if tokens[a.token].segment not in suspect]
    anchors = anchoring.consistent(anchors)
    # runs of segments not aligned in place: the recogniser looks for anchors there
    windows = []
    failed = [i for i in range(len(segments)) if i not in aligned and by_segment.get(i)]
    runs: list[list[int]] = []
    for index in failed:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    for run in runs:
        first, last = by_segment[run[0]][0], by_segment[run[-1]][-1]
        before = [a.end_ms for a in anchors if a.token < first]
        after = [a.start_ms for a in anchors if a.token > last]
        start = max(before, default=0)
        end = min(after, default=total)
        if end > start:
            windows.append((first, last, start, end))
    return anchors, windows


def _place(engine, clip: Clip, start: int, end: int, total: int, keys: list[str]):
    """A task: one segment's words forced-aligned where the DTW put it (``start``..``end``),
    widened by ``SYNTHESIS_MARGIN_MS``; an edge a word is pressed against (the window cut
    it) is widened again, up to ``SYNTHESIS_WIDEN`` tries. The words' times, or None."""
    clip = Clip(clip.start_ms, dither(clip.pcm, offset=clip.start_ms * 16))
    lo, hi = max(0, start - SYNTHESIS_MARGIN_MS), min(total, end + SYNTHESIS_MARGIN_MS)
    for _ in range(SYNTHESIS_WIDEN):
        if hi - lo < MIN_MS_PER_WORD * len(keys):
            return None
        found = align_through(engine, clip, lo, hi, keys)
        low_edge = found is not None and lo > 0 and found[0].start_ms <= lo + EDGE_SLACK_MS
        high_edge = found is not None and hi < total and found[-1].end_ms >= hi - EDGE_SLACK_MS
        if found is not None and not low_edge and not high_edge:
            return found
        lo = max(0, lo - SYNTHESIS_MARGIN_MS) if low_edge or found is None else lo
        hi = min(total, hi + SYNTHESIS_MARGIN_MS) if high_edge or found is None else hi
    return None


def _hear(engine, clip: Clip) -> list[Heard]:
    """A task: the words recognised in a clip."""
    return engine.recognise(clip.pcm, clip.start_ms)


def _align_span(engine, clip: Clip, start: int, end: int, keys: list[str]):
    """A task: ``align_through`` on a clip, its exact zeros dithered (``DITHER``)."""
    clip = Clip(clip.start_ms, dither(clip.pcm, offset=clip.start_ms * 16))
    return align_through(engine, clip, start, end, keys)


def _pieces(start_ms: int, end_ms: int) -> list[tuple[int, int]]:
    """``start_ms``..``end_ms`` cut into the recogniser's windows (each one task)."""
    step = RECOGNISE_STEP_MS
    return [(at, min(end_ms, at + step)) for at in range(start_ms, end_ms, step)]


def _recognise_long_spans(times, work, audio) -> list[Heard]:
    """Recognised words in the long pauses and long words of the aligned words (where
    ``_flag_extra_speech`` looks for speech the transcript lacks)."""
    aligned = sorted((t[0], t[1]) for t in times if _numeric(t) and t[2] is not None)
    spans = [(a[1], b[0]) for a, b in itertools.pairwise(aligned) if b[0] - a[1] >= LONG_MS]
    spans += [(s, e) for s, e in aligned if e - s >= LONG_MS]
    tasks = ((audio.clip(a, b),) for start, end in spans for a, b in _pieces(start, end))
    return [h for heard in work.map(_hear, tasks) for h in heard]


def _recognise(work, audio, windows, progress, base, span) -> list[list[Heard]]:
    """The words recognised in each window (first token, last token, start, end)."""
    pieces = [
        (w, a, b) for w, (_, _, start, end) in enumerate(windows) for a, b in _pieces(start, end)
    ]
    heard: list[list[Heard]] = [[] for _ in windows]
    tasks = ((audio.clip(a, b),) for _, a, b in pieces)
    for n, ((w, _, _), found) in enumerate(zip(pieces, work.map(_hear, tasks), strict=True)):
        heard[w].extend(found)
        progress(base + int(span * (n + 1) / len(pieces)), "Finding anchors")
    return heard


def align_through(
    engine: Engine, audio: Audio | Clip, start_ms: int, end_ms: int, keys: Sequence[str]
) -> list[Heard] | None:
    """Every word of ``keys`` aligned in ``start_ms``..``end_ms``, or ``None``.

    When the search ends early (a stretch of unclear speech), the words it found are kept but
    for the last ``RESTART_DROP`` (their ends are unsure) and the rest is aligned again from
    there, as long as each pass gets further.
    """
    found: list[Heard] = []
    cursor = start_ms
    while len(found) < len(keys):
        rest = list(keys[len(found) :])
        part = engine.align(audio.slice(cursor, end_ms), cursor, rest)
        if part is None:
            return None
        if len(part) == len(rest):
            found.extend(part)
            break
        keep = len(part) - RESTART_DROP
        if keep <= 0:
            return None
        found.extend(part[:keep])
        cursor = part[keep - 1].end_ms
    return found


def _align_whole(chunk, tokens, times, work, audio) -> bool:
    """Align every word of a stretch in one pass (with restarts); False when it fails."""
    indexes = [i for i in range(chunk.first, chunk.last + 1) if tokens[i].key]
    if not indexes:
        return True
    if chunk.duration_ms < MIN_MS_PER_WORD * len(indexes):
        return False
    found = work.call(
        _align_span,
        audio.clip(chunk.start_ms, chunk.end_ms),
        chunk.start_ms,
        chunk.end_ms,
        [tokens[i].key for i in indexes],
    )
    if found is None:
        return False
    for i, h in zip(indexes, found, strict=True):
        times[i] = (h.start_ms, h.end_ms, h.confidence)
    return True


def _numeric(t) -> bool:
    return t is not None and t[0] != "unaligned"


def _fill_gap(gap, tokens, times, work, audio, heard_all, unaligned) -> None:
    """Align the words of one stretch between anchors, or mark it unaligned.

    The alignment takes in up to ``CONTEXT_WORDS`` anchored words on each side: a recognised
    anchor's edges are only roughly where the word begins, and the aligner needs the whole
    of every word it is given.
    """
    indexes = [i for i in range(gap.first, gap.last + 1) if tokens[i].key]
    extra = [h for h in heard_all if gap.start_ms <= h.start_ms and h.end_ms <= gap.end_ms]
    if not gap.words:
        if len(extra) >= EXTRA_SPEECH_WORDS:
            unaligned.append(
                {
                    "segments": [],
                    "start_ms": extra[0].start_ms,
                    "end_ms": extra[-1].end_ms,
                    "reason": "speech not in the transcript",
                }
            )
        return
    if not indexes:
        return
    heard_here = gap.duration_ms >= MIN_MS_PER_WORD * len(indexes)
    result = None
    if heard_here:
        left = [
            i
            for i in range(max(0, gap.first - CONTEXT_WORDS), gap.first)
            if tokens[i].key and _numeric(times[i])
        ]
        right = [
            i
            for i in range(gap.last + 1, min(len(tokens), gap.last + 1 + CONTEXT_WORDS))
            if tokens[i].key and _numeric(times[i])
        ]
        for before, after in ((left, right), ([], [])):
            span = before + indexes + after
            start = times[before[0]][0] - EDGE_MS if before else gap.start_ms
            end = times[after[-1]][1] + EDGE_MS if after else gap.end_ms
            start = max(0, start)
            span_keys = [tokens[i].key for i in span]
            result = work.call(_align_span, audio.clip(start, end), start, end, span_keys)
            if result is not None:
                for i, h in zip(span, result, strict=True):
                    times[i] = (h.start_ms, h.end_ms, h.confidence)
                return
    segs = sorted({tokens[i].segment for i in range(gap.first, gap.last + 1)})
    unaligned.append(
        {
            "segments": segs,
            "start_ms": gap.start_ms,
            "end_ms": gap.end_ms,
            "reason": "could not be aligned" if heard_here else "not heard in the audio here",
        }
    )
    for i in range(gap.first, gap.last + 1):
        times[i] = ("unaligned", gap.start_ms, gap.end_ms)


def _flag_extra_speech(times: list, heard: Sequence[Heard], unaligned: list[dict]) -> None:
    """Speech the transcript lacks (an omitted passage, an aside) that a whole-stretch
    alignment passed over as silence, or as one word stretched across it: a pause or a word
    of ``LONG_MS`` or more in the aligned words that holds ``EXTRA_SPEECH_WORDS`` or more
    recognised words is reported with its range."""
    aligned = sorted((t[0], t[1]) for t in times if _numeric(t) and t[2] is not None)
    spans = [(a[1], b[0]) for a, b in itertools.pairwise(aligned) if b[0] - a[1] >= LONG_MS]
    spans += [(s + 300, e) for s, e in aligned if e - s >= LONG_MS]
    known = [(u["start_ms"], u["end_ms"]) for u in unaligned]
    for start, end in sorted(spans):
        inside = [h for h in heard if start <= h.start_ms and h.end_ms <= end]
        if len(inside) < EXTRA_SPEECH_WORDS:
            continue
        lo, hi = inside[0].start_ms, inside[-1].end_ms
        if any(a < hi and lo < b for a, b in known):
            continue
        unaligned.append(
            {"segments": [], "start_ms": lo, "end_ms": hi, "reason": "speech not in the transcript"}
        )
        known.append((lo, hi))


def _interpolate(tokens: Sequence[Token], times: list) -> None:
    """Words the engine cannot pronounce take the time between their aligned neighbours."""
    n = len(tokens)
    i = 0
    while i < n:
        if times[i] is not None:
            i += 1
            continue
        j = i
        while j < n and times[j] is None:
            j += 1
        before = times[i - 1] if i > 0 else None
        after = times[j] if j < n else None
        lo = before[1] if before and before[0] != "unaligned" else None
        hi = after[0] if after and after[0] != "unaligned" else None
        if lo is not None and hi is not None and hi >= lo:
            step = (hi - lo) / (j - i)
            for k in range(i, j):
                times[k] = (round(lo + step * (k - i)), round(lo + step * (k - i + 1)), None)
        i = j


def _segments(segments, tokens, times) -> list[SegmentOut]:
    out = [SegmentOut(None, None, [], False) for _ in segments]
    for token, t in zip(tokens, times, strict=True):
        if t is None or t[0] == "unaligned":
            continue
        seg = out[token.segment]
        seg.words.append(Word(token.text, t[0], t[1], t[2]))
        seg.start_ms = t[0] if seg.start_ms is None else min(seg.start_ms, t[0])
        seg.end_ms = t[1] if seg.end_ms is None else max(seg.end_ms, t[1])
        if t[2] is not None:
            seg.aligned = True
    return out


def _mark_unaligned_segments(out: list[SegmentOut], unaligned: list[dict]) -> None:
    """A segment with no aligned word keeps an approximate range between its neighbours
    (and loses its words: half a segment's word times would mislead)."""
    flagged = {p for u in unaligned for p in u["segments"]}
    for index, seg in enumerate(out):
        if seg.aligned:
            continue
        prev_end = next((s.end_ms for s in reversed(out[:index]) if s.aligned), 0)
        next_start = next((s.start_ms for s in out[index + 1 :] if s.aligned), prev_end)
        seg.start_ms, seg.end_ms = prev_end, max(prev_end, next_start or prev_end)
        seg.words = []
        if index not in flagged:
            unaligned.append(
                {
                    "segments": [index],
                    "start_ms": seg.start_ms,
                    "end_ms": seg.end_ms,
                    "reason": "no alignable words",
                }
            )


def transcribe(parts: Sequence[Part], engine: Engine, progress: Progress) -> Result:
    """A machine draft: large-vocabulary recognition, one segment per pause-separated run of
    words (a pause of a second or more, or 30 words), words below ``LOW_CONFIDENCE`` marked."""
    audio = Audio(parts, progress)
    heard: list[Heard] = []
    step = 60_000
    first = min((p.offset_ms for p in parts), default=0)
    total = audio.total_ms
    try:
        for start in range(first, total, step):
            progress(10 + int(88 * (start - first) / max(1, total - first)), "Recognising speech")
            heard.extend(engine.transcribe(audio.slice(start, min(total, start + step)), start))
    finally:
        audio.close()
    out: list[SegmentOut] = []
    current: list[Word] = []
    for h in heard:
        if current and (h.start_ms - current[-1].end_ms >= 1000 or len(current) >= 30):
            out.append(SegmentOut(current[0].start_ms, current[-1].end_ms, current, True))
            current = []
        current.append(Word(h.key, h.start_ms, h.end_ms, h.confidence))
    if current:
        out.append(SegmentOut(current[0].start_ms, current[-1].end_ms, current, True))
    low = sum(1 for s in out for w in s.words if (w.confidence or 0) < LOW_CONFIDENCE)
    progress(99, "Writing the machine draft")
    stats = {"words": len(heard), "low_confidence": low, "audio_ms": total - first}
    return Result(out, [], "words", stats)


def draft_text(words: Sequence[Word]) -> str:
    """A machine draft segment's text: low-confidence words in double brackets,
    ``[[word?]]``, so a reader sees what to check."""
    return " ".join(
        w.text if (w.confidence or 0) >= LOW_CONFIDENCE else f"[[{w.text}?]]" for w in words
    )
