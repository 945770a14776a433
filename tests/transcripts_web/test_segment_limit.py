"""The limit on segments per transcript (issue 12 item 7): a clear 422 naming the limit,
nothing saved, and a higher limit that only an archivist may ask for (``large=true``)."""

from __future__ import annotations

from sqlalchemy import func, select

from oralhist.extensions import db
from oralhist.models import Segment, Transcript

from .conftest import upload


def _turns(n: int) -> str:
    return "".join(f"SPEAKER {i % 2}: Turn number {i} of the long file.\n\n" for i in range(n))


def _stored(app) -> tuple[int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Transcript)),
            db.session.scalar(select(func.count()).select_from(Segment)),
        )


def test_the_default_limit_is_a_setting_of_50000(app):
    assert app.config["TRANSCRIPT_MAX_SEGMENTS"] == 50_000
    assert app.config["TRANSCRIPT_MAX_SEGMENTS_LARGE"] == 1_000_000


def test_over_the_limit_is_a_422_naming_it_and_nothing_is_saved(app, browser, make_interview):
    app.config.update(TRANSCRIPT_MAX_SEGMENTS=5, TRANSCRIPT_MAX_SEGMENTS_LARGE=8)
    interview_id = make_interview(state="draft")
    contributor = browser("contributor")
    assert upload(contributor, interview_id, _turns(5), "five.txt").status_code == 201
    before = _stored(app)
    for dry_run in ("false", "true"):
        response = upload(contributor, interview_id, _turns(6), "six.txt", dry_run=dry_run)
        assert response.status_code == 422
        error = response.get_json()["error"]
        assert "six.txt has 6 segments" in error["message"]
        assert "at most 5 (TRANSCRIPT_MAX_SEGMENTS)" in error["message"]
        assert "large=true" in error["message"]
        assert error["details"]["max_segments"] == 5
    assert _stored(app) == before


def test_only_an_archivist_may_import_a_large_transcript(app, browser, make_interview):
    app.config.update(TRANSCRIPT_MAX_SEGMENTS=5, TRANSCRIPT_MAX_SEGMENTS_LARGE=8)
    interview_id = make_interview(state="draft")
    refused = upload(browser("contributor"), interview_id, _turns(6), "six.txt", large="true")
    assert refused.status_code == 403
    assert "Only archivists" in refused.get_json()["error"]["message"]
    archivist = browser("archivist")
    allowed = upload(archivist, interview_id, _turns(8), "eight.txt", large="true")
    assert allowed.status_code == 201, allowed.get_json()
    assert allowed.get_json()["segments"] == 8
    beyond = upload(archivist, interview_id, _turns(9), "nine.txt", large="true")
    assert beyond.status_code == 422
    assert "at most 8 (TRANSCRIPT_MAX_SEGMENTS_LARGE)" in beyond.get_json()["error"]["message"]


def test_the_import_form_carries_the_large_option_to_the_confirmation(app, browser, make_interview):
    import io
    import re

    app.config.update(TRANSCRIPT_MAX_SEGMENTS=5, TRANSCRIPT_MAX_SEGMENTS_LARGE=8)
    interview_id = make_interview(state="draft")
    archivist = browser("archivist")
    url = f"/interviews/{interview_id}/transcript/import"
    form = archivist.get(url).get_data(as_text=True)
    assert 'name="large"' in form and "5 segments" in form
    assert 'name="large"' not in browser("contributor").get(url).get_data(as_text=True)
    plain = archivist.post(url, data={"file": (io.BytesIO(_turns(7).encode()), "seven.txt")})
    assert plain.status_code == 422
    assert "seven.txt has 7 segments" in plain.get_data(as_text=True)
    preview = archivist.post(
        url, data={"file": (io.BytesIO(_turns(7).encode()), "seven.txt"), "large": "1"}
    )
    assert preview.status_code == 200
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True)).group(1)
    done = archivist.post(f"{url}/confirm", data={"token": token})
    assert done.status_code == 302
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Segment)) == 7
