"""The ``oralhist`` command (also available as ``flask --app oralhist ...``).

Run from the project folder: it works on ``instance/`` and ``media/`` there, or where the
configuration (``instance/config.py``, ``OH_`` environment variables) says.
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext


def _write_secret_key(instance: Path) -> bool:
    config_file = instance / "config.py"
    existing = config_file.read_text() if config_file.exists() else ""
    if "SECRET_KEY" in existing:
        return False
    with config_file.open("a") as fh:
        fh.write(
            "# Written once by `oralhist init`. Keep it secret; changing it signs everyone out.\n"
            f"SECRET_KEY = {secrets.token_hex(32)!r}\n"
        )
    os.chmod(config_file, 0o600)
    return True


def _write_public_base_url(instance: Path, url: str) -> bool:
    """Add PUBLIC_BASE_URL to instance/config.py unless it is there already."""
    config_file = instance / "config.py"
    existing = config_file.read_text() if config_file.exists() else ""
    if "PUBLIC_BASE_URL" in existing:
        return False
    with config_file.open("a") as fh:
        fh.write(
            "# The address people use to reach the archive: every absolute link (mail) starts\n"
            "# with it, and requests naming another host are refused (see TRUSTED_HOSTS).\n"
            "# Change it when the archive is served elsewhere, e.g. 'https://archive.example.org'.\n"
            f"PUBLIC_BASE_URL = {url!r}\n"
        )
    os.chmod(config_file, 0o600)
    return True


@click.command("init")
@click.option(
    "--public-url",
    default="http://127.0.0.1:5000",
    show_default=True,
    help="The archive's public address, written once to instance/config.py as "
    "PUBLIC_BASE_URL (absolute links in mail use it; other Host names are refused).",
)
@with_appcontext
def init_command(public_url: str) -> None:
    """Create instance/ (database via migrations, secret key, public address, search index)
    and media/, and remove temporary files of uploads cut off by a crash.

    Safe to run again: it only adds what is missing and applies new migrations.
    """
    from flask_migrate import upgrade

    from .search.backend import index_location
    from .services import indexing

    app = current_app
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    if _write_secret_key(instance):
        click.echo(f"Wrote a new secret key to {instance / 'config.py'}")
    if not app.config.get("PUBLIC_BASE_URL") and _write_public_base_url(instance, public_url):
        click.echo(f"Wrote PUBLIC_BASE_URL = {public_url!r} to {instance / 'config.py'}")
    for folder in (app.config["MEDIA_ROOT"], app.config["OUTBOX_DIR"]):
        Path(folder).mkdir(parents=True, exist_ok=True)
    upgrade(directory=app.extensions["migrate"].directory)
    click.echo(f"Database is up to date: {_safe_url(app.config['SQLALCHEMY_DATABASE_URI'])}")
    index = indexing.search_index()
    if not index.exists():
        index.create()
        click.echo(f"Created the search index in {index_location(app.config)}")
    _sweep_abandoned_uploads()
    _forget_old_sign_in_counts()
    indexing.startup_check(echo=click.echo)
    command = how_to_run()
    click.echo(f"Ready. Next: `{command} create-user EMAIL --role admin`, then `{command} serve`.")
    if command != "oralhist":
        click.echo(
            "(`oralhist` alone is not on your PATH: type the path above, or first "
            f"`source {Path(command).parent / 'activate'}` to use plain `oralhist`.)"
        )


def how_to_run() -> str:
    """How the person who ran this command can run ``oralhist`` again from where they are:
    plain ``oralhist`` when the PATH finds this same program, else its path (``.venv/bin/
    oralhist`` from the project folder). ``init`` used to say "Next: oralhist create-user"
    while ``oralhist`` was not on the PATH (it lives in the project's .venv)."""
    import shutil

    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is None or script.name != "oralhist":
        # Run as `flask --app oralhist ...` or `python -m ...`: the venv's script is beside
        # the interpreter.
        script = Path(sys.executable).parent / "oralhist"
    found = shutil.which("oralhist")
    if found and script.exists() and Path(found).resolve() == script.resolve():
        return "oralhist"
    try:
        return str(script.absolute().relative_to(Path.cwd()))
    except ValueError:
        return str(script.absolute())


def _sweep_abandoned_uploads() -> None:
    """Remove temporary files of uploads whose process was killed (never those of uploads
    still arriving in a live process), and say so."""
    from .services import deposit
    from .services.recordings import storage
    from .transaction import unit_of_work

    removed = storage().sweep_temp()
    if removed:
        total = sum(int(item["size"]) for item in removed)
        click.echo(
            f"Removed {len(removed)} temporary files ({total} bytes) of uploads cut off by a crash."
        )
    with unit_of_work():
        dropped = deposit.sweep_staged()
    if dropped:
        click.echo(
            f"Removed {dropped} audio files uploaded for deposits never submitted "
            f"(kept {deposit.staged_hours()} hours)."
        )


def _forget_old_sign_in_counts() -> None:
    """Drop sign-in failure counts that no longer lock anything (services.throttle)."""
    from .services import throttle

    throttle.forget_old()


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@click.command("create-user")
@click.argument("email")
@click.option(
    "--role",
    type=click.Choice(["researcher", "contributor", "archivist", "admin"]),
    default="researcher",
    show_default=True,
    help="researcher < contributor < archivist < admin",
)
@click.option("--name", default="", help="The name shown in the archive.")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="Asked for when omitted (at least 10 characters).",
)
@with_appcontext
def create_user_command(email: str, role: str, name: str, password: str) -> None:
    """Create an account with the given role (the way to make the first archivist)."""
    from .errors import OralHistError
    from .services import accounts
    from .transaction import unit_of_work

    try:
        with unit_of_work():
            user = accounts.create_user(email, password, role=role, name=name)
    except OralHistError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@click.command("create-token")
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="A label for the token.")
@with_appcontext
def create_token_command(email: str, name: str) -> None:
    """Make a personal API token for EMAIL and print it as the last line.

    Use it as `Authorization: Bearer TOKEN`. It is shown once; only its hash is stored.
    """
    from .errors import OralHistError
    from .services import accounts
    from .transaction import unit_of_work

    try:
        with unit_of_work():
            user = accounts.find_user(email)
            secret = accounts.create_token(user, name)
    except OralHistError as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"New API token for {user.email} (shown once):")
    click.echo(secret)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--threads",
    default=8,
    show_default=True,
    type=int,
    help="Threads per worker: requests served at once by each (gthread workers).",
)
@click.option(
    "--timeout",
    default=60,
    show_default=True,
    type=int,
    help="Seconds a silent worker may take before gunicorn restarts it.",
)
@click.option(
    "--keepalive",
    default=5,
    show_default=True,
    type=int,
    help="Seconds an idle kept-alive connection waits for its next request.",
)
@click.option(
    "--body-timeout",
    default=30,
    show_default=True,
    type=int,
    help="Seconds one read of a request body may wait for the client: a body sent slowly "
    "or not at all then ends with 400 instead of holding a thread (BODY_READ_TIMEOUT_S).",
)
@click.option(
    "--graceful-timeout",
    default=30,
    show_default=True,
    type=int,
    help="Seconds running requests get to finish on stop or restart.",
)
@click.option(
    "--no-indexer",
    is_flag=True,
    help="Do not start the background worker (run `oralhist worker` yourself).",
)
def serve_command(
    host: str,
    port: int,
    workers: int,
    threads: int,
    timeout: int,
    keepalive: int,
    body_timeout: int,
    graceful_timeout: int,
    no_indexer: bool,
) -> None:
    """Serve the archive with gunicorn (a production WSGI server), not the debug server,
    and start the background worker (`oralhist worker`) beside it: it applies the search
    index work the web requests leave, so no request waits for the index.

    gthread workers: each worker process serves --threads requests at once, while idle and
    slow-starting connections wait in the worker's poller, not in a thread. Requests that
    cannot succeed are refused before their body is read, and every body read is bounded by
    --body-timeout. In production, put a buffering reverse proxy (nginx) in front: see the
    README's "Production" section.
    """
    import subprocess

    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "oralhist.serving.Worker")  # gthread, see there
            self.cfg.set("timeout", timeout)
            self.cfg.set("graceful_timeout", graceful_timeout)
            self.cfg.set("keepalive", keepalive)
            self.cfg.set("accesslog", "-")

        def load(self):
            from . import create_app

            return create_app({"BODY_READ_TIMEOUT_S": body_timeout})

    from . import create_app
    from .services import indexing

    with create_app().app_context():
        _sweep_abandoned_uploads()
        _forget_old_sign_in_counts()
        indexing.startup_check(echo=click.echo)
    indexer = None
    if not no_indexer:
        indexer = subprocess.Popen([sys.executable, "-m", "oralhist.cli", "worker"])
        click.echo(f"Started the background worker (pid {indexer.pid}).")
    click.echo(f"Serving oralhist on http://{host}:{port} (Ctrl-C to stop)")
    try:
        Server().run()
    finally:
        if indexer is not None and indexer.poll() is None:
            indexer.terminate()
            try:
                indexer.wait(timeout=30)
            except subprocess.TimeoutExpired:
                indexer.kill()


