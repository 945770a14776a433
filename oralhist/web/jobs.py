"""Background jobs on the pages: the interview page's progress panel
(``templates/jobs/_progress.html``, kept live by ``static/jobs.js`` polling the jobs API)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from .. import jobs
from ..models import Interview
from .catalogue import interview_panel

bp = Blueprint("jobs", __name__)


@interview_panel
def _jobs_panel(interview: Interview, viewer: Any) -> dict:
    return {
        "interview_jobs": [
            {**jobs.job_json(job), "live": not job.finished}
            for job in jobs.interview_jobs(interview, viewer)
        ]
    }
