"""One alignment or transcription, from the database to a result and back, shared by the
background jobs (``align.jobs``) and the command line (``oralhist align``/``transcribe``).

``compute_*`` read what they need, end the read (no transaction is held while the engine
runs: an hour of audio takes minutes), and return plain data; ``save_*`` write the proposed
version and must run inside the caller's unit of work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import NotFound, ValidationError
from ..extensions import db
from ..models import Recording, Transcript
from ..services import alignment
from ..services.recordings import storage
from . import anchoring, audio, dtw, espeak, parallel, pipeline, segments, sphinx

Progress = Callable[[int, str], None]


@dataclass
class Computed:
    kind: str
    result: pipeline.Result
    provenance: dict[str, Any]
    data: alignment.AlignInput | None = None
    interview_id: int | None = None
    recording_id: int | None = None


def _loader(key: str):
    def load():
        with storage().open(key) as handle:
            yield from audio.blocks(handle)

    return load


def _processes() -> int:
    """``ALIGN_PROCESSES`` (0: every CPU this process may use)."""
    from flask import current_app

    return parallel.processes_for(current_app.config.get("ALIGN_PROCESSES"))


def engine_for(language: str) -> sphinx.PocketSphinx:
    """The engine for the language, or a 422 that says no model exists for it."""
    model = sphinx.find_model(language, alignment.configured_models())
    if model is None:
        raise ValidationError(
            f"No alignment: no acoustic model for {sphinx.language_name(language)} "
            f"({language}), and eSpeak NG does not speak it (so not even segment times). The "
            "English model is never used for another language; an operator can set "
            "ALIGN_MODELS to a PocketSphinx model folder for it.",
            fields={"language": "no acoustic model"},
        )
    return sphinx.PocketSphinx(model)


def _provenance(engine, kind: str, language: str, requested_by_id, job_id) -> dict[str, Any]:
    return {
        "kind": kind,
        "job_id": job_id,
        "requested_by_id": requested_by_id,
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": engine.name,
        "engine_version": engine.version,
        "model": engine.model,
        "language": language,
        "settings": {
            **engine.settings,
            "min_anchor_run": anchoring.MIN_RUN,
            "context_words": pipeline.CONTEXT_WORDS,
            "given_margin_ms": pipeline.GIVEN_MARGIN_MS,
            "low_confidence_below": pipeline.LOW_CONFIDENCE,
            "dither": pipeline.DITHER,
        },
    }


def _synthesis_provenance(language: str, voice: str, requested_by_id, job_id) -> dict[str, Any]:
    return {
        "kind": alignment.ALIGN,
        "job_id": job_id,
        "requested_by_id": requested_by_id,
        "made_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "engine": "espeak-ng + mfcc + banded dtw",
        "engine_version": espeak.version(),
        "model": f"eSpeak NG voice {voice}",
        "language": language,
        "settings": {
            "window_ms": dtw.WINDOW_MS,
            "hop_ms": dtw.HOP_MS,
            "coefficients": dtw.COEFFICIENTS,
            "coarse_factor": dtw.COARSE,
            "band_share": dtw.BAND_SHARE,
            "min_band_ms": dtw.MIN_BAND_MS,
            "fine_radius_frames": dtw.FINE_RADIUS,
            "pad_ms": segments.PAD_MS,
        },
    }


def compute_alignment(
    interview_id: int, progress: Progress, *, requested_by_id=None, job_id=None
) -> Computed:
    """Word and segment times where an acoustic model exists for the transcript's language;
    otherwise segment times only, aeneas' way, when eSpeak NG speaks it; otherwise a 422."""
    data = alignment.align_input(interview_id)
    db.session.rollback()  # no transaction held during the computation
    parts = [pipeline.Part(p.offset_ms, p.duration_ms, _loader(p.storage_key)) for p in data.parts]
    segs = [pipeline.SegmentIn(t, s) for t, s in zip(data.texts, data.starts, strict=True)]
    if sphinx.find_model(data.language, alignment.configured_models()) is None:
        voice = espeak.voice_for(data.language)
        if voice is None:
            engine_for(data.language)  # raises: says that no model exists
        name = sphinx.language_name(data.language)
        result = segments.align_segments(segs, parts, voice, progress)
        provenance = _synthesis_provenance(data.language, voice, requested_by_id, job_id)
        level_note = f"segment times only: no acoustic model for {name}"
    else:
        # aeneas' way first where eSpeak NG speaks the language: each segment is aligned
        # where the DTW puts it and the recogniser runs only where that fails (faster, as
        # accurate: bench/results/align-30min-dtw+sphinx.json)
        synthesis = espeak.voice_for(data.language) is not None
        with engine_for(data.language) as engine:
            result = pipeline.align(
                segs, parts, engine, progress, synthesis=synthesis, processes=_processes()
            )
            provenance = _provenance(
                engine, alignment.ALIGN, data.language, requested_by_id, job_id
            )
        provenance["settings"]["anchoring"] = result.stats.get("anchoring")
        if synthesis:
            provenance["settings"].update(
                synthesis_engine=f"espeak-ng (espeakng-loader {espeak.version()})",
                synthesis_margin_ms=pipeline.SYNTHESIS_MARGIN_MS,
            )
        level_note = "word and segment times"
    provenance.update(
        base_version=data.base_version,
        level=result.level,
        level_note=level_note,
        unaligned=result.unaligned,
        stats=result.stats,
    )
    return Computed(alignment.ALIGN, result, provenance, data=data, interview_id=interview_id)