@click.command("worker")
@click.option(
    "--once", is_flag=True, help="Run every duty and every queued job once, then exit (cron)."
)
@click.option(
    "--jobs-only",
    is_flag=True,
    help="Run background jobs only, not the index: for more workers, on this or other hosts "
    "sharing the database (any number may run).",
)
@with_appcontext
def worker_command(once: bool, jobs_only: bool) -> None:
    """Run the background worker: the one writer of the search index, and a runner of
    background jobs (alignment, transcription, derivatives) in a thread beside it.

    It applies the index work that changes leave in the database (polling it every
    WORKER_POLL_SECONDS), compares the index's access fields with the database at start and
    every WORKER_CONSISTENCY_SECONDS (repairing any drift), and stores the expiry of
    approvals hourly. `oralhist serve` starts one; a second one for the same instance is
    refused. Stop it with Ctrl-C or SIGTERM: it finishes the batch it is writing, and a
    running job goes back to the queue (another worker, or the next start, runs it).
    """
    from .worker import Worker, WorkerRunning

    worker = Worker(current_app._get_current_object(), echo=click.echo, jobs_only=jobs_only)
    try:
        worker.acquire()
    except WorkerRunning as exc:
        raise click.ClickException(exc.message) from None
    try:
        worker.handle_signals()
        if not once:
            click.echo(f"oralhist worker (pid {os.getpid()}) is running.")
        worker.run(once=once)
    finally:
        worker.release()


