"""The marker-word leak scan for the text of jobs: a job's stage, error and result (which may
quote an interview's words) reach only the user who started it and archivists, on the
interview page and in the API, whatever the interview's level."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from oralhist.extensions import db
from oralhist.models import Interview, Job
from oralhist.models.types import utcnow

from .conftest import enqueue

ROLES = (None, "researcher", "contributor", "contributor2", "archivist", "admin")


@pytest.mark.parametrize(("level", "status"), [("open", "published"), ("closed", "published")])
@pytest.mark.parametrize("starter", ["contributor", "archivist"])
def test_job_text_reaches_only_its_starter_and_archivists(
    app, users, browser, level, status, starter
):
    with app.app_context():
        interview = Interview(
            title="Leak scan",
            accession="OH-LEAK-1",
            access_level=level,
            status=status,
            created_by_id=users["contributor"],
        )
        db.session.add(interview)
        db.session.commit()
        iid = interview.id
    ids = {}
    for state, column in (("running", "stage"), ("failed", "error"), ("done", "result")):
        job_id = enqueue(app, "test.count", iid, role=starter, users=users)
        word = f"zqjob{state}mk"
        value = {"summary": word, "url": "/"} if column == "result" else word
        finished = None if state == "running" else utcnow()
        with app.app_context():
            db.session.execute(
                update(Job)
                .where(Job.id == job_id)
                .values(status=state, finished_at=finished, **{column: value})
            )
            db.session.commit()
        ids[word] = job_id
    may = {starter, "archivist", "admin"}
    for role in ROLES:
        client = browser(role)
        page = client.get(f"/interviews/{iid}").get_data(as_text=True)
        for word, job_id in ids.items():
            api = client.get(f"/api/v1/jobs/{job_id}").get_data(as_text=True)
            if role in may:
                assert word in api, (role, word)
                if word != "zqjobdonemk":  # a result's own words are not on the page
                    assert word in page, (role, word)
            else:
                assert word not in api, (role, word)
                assert word not in page, (role, word)
