"""The one-step deposit in Chromium (#14 item 5): choose the audio (uploaded at once, with a
progress bar), fill in the essentials with a new narrator, add a transcript; a bad one is
refused with its file and line while the audio and the typed fields stay; then the deposit,
the job's progress and the notice when the proposed transcript is ready."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from oralhist.extensions import db
from oralhist.models import Interview, Notification, StagedAudio
from tests.deposit.conftest import BAD_SRT, TIMED_VTT, UNTIMED_TXT

from .conftest import sign_in

SAMPLE_MP3 = Path(__file__).resolve().parents[2] / "oralhist" / "sample" / "interview.mp3"

# Every change of the audio progress bar and message, as the page shows them.
WATCH = """() => {
  window.seen = [];
  const bar = document.getElementById('oh-audio-progress');
  const status = document.getElementById('oh-audio-status');
  const note = () => window.seen.push([bar.hidden, bar.value, status.textContent]);
  new MutationObserver(note).observe(status, {childList: true, characterData: true, subtree: true});
  new MutationObserver(note).observe(bar, {attributes: true});
}"""


def _choose_audio(page) -> None:
    page.evaluate(WATCH)
    page.set_input_files("#f-audio", str(SAMPLE_MP3))
    page.wait_for_selector("#oh-staged li", timeout=30_000)
    page.wait_for_function(
        "document.getElementById('oh-audio-status').textContent.startsWith('Uploaded')"
    )


def _fill_essentials(page) -> None:
    page.fill("#f-title", "Mary Smith remembers the bakery")
    page.fill("#p-name-1", "Mary Smith")  # the narrator row comes first
    page.fill("#p-name-2", "Ruth Adler")
    page.fill("#f-date_recorded", "1957-03")
    page.check("input[name=access_level][value=restricted]")


def test_a_refused_transcript_keeps_the_audio_and_what_was_typed(app, page, users, tmp_path):
    sign_in(page, "contributor@example.org")
    page.goto(page.base + "/deposit")
    assert not page.is_visible("#oh-audio-send")  # with JavaScript, files go up when chosen
    _choose_audio(page)
    seen = page.evaluate("window.seen")
    assert any(
        (not hidden and 0 < value < 100) or "Uploading" in text for hidden, value, text in seen
    )
    assert "interview.mp3" in page.inner_text("#oh-staged")
    _fill_essentials(page)
    bad = tmp_path / "broken.srt"
    bad.write_text(BAD_SRT)
    page.set_input_files("#f-transcript", str(bad))
    page.click("#oh-deposit-submit")
    page.wait_for_load_state()
    alert = page.inner_text("p.flash.error")
    assert "broken.srt" in alert and "line 6" in alert and "Your audio is kept" in alert
    assert page.input_value("#f-title") == "Mary Smith remembers the bakery"
    assert page.input_value("#p-name-1") == "Mary Smith"
    assert page.is_checked("input[name=access_level][value=restricted]")
    assert page.is_checked("#oh-staged input[name=staged]")
    with app.app_context():
        assert db.session.query(Interview).count() == 0
        assert db.session.query(StagedAudio).count() == 1
    good = tmp_path / "timed.vtt"
    good.write_text(TIMED_VTT)
    page.set_input_files("#f-transcript", str(good))
    page.click("#oh-deposit-submit")
    page.wait_for_load_state()
    assert "Deposited" in page.inner_text(".flashes") and "already time-coded" in page.content()
    assert "Mary Smith remembers the bakery" in page.inner_text("h1")
    # The one console line is Chromium reporting the refused form's 422 itself.
    assert [e for e in page.console_errors if "status of 422" not in e] == []
    assert page.outside == []


def test_deposit_starts_alignment_shows_progress_and_tells_the_depositor(
    app, page, users, tmp_path, monkeypatch
):
    jobs = pytest.importorskip("oralhist.jobs")
    from tests.deposit.test_jobs import stub_handlers

    stub_handlers(jobs, monkeypatch)
    sign_in(page, "contributor@example.org")
    page.goto(page.base + "/deposit")
    # The navigation offers Deposit to a contributor.
    assert page.is_visible("nav.bar a[href='/deposit']")
    _choose_audio(page)
    _fill_essentials(page)
    transcript = tmp_path / "typed-years-ago.txt"
    transcript.write_text(UNTIMED_TXT)
    page.set_input_files("#f-transcript", str(transcript))
    page.click("#oh-deposit-submit")
    page.wait_for_load_state()
    assert "aligning the transcript to the audio" in page.inner_text(".flashes")
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        assert interview.title == "Mary Smith remembers the bakery"
    # The job's progress is on the page; the worker runs it; the bar reaches the end.
    job = page.locator("section.jobs li.job[data-job-kind=align]")
    assert "Aligning the transcript to the audio" in job.inner_text()
    assert job.get_attribute("data-job-status") == "queued"
    assert page.get_attribute("section.jobs li.job[data-job-kind=align] progress", "value") == "0"
    jobs.run_pending(app)
    # jobs.js follows the job live: the bar reaches 100 and the result is named.
    page.wait_for_selector(
        "section.jobs li.job[data-job-kind=align][data-job-status=done]", timeout=20_000
    )
    assert (
        page.eval_on_selector("section.jobs li.job[data-job-kind=align] progress", "p => p.value")
        == 100
    )
    page.wait_for_selector(
        "section.jobs li.job[data-job-kind=align] .job-result:has-text('proposed version 2')"
    )
    # The notice: a badge in the navigation and the notification on the account page.
    page.reload()
    badge = page.text_content("nav.bar a[href='/account/'] .count")
    assert badge == "1 unread notifications"
    page.click("nav.bar a[href='/account/']")
    page.wait_for_load_state()
    assert "aligned to the audio" in page.content()
    assert "check the proposed transcript" in page.content()
    with app.app_context():
        (notice,) = db.session.scalars(select(Notification)).all()
        assert notice.user_id == users["contributor"]
    assert page.console_errors == [] and page.outside == []


def test_people_are_suggested_as_a_name_is_typed(app, page, users):
    from oralhist.models import Person

    with app.app_context():
        person = Person(name="Ruth Adler", sort_name="Adler, Ruth", dates="1931-2019")
        db.session.add(person)
        db.session.commit()
        ruth = person.id
    sign_in(page, "contributor@example.org")
    page.goto(page.base + "/interviews/new")
    assert page.inner_text("label[for=p-name-1]") == "Narrator (interviewee)"
    assert page.input_value("#p-role-2") == "interviewer"
    page.type("#p-name-2", "Ruth")
    page.wait_for_selector("#oh-people-list option[value='Ruth Adler']", state="attached")
    page.fill("#p-name-2", "Ruth Adler")
    hidden = "#p-name-2 ~ input[name=participant_person]"
    assert page.input_value(hidden) == str(ruth)
    page.fill("#p-name-2", "Ruth Adlington")  # changed: a new person, not Ruth Adler
    assert page.input_value(hidden) == ""
    page.fill("#p-name-2", "Ruth Adler")
    rows = page.locator("#oh-participants .participant").count()
    page.click("text=Add another person")
    assert page.locator("#oh-participants .participant").count() == rows + 1
    assert page.evaluate("() => document.activeElement.id") == f"p-name-{rows + 1}"
    page.fill(f"#p-name-{rows + 1}", "Jo Bloggs")
    page.fill("#f-title", "With people")
    page.fill("#p-name-1", "Mary Smith")
    page.click("main button:has-text('Save')")
    page.wait_for_load_state()
    with app.app_context():
        interview = db.session.scalar(select(Interview))
        assert [(p.person.name, p.role) for p in interview.participants] == [
            ("Mary Smith", "interviewee"),
            ("Ruth Adler", "interviewer"),
            ("Jo Bloggs", "other"),
        ]
        assert interview.participants[1].person_id == ruth
    assert page.console_errors == [] and page.outside == []