@click.group("jobs")
def jobs_group() -> None:
    """Background jobs (alignment, transcription, derivatives): list, cancel, retry."""


@jobs_group.command("list")
@click.option(
    "--status",
    type=click.Choice(["queued", "running", "done", "failed", "cancelled", "active"]),
    help="Only jobs in this status (active: queued or running).",
)
@click.option("--interview", "interview_id", type=int, help="Only this interview's jobs.")
@click.option("--limit", default=50, show_default=True, type=int, help="At most this many.")
@with_appcontext
def jobs_list_command(status: str | None, interview_id: int | None, limit: int) -> None:
    """List jobs, newest first: id, status, progress, kind, interview, stage or error."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Job
    from .models.job import ACTIVE_STATUSES

    stmt = select(Job).order_by(Job.id.desc()).limit(limit)
    if status == "active":
        stmt = stmt.where(Job.status.in_(ACTIVE_STATUSES))
    elif status:
        stmt = stmt.where(Job.status == status)
    if interview_id is not None:
        stmt = stmt.where(Job.interview_id == interview_id)
    rows = db.session.scalars(stmt).all()
    if not rows:
        click.echo("No jobs.")
    for job in rows:
        target = f"interview {job.interview_id}" if job.interview_id else "-"
        if job.recording_id:
            target += f" recording {job.recording_id}"
        said = job.error if job.status == "failed" else job.stage
        click.echo(
            f"{job.id:>6}  {job.status:<9} {job.progress:>3}%  {job.kind:<14} {target:<24} {said}"
        )


@jobs_group.command("cancel")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_cancel_command(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    from . import jobs
    from .errors import OralHistError
    from .extensions import db
    from .models import Job
    from .transaction import unit_of_work

    with unit_of_work():
        job = db.session.get(Job, job_id)
        if job is None:
            raise click.ClickException(f"There is no job {job_id}.")
        try:
            job = jobs.cancel(job)
        except OralHistError as exc:
            raise click.ClickException(exc.message) from None
        said = "cancelled" if job.status == "cancelled" else "asked to stop"
    click.echo(f"Job {job_id} {said}.")


@jobs_group.command("retry")
@click.argument("job_id", type=int)
@with_appcontext
def jobs_retry_command(job_id: int) -> None:
    """Queue a failed or cancelled job again (a new job with the same settings)."""
    from . import jobs
    from .errors import OralHistError
    from .extensions import db
    from .models import Job
    from .transaction import unit_of_work

    with unit_of_work():
        job = db.session.get(Job, job_id)
        if job is None:
            raise click.ClickException(f"There is no job {job_id}.")
        try:
            new = jobs.retry(job)
        except OralHistError as exc:
            raise click.ClickException(exc.message) from None
        new_id = new.id
    click.echo(f"Job {job_id} queued again as job {new_id}.")


@click.group("derivatives")
def derivatives_group() -> None:
    """Access copies and waveforms made from the masters."""


@derivatives_group.command("make")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["access", "waveform"]),
    help="Only this kind (repeatable); default: every kind a master gets at ingest.",
)
@with_appcontext
def derivatives_make_command(kinds: tuple[str, ...]) -> None:
    """Queue the derivatives any recording lacks (an archive made before they existed, or
    before a recipe changed: those made by the older recipe are forgotten); `oralhist worker`
    makes them."""
    from functools import partial

    from . import transaction
    from .media import derivatives
    from .services.recordings import remove_unused_files
    from .transaction import unit_of_work

    with unit_of_work():
        queued = derivatives.request_missing(kinds or derivatives.AT_INGEST)
        ids = [job.id for job in queued]
        outdated = derivatives.forget_outdated()
        transaction.on_commit(partial(remove_unused_files, outdated))
    if outdated:
        click.echo(f"{len(outdated)} derivatives made by an older recipe forgotten.")
    if ids:
        click.echo(f"{len(ids)} jobs queued or already running: {', '.join(map(str, ids))}.")
    else:
        click.echo("Every recording has its derivatives.")


@click.command("load-sample")
@click.option("--if-empty", is_flag=True, help="Do nothing when the archive has interviews.")
@with_appcontext
def load_sample_command(if_empty: bool) -> None:
    """Load the small, fictional sample archive (collection, people, interviews, audio,
    transcript, a document and its passage links)."""
    from .services import sample
    from .transaction import unit_of_work

    if if_empty and sample.archive_has_interviews():
        click.echo("The archive has interviews already; the sample is not loaded.")
        return
    with unit_of_work():
        summary = sample.load_sample()
    click.echo(summary)


@click.command("reindex")
@click.option("--pending", is_flag=True, help="Only apply queued index work, do not rebuild.")
@click.option(
    "--check",
    is_flag=True,
    help="Compare the index's access fields (level, embargo, status, owner) per interview "
    "with the database; queue and apply a reindex of those that drifted. Exits 1 on drift.",
)
@with_appcontext
def reindex_command(pending: bool, check: bool) -> None:
    """Rebuild the search index from the database (the database is the source of truth).

    The index stays searchable while it is rebuilt, and edits are not held up (the
    background worker applies them once the new index is in place). Only one rebuild runs
    at a time: a second one is refused at once.
    """
    from sqlalchemy import func, select

    from .extensions import db
    from .models import Interview
    from .search import IndexUnavailable
    from .services import indexing
    from .transaction import unit_of_work

    if pending:
        click.echo(f"Applied {indexing.process_pending()} queued index tasks.")
        return
    if check:
        try:
            with unit_of_work():
                drift = indexing.check_consistency(repair=True)
        except IndexUnavailable as exc:
            raise click.ClickException(exc.message) from None
        click.echo(str(drift))
        if drift.interviews:
            click.echo(f"Reindexed {len(drift.interviews)} interviews.")
            indexing.process_pending()
            sys.exit(1)
        return
    if indexing.search_index().rebuild_running():
        raise click.ClickException(
            "Another rebuild of the search index is running; wait for it to finish."
            " The index stays searchable meanwhile."
        )
    total = db.session.scalar(select(func.count()).select_from(Interview)) or 0
    try:
        with click.progressbar(length=total, label="Indexing interviews") as bar:
            stats = indexing.rebuild(progress=bar.update)
    except IndexUnavailable as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Indexed {stats}.")


@click.command("fixity")
@click.option("--quiet", is_flag=True, help="Print only failures and the summary.")
@with_appcontext
def fixity_command(quiet: bool) -> None:
    """Re-read every stored file that a recording or document uses, compare its sha256 with
    the one recorded at ingest, and report missing, changed and orphan files (stored files no
    row uses). Also removes the temporary files of uploads whose process was killed, and
    lists them. Writes the result for the archivist's fixity page; exits 1 when any fail."""
    from .services import fixity
    from .transaction import unit_of_work

    total = fixity.files_to_check()
    with unit_of_work(), click.progressbar(length=total, label="Checking files") as bar:
        check = fixity.run_fixity_check(progress=bar.update)
    report = check.report
    for kind in ("missing", "changed", "orphans"):
        for item in report[kind]:
            used = ", ".join(item.get("used_by", [])) or "no row"
            click.echo(f"{kind.upper().rstrip('S')}: {item['key']} ({used})", err=True)
    abandoned = report.get("abandoned_uploads", [])
    for item in abandoned:
        click.echo(
            f"ABANDONED UPLOAD: tmp/{item['name']} ({item['size']} bytes of an upload whose "
            "process is gone), removed"
        )
    if not quiet or check.failures:
        click.echo(
            f"Checked {check.checked} files: {len(report['missing'])} missing, "
            f"{len(report['changed'])} changed, {len(report['orphans'])} orphans; "
            f"{len(abandoned)} abandoned upload files removed."
        )
    if check.failures:
        sys.exit(1)


