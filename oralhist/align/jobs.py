"""The ``align`` and ``transcribe`` background jobs (listed in ``jobs.HANDLER_MODULES``).

Each computes with no transaction held (``runner``), reports progress (which also notices a
cancel), and writes its proposed version inside ``ctx.finish()``: the version and the job's
``done`` status in one commit, so a job taken over by another worker after a crash never
stores two versions.
"""

from __future__ import annotations

from .. import jobs
from ..models import Job
from ..services import alignment
from . import runner


@jobs.handler(alignment.ALIGN, exclusive=True, title="Aligning the transcript to the audio")
def run_align(job: Job, ctx: jobs.JobContext) -> None:
    """Align the interview's current transcript; the result is a proposed version."""
    computed = runner.compute_alignment(
        job.interview_id, ctx.progress, requested_by_id=job.created_by_id, job_id=job.id
    )
    with ctx.finish() as done:
        transcript = runner.save(computed, job.created_by_id)
        done.result = runner.summary(computed, transcript)


@jobs.handler(
    alignment.TRANSCRIBE, exclusive=True, title="Transcribing the recording (machine draft)"
)
def run_transcribe(job: Job, ctx: jobs.JobContext) -> None:
    """Recognise one recording part; the machine draft is a proposed version."""
    computed = runner.compute_transcription(
        job.recording_id, ctx.progress, requested_by_id=job.created_by_id, job_id=job.id
    )
    with ctx.finish() as done:
        transcript = runner.save(computed, job.created_by_id)
        done.result = runner.summary(computed, transcript)