def compute_transcription(
    recording_id: int, progress: Progress, *, requested_by_id=None, job_id=None
) -> Computed:
    recording = db.session.get(Recording, recording_id)
    if recording is None:
        raise NotFound(f"Recording {recording_id} no longer exists.")
    interview_id = recording.interview_id
    language = recording.interview.language or "en"
    # times on the interview's timeline: the part starts where the parts before it end
    spec = next(
        p for p in alignment.parts_of(recording.interview) if p.recording_id == recording_id
    )
    part = pipeline.Part(spec.offset_ms, spec.duration_ms, _loader(spec.storage_key))
    db.session.rollback()
    with engine_for(language) as engine:
        result = pipeline.transcribe([part], engine, progress)
        provenance = _provenance(engine, alignment.TRANSCRIBE, language, requested_by_id, job_id)
    provenance.update(
        recording_id=recording_id,
        machine_draft=True,
        level="words",
        level_note="machine draft: recognised words with their times and confidence",
        note=alignment.WHISPER_ADVICE,
        stats=result.stats,
        low_confidence_below=pipeline.LOW_CONFIDENCE,
    )
    return Computed(
        alignment.TRANSCRIBE,
        result,
        provenance,
        interview_id=interview_id,
        recording_id=recording_id,
    )


def save(computed: Computed, user_id: int | None) -> Transcript:
    """Write the proposed version (inside the caller's unit of work)."""
    if computed.kind == alignment.ALIGN:
        return alignment.save_aligned(computed.data, computed.result, computed.provenance, user_id)
    return alignment.save_transcribed(
        computed.interview_id,
        computed.recording_id,
        computed.result,
        computed.provenance,
        user_id,
    )


def summary(computed: Computed, transcript: Transcript) -> dict[str, Any]:
    """The job's ``result``: names the proposed ``version``."""
    from ..services import notify

    stats = computed.result.stats
    path, _ = notify.link(
        "alignment.preview", interview_id=transcript.interview_id, version=transcript.version
    )
    data = {
        "version": transcript.version,
        "url": path,
        "interview_id": transcript.interview_id,
        "level": computed.result.level,
        "segments": len(computed.result.segments),
    }
    if computed.kind == alignment.ALIGN:
        data.update(unaligned=len(computed.result.unaligned))
        if computed.result.level == "words":
            data.update(aligned_words=stats["aligned_words"], words=stats["words"])
        else:
            data.update(aligned_segments=stats["aligned_segments"])
    else:
        data.update(machine_draft=True, low_confidence=stats["low_confidence"])
    return data