@click.command("export")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--include-media/--no-media",
    default=True,
    show_default=True,
    help="Copy the recordings and attached files into DEST/media/ (verifying each sha256), "
    "or list them only.",
)
@click.option("--force", is_flag=True, help="Write into DEST even when it is not empty.")
@click.option(
    "--bag",
    is_flag=True,
    help="Write DEST as a BagIt 1.0 bag (payload in DEST/data/, sha256 and sha512 manifests, "
    "bag-info.txt) for preservation systems; validated after writing.",
)
@click.option("--interview", "interview_id", type=int, help="Only this interview (by id).")
@click.option("--collection", "collection_slug", help="Only this collection's interviews.")
@with_appcontext
def export_command(
    dest: Path,
    include_media: bool,
    force: bool,
    bag: bool,
    interview_id: int | None,
    collection_slug: str | None,
) -> None:
    """Export the whole archive to the folder DEST, for another oralhist (`oralhist import`)
    and for people to read.

    DEST gets manifest.json (collections, people, interviews with their participants,
    recordings, transcript versions, speakers and index, documents, passage links),
    README.txt, transcripts/<accession>.vtt (.txt when untimed; earlier versions as
    <accession>.v<N>.vtt) and, with media, media/<sha256>.

    With --bag, DEST is a BagIt bag (RFC 8493) holding the same files under DEST/data/,
    with sha256 and sha512 manifests and bag-info.txt (Source-Organization, Bagging-Date,
    External-Identifier: the accession or collection slug, Payload-Oxum); `oralhist import`
    takes it back after validating every checksum. --interview ID or --collection SLUG
    limits the export to those interviews, their linked documents and the people named.

    WARNING: this is an archivist's export. It contains EVERYTHING, regardless of access
    level: drafts, restricted, closed and embargoed interviews and documents. Store and
    share it as carefully as the archive itself.
    """
    from .errors import OralHistError
    from .services.archive import bag as bags
    from .services.archive import export
    from .transaction import unit_of_work

    if interview_id is not None and collection_slug is not None:
        raise click.UsageError("Give --interview or --collection, not both.")
    if bag and not include_media:
        raise click.UsageError("A bag holds the files themselves: --bag needs the media.")
    try:
        export.check_destination(dest, force=force)
        ids, identifier = bags.scope(interview_id, collection_slug)
        with (
            unit_of_work(),  # the audit event of the export
            click.progressbar(length=export.export_steps(ids), label="Exporting") as bar,
        ):
            if bag:
                bagged = bags.export_bag(
                    dest, interview_ids=ids, external_identifier=identifier, progress=bar.update
                )
                summary = bagged.export
            else:
                summary = export.export_archive(
                    dest, include_media=include_media, progress=bar.update, interview_ids=ids
                )
    except OralHistError as exc:
        raise click.ClickException(exc.message) from None
    for warning in summary.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Exported {summary} to {dest}.")
    if bag:
        click.echo(
            f"It is a valid BagIt bag ({bagged.external_identifier}, "
            f"Payload-Oxum {bagged.payload_oxum}); check it with: bagit.py --validate {dest}"
        )
    click.echo("It contains restricted and closed material: keep it safe.")


