"""API: background jobs (status and progress, cancel, retry).

Who may see a job, cancel or retry it: its creator and archivists (``access.policy``
``can_see_job``); anyone else gets 404, as for a job that does not exist.
"""

from __future__ import annotations

from flask import jsonify

from ... import jobs
from ...access import current_viewer
from . import bp


@bp.get("/jobs/<int:job_id>")
def get_job(job_id: int):
    """``{id, kind, title, status, progress, stage, result, error, interview_id,
    recording_id, created_at, started_at, finished_at, attempts, cancel_requested,
    retry_of}``."""
    return jsonify(jobs.job_json(jobs.get_job(job_id, current_viewer())))


@bp.post("/jobs/<int:job_id>/cancel")
def cancel_job(job_id: int):
    """A queued job is cancelled at once (200, status ``cancelled``); a running one is
    asked to stop (202, ``cancel_requested``: its status becomes ``cancelled`` within a
    heartbeat). A finished job: 409."""
    viewer = current_viewer()
    job = jobs.cancel(jobs.get_job(job_id, viewer), viewer)
    return jsonify(jobs.job_json(job)), 200 if job.status == "cancelled" else 202


@bp.post("/jobs/<int:job_id>/retry")
def retry_job(job_id: int):
    """Queue a failed or cancelled job again: 202 with the new job (``retry_of`` names
    this one). Anything else: 409."""
    viewer = current_viewer()
    new = jobs.retry(jobs.get_job(job_id, viewer), viewer)
    return jsonify(jobs.job_json(new)), 202
