"""``oralhist align`` and ``oralhist transcribe``: the same alignment and transcription as the
background jobs, run in this process with a progress bar, for an archivist with a backlog.
Each result is a proposed version, as from the page; nothing becomes current by itself."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import exists, select

from ..errors import OralHistError
from ..extensions import db
from ..models import Interview, Recording, Segment, Transcript


def _interview_id(value: str) -> int:
    found = db.session.scalar(select(Interview.id).where(Interview.accession == value))
    if found is None and value.isdigit():
        found = db.session.scalar(select(Interview.id).where(Interview.id == int(value)))
    if found is None:
        raise click.ClickException(f"No interview has the id or accession {value!r}.")
    return found


def untimed_interviews() -> list[int]:
    """Interviews with a recording and a current transcript none of whose segments is timed."""
    timed = exists().where(Segment.transcript_id == Transcript.id, Segment.start_ms.is_not(None))
    return list(
        db.session.scalars(
            select(Transcript.interview_id)
            .where(Transcript.is_current.is_(True), Transcript.segment_count > 0, ~timed)
            .where(exists().where(Recording.interview_id == Transcript.interview_id))
            .order_by(Transcript.interview_id)
        )
    )


def untranscribed_recordings() -> list[int]:
    """Recordings of interviews that have no transcript at all."""
    has = exists().where(Transcript.interview_id == Recording.interview_id)
    return list(db.session.scalars(select(Recording.id).where(~has).order_by(Recording.id)))


def _run(compute, target: int, label: str) -> None:
    from ..transaction import unit_of_work
    from . import runner

    with click.progressbar(length=100, label=label, show_percent=True) as bar:
        state = {"done": 0}

        def progress(percent: int, stage: str) -> None:
            bar.label = f"{label}: {stage}"
            if percent > state["done"]:
                bar.update(percent - state["done"])
                state["done"] = percent

        try:
            computed = compute(target, progress)
            computed.provenance["requested_via"] = "command line"
            with unit_of_work():
                transcript = runner.save(computed, None)
                version, interview_id = transcript.version, transcript.interview_id
            bar.update(100 - state["done"])
        except OralHistError as exc:
            raise click.ClickException(f"{label}: {exc.message}") from None
    unaligned = len(computed.result.unaligned)
    level = computed.provenance.get("level_note")
    click.echo(
        f"{label}: proposed version {version} of interview {interview_id}"
        + (f" ({level})" if level else "")
        + (f", {unaligned} stretch(es) left unaligned" if unaligned else "")
        + ". Check it on its preview page and accept it there."
    )


@click.command("align")
@click.argument("interview", required=False)
@click.option("--all-untimed", is_flag=True, help="Every interview whose transcript has no times.")
@with_appcontext
def align_command(interview: str | None, all_untimed: bool) -> None:
    """Align INTERVIEW's current transcript (id or accession) to its recordings: the result is
    a proposed version with word and segment times."""
    from . import runner

    if bool(interview) == all_untimed:
        raise click.UsageError("Give one INTERVIEW or --all-untimed.")
    targets = untimed_interviews() if all_untimed else [_interview_id(interview)]
    db.session.rollback()
    if not targets:
        click.echo("No interview has an untimed transcript and a recording.")
    for target in targets:
        _run(runner.compute_alignment, target, f"Interview {target}")


@click.command("transcribe")
@click.argument("recording", required=False, type=int)
@click.option(
    "--all-untranscribed", is_flag=True, help="Every recording of an interview with no transcript."
)
@with_appcontext
def transcribe_command(recording: int | None, all_untranscribed: bool) -> None:
    """Make a machine draft transcript of RECORDING (its id): slow and rough, a proposed
    version to correct. Importing a Whisper JSON made elsewhere gives a better draft."""
    from . import runner

    if (recording is None) == (not all_untranscribed):
        raise click.UsageError("Give one RECORDING or --all-untranscribed.")
    targets = untranscribed_recordings() if all_untranscribed else [recording]
    db.session.rollback()
    if not targets:
        click.echo("Every interview with a recording has a transcript.")
    for target in targets:
        _run(runner.compute_transcription, target, f"Recording {target}")


COMMANDS = (align_command, transcribe_command)