@click.command("import")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check everything and say what would be created.")
@click.option(
    "--publish",
    is_flag=True,
    help="Publish every imported interview (default: as the manifest's "
    "status says; drafts when it says nothing).",
)
@with_appcontext
def import_command(path: Path, dry_run: bool, publish: bool) -> None:
    """Import interviews, people, collections, recordings, transcripts, documents and passage
    links from the folder PATH, described by PATH/manifest.json.

    PATH may also be a BagIt bag (`oralhist export --bag`): the whole bag is validated
    first (every file present, none extra, every sha256/sha512 matching), and one changed
    byte refuses the import, naming the file, before anything is read or written.

    The manifest is what `oralhist export` writes, or a hand-written one (see
    docs/manifest-example.json): only each interview's "title" is required; file paths are
    relative to PATH and may not leave it. Everything is checked first (JSON, unknown keys,
    fields, files, accessions already in use, transcripts parsed, audio probed) and every
    problem is listed with its item and field. Only a fully valid manifest is imported, in
    one transaction: all or nothing. People are matched to existing ones by name and
    collections by slug or title, not duplicated. Runs as an archivist.
    """
    from sqlalchemy.exc import IntegrityError, OperationalError

    from .errors import OralHistError
    from .services.archive import apply, manifest, planner
    from .services.archive import bag as bags
    from .transaction import unit_of_work

    if bags.is_bag(path):
        try:
            path = bags.check_bag(path)
        except OralHistError as exc:
            for problem in exc.details.get("problems", []):
                click.echo(f"  {problem}", err=True)
            raise click.ClickException(exc.message) from None
        click.echo(f"The bag is valid: every checksum matches. Importing from {path}.")
    try:
        with click.progressbar(length=planner.count_files(path), label="Checking files") as bar:
            plan = planner.plan_import(path, publish=publish, progress=bar.update)
    except manifest.ManifestProblems as exc:
        for problem in exc.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(f"{path / manifest.MANIFEST}: {exc.message}") from None
    for warning in plan.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if dry_run:
        click.echo("The manifest is valid. An import would create:")
        for line in plan.describe():
            click.echo(f"  {line}")
        click.echo("Nothing was imported (--dry-run).")
        return
    try:
        with (
            unit_of_work(),
            click.progressbar(length=plan.steps, label="Importing") as bar,
        ):
            summary = apply.apply_import(plan, progress=bar.update)
    except OralHistError as exc:
        raise click.ClickException(f"Nothing was imported: {exc.message}") from None
    except (IntegrityError, OperationalError) as exc:
        # Another import (or an edit) stored the same thing between our checks and our
        # writes; all_or_nothing has rolled back. Say so instead of a driver traceback.
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise click.ClickException(
            "Nothing was imported: the archive changed while this import ran (another import "
            f"at the same time?): {reason}. Run it again; it checks everything first."
        ) from None
    click.echo(f"{summary} ({', '.join(summary.interviews)})" if summary.interviews else summary)


class NoArchive(click.ClickException):
    """The command was run where there is no archive (outside the project folder, or before
    ``oralhist init``): one line saying where it looked and how to point it elsewhere."""


def where_to_point(app) -> str:
    """The one sentence every 'no archive here' message ends with."""
    return (
        "Run it in the project folder (the one holding instance/), or point it at the "
        "archive: `oralhist --instance PATH/instance ...` or OH_INSTANCE_PATH=PATH/instance "
        "(`oralhist init` creates a new archive here)."
    )


def check_archive(app) -> None:
    """Refuse, in one clear line, to run a command on an archive that is not there.

    Without this, ``oralhist create-token`` run outside the project folder printed a 147-line
    SQLAlchemy traceback (SQLite cannot open ``instance/oralhist.sqlite3`` under a folder
    that does not exist; where the folder exists it would even create an empty database)."""
    from sqlalchemy import inspect
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from .extensions import db

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    on_disk = url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:")
    if on_disk and not Path(url.database).is_file():
        raise NoArchive(
            f"No archive found: there is no database at {url.database} (instance folder "
            f"{app.instance_path}). {where_to_point(app)}"
        )
    try:
        with app.app_context():
            # The accounts table: every archive has it (tests build theirs without Alembic).
            initialised = inspect(db.engine).has_table("user")
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise NoArchive(
            f"Could not open the archive's database {_safe_url(str(url))} (instance folder "
            f"{app.instance_path}): {reason}. {where_to_point(app)}"
        ) from None
    if not initialised:
        raise NoArchive(
            f"The database {_safe_url(str(url))} (instance folder {app.instance_path}) holds "
            f"no archive yet: run `{how_to_run()} init` first, or point the command at the "
            "archive with --instance PATH or OH_INSTANCE_PATH."
        )


#: Commands that run before (or without) an archive.
NO_ARCHIVE_NEEDED = frozenset({"init"})


def _guard(command: click.Command) -> None:
    """Check the archive is there just before ``command`` runs (after ``--help`` is handled,
    which needs no archive); groups guard each of their subcommands."""
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            _guard(sub)
        return
    callback = command.callback
    if callback is None or getattr(callback, "_oh_guarded", False):
        return

    import functools

    @functools.wraps(callback)
    def guarded(*args, **kwargs):
        from flask import has_app_context
        from flask.cli import ScriptInfo

        if has_app_context():
            app = current_app._get_current_object()
        else:
            app = click.get_current_context().ensure_object(ScriptInfo).load_app()
        check_archive(app)
        return callback(*args, **kwargs)

    guarded._oh_guarded = True  # type: ignore[attr-defined]
    command.callback = guarded


def guard_commands(app) -> None:
    """Give every command but ``init`` the archive check (``check_archive``); called by
    ``create_app`` after all commands are registered, so commands added by other areas
    (jobs, align...) are guarded too."""
    for name, command in app.cli.commands.items():
        if name not in NO_ARCHIVE_NEEDED:
            _guard(command)


@click.group("redactions")
def redactions_group() -> None:
    """Time-range redactions: list them, lift those whose date passed, make the silenced
    audio copies (the worker does both by itself)."""


@redactions_group.command("list")
@click.argument("accession", required=False)
@with_appcontext
def redactions_list_command(accession: str | None) -> None:
    """Every redaction (or ACCESSION's): range, reason, until."""
    from sqlalchemy import select

    from .extensions import db
    from .models import Interview, Redaction
    from .transcripts.timecode import format_timecode

    stmt = (
        select(Redaction, Interview.accession)
        .join(Interview)
        .order_by(Interview.accession, Redaction.start_ms)
    )
    if accession:
        stmt = stmt.where(Interview.accession == accession)
    rows = db.session.execute(stmt).all()
    for redaction, acc in rows:
        span = (
            f"{format_timecode(redaction.start_ms, style='hms')}-"
            f"{format_timecode(redaction.end_ms, style='hms')}"
        )
        until = f" until {redaction.until}" if redaction.until else ""
        click.echo(f"{redaction.id}\t{acc}\t{span}{until}\t{redaction.reason}")
    if not rows:
        click.echo("No redactions.")


@redactions_group.command("lift-expired")
@with_appcontext
def redactions_lift_expired_command() -> None:
    """Lift (audited) the redactions whose until date has passed."""
    from .services import consent
    from .transaction import unit_of_work

    with unit_of_work():
        count = consent.lift_expired()
    click.echo(f"{count} redaction{'' if count == 1 else 's'} lifted.")


@redactions_group.command("make-audio")
@with_appcontext
def redactions_make_audio_command() -> None:
    """Make every missing audio copy with the redacted ranges silenced."""
    from .services import redacted_audio

    made = redacted_audio.make_pending()
    click.echo(f"{made} silenced audio cop{'y' if made == 1 else 'ies'} made.")


@click.group("media")
def media_group() -> None:
    """Stored media files (recordings, attachments): where they live."""


@media_group.command("migrate")
@click.option(
    "--from",
    "source",
    type=click.Choice(["local", "s3"]),
    default="local",
    show_default=True,
    help="The storage to copy from.",
)
@click.option(
    "--to",
    "target",
    type=click.Choice(["local", "s3"]),
    required=True,
    help="The storage to copy to.",
)
@with_appcontext
def media_migrate_command(source: str, target: str) -> None:
    """Copy every stored file to another storage (MEDIA_STORAGE), checking each one's sha256.

    Resumable: run it again after an interruption and it copies only what is missing. The
    archive keeps using its current MEDIA_STORAGE meanwhile; once this reports no failure,
    set MEDIA_STORAGE to the new one and restart (README: "Media in an object store").
    """
    from flask import current_app

    from .media.migrate import migrate
    from .media.storage import open_storage

    if source == target:
        raise click.ClickException("--from and --to name the same storage: nothing to do.")
    try:
        stores = [
            open_storage({**current_app.config, "MEDIA_STORAGE": s}) for s in (source, target)
        ]
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    total = sum(1 for _ in stores[0].iter_keys())
    with click.progressbar(length=total, label=f"Copying media from {source} to {target}") as bar:
        stats = migrate(*stores, progress=lambda key: bar.update(1))
    click.echo(str(stats))
    if stats.damaged:
        sys.exit(1)


def register_cli(app) -> None:
    for command in (
        init_command,
        create_user_command,
        create_token_command,
        serve_command,
        worker_command,
        jobs_group,
        derivatives_group,
        redactions_group,
        load_sample_command,
        reindex_command,
        fixity_command,
        export_command,
        import_command,
        media_group,
    ):
        app.cli.add_command(command)
    from .align.cli import COMMANDS as align_commands  # align, transcribe

    for command in align_commands:
        app.cli.add_command(command)


def _create_app():
    from . import create_app

    return create_app()


def _set_instance(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        os.environ["OH_INSTANCE_PATH"] = value


@click.group(
    cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False
)
@click.version_option(package_name="oralhist")
@click.option(
    "--instance",
    metavar="PATH",
    is_eager=True,
    expose_value=False,
    callback=_set_instance,
    help="The archive's instance folder (default: instance/ in the current folder; "
    "or set OH_INSTANCE_PATH).",
)
def main() -> None:
    """oralhist: an archive for oral history interviews.

    Run from the project folder; works on instance/ and media/ there (or on the folder
    given by --instance / OH_INSTANCE_PATH). Start with
    `oralhist init`, then `oralhist create-user EMAIL --role admin`, then `oralhist serve`.
    """


# The Flask CLI's own --app/--env-file/--debug options mean nothing here: the archive is
# always this package, configured by instance/config.py and OH_ variables.
main.params = [p for p in main.params if p.name not in ("app", "env_file", "debug")]


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
